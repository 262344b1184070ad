"""`mds-adapter convert`, `redcap dictionary`, `excel template`, and the format registry."""

from __future__ import annotations

import io
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from adapter.cli import app
from adapter.mds.dictionary import element
from adapter.mds.record import MdsRecord
from adapter.mds.synth import generate
from adapter.sources.formats import FORMATS, guess_format, read, write
from adapter.sources.jsonl import dumps, read_jsonl
from tests.conftest import GOLDEN

runner = CliRunner()
SITES = element("metastasis_sites_at_diagnosis").codes


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def records_of(path: Path) -> list[MdsRecord]:
    with path.open("rb") as f:
        return [r for r in read_jsonl(f) if isinstance(r, MdsRecord)]


@pytest.mark.parametrize(
    ("name", "head", "expected"),
    [
        ("a.jsonl", None, "jsonl"),
        ("a.ndjson", b"{", "jsonl"),
        ("a.json", b' [{"record_id": "1"}]', "redcap-json"),
        ("a.json", b'{"record_id": "1"}\n', "jsonl"),
        ("a.json", None, "redcap-json"),
        ("a.XLSX", None, "xlsx"),
        ("a.csv", None, "csv"),
        ("a.csv", b"record_id,sex,tumour_size_cm\r\nA,male,3\r\n", "csv"),
        ("a.csv", b"\xef\xbb\xbfrecord_id,sex,metastasis_sites_at_dx___lung\n", "redcap-raw"),
        ("a.csv", b"record_id,redcap_event_name,sex\n", "redcap-raw"),
        ("a.csv", b"Record ID,Sex,Tumour size (cm)\n", "redcap-labels"),
        ("a.csv", b"", "csv"),
        ("a.IDEA4RC.csv", None, "idea4rc-table"),
        ("a.idea4rc.csv", b"record_id,sex\n", "idea4rc-table"),  # the name is asked for
        (
            "a.csv",
            b"patient_id;original_source;core_variable;date_ref;value;record_id;"
            b"linked_to;quality;types\r\n",
            "idea4rc-table",
        ),
        ("a.parquet", None, None),
    ],
)
def test_formats_are_guessed_from_extension_and_head(
    name: str, head: bytes | None, expected: str | None
) -> None:
    assert guess_format(name, head) == expected


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_reads_what_it_writes(fmt: str) -> None:
    records = [record for record, _ in generate(300, 5, 0.1)]
    out = io.BytesIO()
    assert write(fmt, records, out) == 300  # type: ignore[arg-type]
    assert not out.closed
    stream = io.BytesIO(out.getvalue())
    back = list(read(fmt, stream))  # type: ignore[arg-type]
    assert not stream.closed  # the caller owns the stream
    assert back == records


