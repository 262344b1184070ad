"""Readers are forgiving of the file and strict about the data (JSON Lines and CSV)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from adapter.errors import Finding, SourceError
from adapter.mds.record import MdsRecord
from adapter.sources.csv_table import read_csv, write_csv
from adapter.sources.jsonl import dumps, read_jsonl
from tests.conftest import GOLDEN, golden_dict, vary

SIZE = "expected a number in cm greater than 0"
SITES = (
    "expected a list of distinct codes from lung, bone, lymph_node_regional, "
    "lymph_node_distant, soft_tissue, liver, brain, pleura, peritoneum, other, unknown"
)


def read_golden(name: str) -> list[MdsRecord | Finding]:
    with (GOLDEN / name).open("rb") as f:
        return list(read_jsonl(f))


def test_bad_lines_each_give_one_finding_and_good_lines_are_kept() -> None:
    # The file has a byte-order mark, CRLF line ends and a blank line.
    items = read_golden("bad-lines.jsonl")
    findings = [i for i in items if isinstance(i, Finding)]
    records = [i for i in items if isinstance(i, MdsRecord)]
    assert [r.record_id for r in records] == ["OK1"]
    assert records[0].tumour_size_cm == 11.5 and records[0].birth_date == "1961"
    assert [(f.location, f.record_id, f.code, f.elements) for f in findings] == [
        ("line 1", "A1", "mds.invalid-record",
         ("sex", "diagnosis_date", "tumour_size_cm", "colour", "tumor_size_cm")),
        ("line 3", "A2", "mds.invalid-record",
         ("institution_country", "birth_date", "histology_icdo3",
          "metastasis_sites_at_diagnosis", "radiotherapy_fractions")),
        ("line 4", None, "source.invalid-json", ()),
        ("line 5", None, "source.not-an-object", ()),
        ("line 6", None, "mds.invalid-record", ("record_id",)),
        ("line 7", "A3", "mds.invalid-record",
         ("metastasis_sites_at_diagnosis", "radiotherapy_total_dose_gy")),
    ]  # fmt: skip
    assert findings[0].message == (
        'sex = "M": expected one of male, female, other, unknown; '
        'diagnosis_date = "2024-02-30": expected a date YYYY-MM-DD: day value is outside '
        f"expected range; tumour_size_cm = -3: {SIZE}; colour is not an MDS element; "
        "tumor_size_cm is not an MDS element (did you mean tumour_size_cm?)"
    )
    assert findings[1].message == (
        'institution_country = "XX": expected an ISO 3166-1 alpha-2 country code, e.g. NO; '
        'birth_date = "1961-13": month 13 does not exist; expected a date YYYY, YYYY-MM or '
        'YYYY-MM-DD; histology_icdo3 = "8805-3": expected an ICD-O-3 morphology code with '
        "behaviour digit (0, 1, 2, 3, 6 or 9), e.g. 8805/3; "
        f'metastasis_sites_at_diagnosis[1] = "moon": {SITES}; '
        "radiotherapy_fractions = 2.0: expected a whole number"
    )
    assert findings[1].values[0] == "XX"
    assert findings[4].message == "record_id is required"
    assert findings[5].message == (
        'metastasis_sites_at_diagnosis = ["lung","lung"]: repeated code lung; '
        f'{SITES}; radiotherapy_total_dose_gy = "50": expected a number in Gy'
    )
    assert findings[2].raw == "not json"  # kept for quarantine, not lost


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('"1961-02-29"', 'birth_date = "1961-02-29": day 29 does not exist in 1961-02'),
        ('"61"', 'birth_date = "61": expected YYYY, YYYY-MM or YYYY-MM-DD'),
        ("1961", "birth_date = 1961: expected a date YYYY, YYYY-MM or YYYY-MM-DD"),
    ],
)
def test_partial_birth_dates_are_checked(value: str, message: str) -> None:
    [f] = list(read_jsonl([b'{"record_id": "X", "birth_date": ' + value.encode() + b"}"]))
    assert isinstance(f, Finding)
    assert f.message.startswith(message)


@pytest.mark.parametrize("birth", ["1961", "1961-02", "1960-02-29"])
def test_partial_birth_dates_are_kept_as_written(birth: str) -> None:
    record = vary(golden_dict(), birth_date=birth)
    assert b'"birth_date":"' + birth.encode() + b'"' in dumps(record)


def test_types_are_not_coerced() -> None:
    lines = [
        b'{"record_id": 12}',
        b'{"record_id": "X", "radiotherapy_fractions": true}',
        b'{"record_id": "X", "tumour_size_cm": NaN}',
        b'{"record_id": "X", "diagnosis_date": "2024-03-11T00:00:00"}',
        b'{"record_id": " X"}',
    ]
    found = [f for f in read_jsonl(lines) if isinstance(f, Finding)]
    # NaN is not JSON; the parser's own wording (after the prefix) varies by orjson version
    assert found[2].code == "source.invalid-json"
    assert found[2].message.startswith("not valid JSON: unexpected character")
    assert [f.message for f in found[:2] + found[3:]] == [
        "record_id = 12: expected text",
        "radiotherapy_fractions = true: expected a whole number",
        'diagnosis_date = "2024-03-11T00:00:00": expected a date YYYY-MM-DD: unexpected '
        "extra characters at the end of the input",
        'record_id = " X": text must not start or end with white space; expected text',
    ]


def test_golden_record_json_round_trip_is_exact() -> None:
    raw = (GOLDEN / "record-osl-000123.json").read_bytes()
    [record] = list(read_jsonl([raw.replace(b"\n", b"")]))
    assert isinstance(record, MdsRecord)
    assert list(read_jsonl([dumps(record)])) == [record]
    assert dumps(record).startswith(b'{"record_id":"OSL-000123","institution":"OUS-RAD"')
    assert b'"radiotherapy_total_dose_gy":50,' in dumps(record)  # not 50.0


def test_csv_round_trip_and_types_from_text() -> None:
    record = vary(golden_dict(), metastasis_at_diagnosis="distant",
                  metastasis_sites_at_diagnosis=["lung", "bone"])  # fmt: skip
    out = io.StringIO()
    write_csv([record], out)
    header, row = out.getvalue().splitlines()
    assert header.startswith("record_id,institution,institution_country,birth_date,sex,")
    assert ",11.5," in row and ",lung;bone," in row and ",50,25," in row
    assert list(read_csv(io.StringIO(out.getvalue()))) == [record]


def test_csv_errors_name_row_and_keep_good_rows() -> None:
    text = (
        "record_id;tumour_size_cm;sex;diagnosis_date\n"
        "R1;11,5;male;2024-03-11\n"
        "\n"
        "R2;12.5;male;11/03/2024\n"
        "R3;-1;male;\n"
        "R4;4;female;2024-01-01;extra\n"
        "R5;4;female;2024-01-01\n"
    )
    items = list(read_csv(io.StringIO(text)))
    assert [i.record_id for i in items if isinstance(i, MdsRecord)] == ["R5"]
    assert [(f.location, f.record_id, f.message) for f in items if isinstance(f, Finding)] == [
        ("row 2", "R1", 'tumour_size_cm = "11,5": expected a number in cm'),
        ("row 4", "R2", 'diagnosis_date = "11/03/2024": expected a date YYYY-MM-DD: '
         "invalid character in year"),
        ("row 5", "R3", f"tumour_size_cm = -1.0: {SIZE}"),
        ("row 6", "R4", "column 5 is not an MDS element"),
    ]  # fmt: skip


def test_csv_header_problems_stop_the_read() -> None:
    with pytest.raises(SourceError, match="repeats column sex"):
        list(read_csv(io.StringIO("record_id,sex,sex\nA,male,male\n")))
    with pytest.raises(SourceError, match="empty"):
        list(read_csv(io.StringIO("")))


def test_golden_files_exist() -> None:
    assert Path(GOLDEN / "bad-lines.jsonl").stat().st_size > 0