def test_convert_redcap_export_with_three_bad_rows(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    code, stdout, stderr = run(
        "convert", str(GOLDEN / "redcap-raw-three-bad-rows.csv"), "-o", str(out)
    )
    assert code == 1
    assert stdout.splitlines() == [
        'error   row 3, field sex, record OSL-002: sex = "M": expected one of male, female, '
        "other, unknown",
        "error   row 5, fields metastasis_sites_at_dx, tumour_size_cm, record OSL-004: "
        'metastasis_sites_at_dx___bone = "yes": expected 1 or 0; tumour_size_cm = "11,5": '
        "expected a number in cm",
        'error   row 7, field surgery_date, record OSL-005: surgery_date = "2024-02-30": '
        "expected a date YYYY-MM-DD: day value is outside expected range",
    ]
    assert [r.record_id for r in records_of(out)] == ["OSL-001", "OSL-003", "OSL-006"]
    assert stderr.strip().endswith("6 records read from "
                                   f"{GOLDEN / 'redcap-raw-three-bad-rows.csv'} (redcap-raw): "
                                   f"3 written to {out} (jsonl), 3 rejected")  # fmt: skip


def test_convert_json_report(tmp_path: Path) -> None:
    out = tmp_path / "out.xlsx"
    code, stdout, _ = run("convert", str(GOLDEN / "redcap-raw-three-bad-rows.csv"), "-o", str(out),
                          "--json")  # fmt: skip
    assert code == 1
    lines = [orjson.loads(line) for line in stdout.splitlines()]
    assert [(x["record_id"], x["elements"]) for x in lines[:-1]] == [
        ("OSL-002", ["sex"]),
        ("OSL-004", ["metastasis_sites_at_diagnosis", "tumour_size_cm"]),
        ("OSL-005", ["surgery_date"]),
    ]
    assert lines[-1] == {"type": "summary", "read": 6, "written": 3, "rejected": 3,
                         "warnings": 0, "from": "redcap-raw", "to": "xlsx"}  # fmt: skip


@pytest.mark.parametrize(
    ("to", "name"),
    [("redcap-raw", "raw.csv"), ("redcap-labels", "labels.csv"), ("xlsx", "form.xlsx"),
     ("redcap-json", "api.json"), ("csv", "table.csv")],
)  # fmt: skip
def test_1000_records_convert_there_and_back(tmp_path: Path, to: str, name: str) -> None:
    source = tmp_path / "records.jsonl"
    source.write_bytes(b"".join(dumps(r) + b"\n" for r, _ in generate(1000, 1, 0.1)))
    middle, back = tmp_path / name, tmp_path / "back.jsonl"
    assert run("convert", str(source), "-o", str(middle), "--to", to)[0] == 0
    code, stdout, _ = run("convert", str(middle), "-o", str(back))  # format guessed
    assert (code, stdout) == (0, "")
    expected = records_of(source)
    assert records_of(back) == expected


def test_convert_bad_options_and_unreadable_input(tmp_path: Path) -> None:
    source = tmp_path / "r.jsonl"
    source.write_text('{"record_id": "A"}\n')
    code, _, stderr = run("convert", str(source), "-o", str(tmp_path / "x.parquet"))
    assert code == 2 and "cannot tell the format of" in stderr
    code, _, stderr = run("convert", str(source), "-o", str(tmp_path / "x.csv"), "--to", "sav")
    assert code == 2 and "sav: expected one of jsonl, csv, redcap-raw" in stderr
    code, _, stderr = run("convert", str(source), "-o", str(tmp_path / "x.csv"), "--from", "xlsx")
    assert code == 2 and "not an Excel workbook (.xlsx)" in stderr


def test_redcap_dictionary_and_excel_template_commands(tmp_path: Path) -> None:
    code, _, stderr = run("redcap", "dictionary", "-o", str(tmp_path / "d.csv"))
    assert code == 0 and "wrote 51 REDCap fields" in stderr
    assert (tmp_path / "d.csv").read_text().startswith("Variable / Field Name,Form Name,")
    code, _, stderr = run("excel", "template", "-o", str(tmp_path / "f.xlsx"))
    assert code == 0 and "wrote the MDS form" in stderr
    with (tmp_path / "f.xlsx").open("rb") as f:
        assert list(read("xlsx", f)) == []


def test_convert_with_a_centres_redcap_dictionary(tmp_path: Path) -> None:
    dictionary = tmp_path / "d.csv"
    run("redcap", "dictionary", "-o", str(dictionary))
    dictionary.write_text(dictionary.read_text().replace("Diagnosis date,,,date_ymd",
                                                         "Diagnosis date,,,date_mdy"))  # fmt: skip
    export = tmp_path / "export.csv"
    export.write_text("record_id,diagnosis_date,redcap_event_name\nA,03/11/2024,baseline\n")
    out = tmp_path / "out.jsonl"
    code, _, _ = run("convert", str(export), "-o", str(out), "--redcap-dictionary", str(dictionary))
    assert code == 0
    assert out.read_bytes() == b'{"record_id":"A","diagnosis_date":"2024-03-11"}\n'
