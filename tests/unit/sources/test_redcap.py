"""REDCap: the data dictionary the adapter writes, and the exports it reads back."""

from __future__ import annotations

import csv
import io
import re

import pytest

from adapter.errors import Finding, Level, SourceError
from adapter.mds.dictionary import element, elements
from adapter.mds.record import MdsRecord
from adapter.mds.synth import generate
from adapter.sources.forms import code_label, element_label, label_codes
from adapter.sources.redcap import (
    read_redcap_csv,
    read_redcap_json,
    redcap_header_kind,
    write_redcap_csv,
    write_redcap_json,
)
from adapter.sources.redcap_dictionary import (
    COLUMNS,
    SHORT_NAMES,
    element_of,
    mds_fields,
    read_redcap_dictionary,
    variable_of,
    write_redcap_dictionary,
)
from tests.conftest import GOLDEN, golden_dict, vary

SITES = element("metastasis_sites_at_diagnosis").codes


def dictionary_rows() -> list[dict[str, str]]:
    out = io.StringIO()
    assert write_redcap_dictionary(out) == 51
    return list(csv.DictReader(io.StringIO(out.getvalue())))


def test_checkboxes_give_sites_back_in_dictionary_order() -> None:
    """A declared loss (docs/sources.md): a multi-select has no order, REDCap keeps none."""
    record = vary(golden_dict(), metastasis_at_diagnosis="distant",
                  metastasis_sites_at_diagnosis=["brain", "lung"])  # fmt: skip
    text = io.StringIO()
    write_redcap_csv([record], text, labels=False)
    [back] = read(text.getvalue())
    assert isinstance(back, MdsRecord)
    assert back.metastasis_sites_at_diagnosis == ["lung", "brain"]
    assert back == record.model_copy(update={"metastasis_sites_at_diagnosis": ["lung", "brain"]})


def read(text: str) -> list[MdsRecord | Finding]:
    return list(read_redcap_csv(io.StringIO(text)))


def test_dictionary_has_one_field_per_element_in_redcap_layout() -> None:
    out = io.StringIO()
    write_redcap_dictionary(out)
    assert next(csv.reader(io.StringIO(out.getvalue()))) == list(COLUMNS)
    rows = dictionary_rows()
    assert sorted(element_of(r["Variable / Field Name"]) for r in rows) == sorted(
        e.name for e in elements()
    )
    assert rows[0]["Variable / Field Name"] == "record_id"  # REDCap's record id comes first
    assert [r["Form Name"] for r in rows] == sorted(
        (r["Form Name"] for r in rows), key=["patient", "tumour", "treatment", "outcome"].index
    )  # a form's fields are together
    for row in rows:
        e = element(element_of(row["Variable / Field Name"]))
        kind = row["Field Type"]
        assert kind == {"code_list": "checkbox", "code": "text" if e.is_open_code else "radio"}.get(
            e.type, "text"
        )
        choices = [
            c.split(",")[0].strip()
            for c in row["Choices, Calculations, OR Slider Labels"].split("|")
            if c
        ]
        assert tuple(choices) == (() if e.is_open_code else e.codes)
        assert all(re.fullmatch(r"[A-Za-z0-9_]+", c) for c in choices)
        assert row["Field Annotation"] == f"MDS element {e.name}"


def test_dictionary_rows_read_as_a_centre_would_see_them() -> None:
    rows = {r["Variable / Field Name"]: r for r in dictionary_rows()}

    def show(name: str) -> list[str]:
        return [v for k, v in rows[name].items() if v and k not in ("Field Annotation",)]

    assert show("sex") == [
        "sex",
        "patient",
        "radio",
        "Sex",
        "male, Male | female, Female | other, Other | unknown, Unknown",
    ]
    assert show("tumour_size_cm") == [
        "tumour_size_cm",
        "tumour",
        "text",
        "Tumour size (cm)",
        "cm, greater than 0",
        "number",
        "0",
    ]
    assert show("age_at_diagnosis") == [
        "age_at_diagnosis",
        "patient",
        "text",
        "Age at diagnosis (years)",
        "years",
        "integer",
        "0",
        "130",
    ]
    assert show("birth_date") == [
        "birth_date",
        "patient",
        "text",
        "Birth date",
        "YYYY, YYYY-MM or YYYY-MM-DD (the year alone is enough)",
        "y",
    ]
    assert show("surgery_date") == [
        "surgery_date",
        "treatment",
        "text",
        "Surgery date",
        "date_ymd",
        "[surgery_performed] = 'yes'",
    ]
    assert rows["metastasis_sites_at_dx"]["Branching Logic (Show field only if...)"] == (
        "[metastasis_at_diagnosis] = 'distant' or [metastasis_at_diagnosis] = 'regional_nodes_only'"
    )
    assert rows["distant_metastasis_date"]["Branching Logic (Show field only if...)"] == (
        "[distant_mets_after_dx] = 'yes'"
    )
    assert rows["histology_icdo3"]["Field Note"] == (
        "ICD-O-3 morphology with behaviour, e.g. 8805/3 (sarcoma list: mds-notes.md 4.2)"
    )
    assert rows["record_id"]["Required Field?"] == "y"
    assert rows["diagnostic_confirmation"]["Section Header"] == "Extension elements (optional)"


def test_short_names_are_a_fixed_reversible_table() -> None:
    variables = [variable_of(e.name) for e in elements()]
    assert all(re.fullmatch(r"[a-z][a-z0-9_]{0,25}", v) for v in variables)
    assert len(set(variables)) == len(variables)
    assert sorted(SHORT_NAMES) == sorted(e.name for e in elements() if len(e.name) > 26)
    assert all(element_of(variable_of(e.name)) == e.name for e in elements())


def test_labels_are_derived_and_read_back_to_codes() -> None:
    assert code_label("wide_resection_limb_salvage") == "Wide resection limb salvage"
    assert code_label("GX_unknown") == "GX unknown" and code_label("T1a") == "T1a"
    assert element_label(element("primary_site_icdo3")) == "Primary site ICD-O-3"
    assert element_label(element("radiotherapy_total_dose_gy")) == "Radiotherapy total dose (Gy)"
    for e in elements():
        assert label_codes(e.name) == {code_label(c): c for c in e.codes}
        assert len(label_codes(e.name)) == len(e.codes)  # injective: labels round-trip
        # no label is another code of the element (the reader tries codes first)
        assert all(lb not in e.codes or c == lb for lb, c in label_codes(e.name).items())
    labels = [f.label for f in mds_fields()]
    assert len(set(labels)) == len(labels)


def test_export_with_three_bad_rows_gives_three_errors_and_keeps_the_rest() -> None:
    with (GOLDEN / "redcap-raw-three-bad-rows.csv").open(encoding="utf-8", newline="") as f:
        items = list(read_redcap_csv(f))
    assert [i.record_id for i in items if isinstance(i, MdsRecord)] == [
        "OSL-001",
        "OSL-003",
        "OSL-006",
    ]
    assert [(f.location, f.record_id, f.elements, f.values, f.message)
            for f in items if isinstance(f, Finding)] == [
        ("row 3, field sex", "OSL-002", ("sex",), ("M",),
         'sex = "M": expected one of male, female, other, unknown'),
        ("row 5, fields metastasis_sites_at_dx, tumour_size_cm", "OSL-004",
         ("metastasis_sites_at_diagnosis", "tumour_size_cm"), ("yes", "11,5"),
         'metastasis_sites_at_dx___bone = "yes": expected 1 or 0; '
         'tumour_size_cm = "11,5": expected a number in cm'),
        ("row 7, field surgery_date", "OSL-005", ("surgery_date",), ("2024-02-30",),
         'surgery_date = "2024-02-30": expected a date YYYY-MM-DD: day value is outside '
         "expected range"),
    ]  # fmt: skip
    osl3 = next(i for i in items if isinstance(i, MdsRecord) and i.record_id == "OSL-003")
    assert osl3.metastasis_sites_at_diagnosis == ["lung", "bone"]
    assert str(osl3.systemic_therapy_start_date) == "2023-11-20"  # short name read back
    assert osl3.disease_status_last_followup == "AWD"


def test_labels_export_reads_as_the_raw_one() -> None:
    record = vary(golden_dict(), metastasis_at_diagnosis="distant",
                  metastasis_sites_at_diagnosis=["lung", "pleura"])  # fmt: skip
    raw, labels = io.StringIO(), io.StringIO()
    write_redcap_csv([record], raw)
    write_redcap_csv([record], labels, labels=True)
    header, row = labels.getvalue().splitlines()
    assert header.startswith("Record ID,Institution,Institution country,Birth date,Sex,")
    assert "Metastasis sites at diagnosis (choice=Lymph node regional)" in header
    assert row.startswith("OSL-000123,OUS-RAD,NO,1961,Female,")
    assert ",Wide resection limb salvage," in row and ",Checked,Unchecked," in row
    assert redcap_header_kind(header.split(",")) == "labels"
    assert redcap_header_kind(raw.getvalue().splitlines()[0].split(",")) == "raw"
    assert read(raw.getvalue()) == read(labels.getvalue()) == [record]


def test_redcap_columns_are_ignored_and_repeating_rows_reported() -> None:
    text = (
        "record_id,redcap_event_name,redcap_repeat_instrument,redcap_repeat_instance,"
        "redcap_data_access_group,redcap_survey_identifier,patient_timestamp,sex,"
        "patient_complete\n"
        "A1,baseline_arm_1,,,oslo,,2024-01-01 10:00,female,2\n"
        "A1,baseline_arm_1,treatment,2,oslo,,,,\n"
    )
    items = read(text)
    assert items[0] == MdsRecord(record_id="A1", sex="female")
    assert isinstance(items[1], Finding)
    assert (items[1].code, items[1].record_id, items[1].location, items[1].message) == (
        "source.redcap-repeating", "A1", "row 3",
        "redcap_repeat_instrument treatment, redcap_repeat_instance 2: a repeating instrument "
        "row; the MDS has one record per patient-tumour and no repeating instruments",
    )  # fmt: skip


def test_labels_headers_with_redcap_columns_of_their_own() -> None:
    text = (
        "Record ID,Event Name,Repeat Instrument,Repeat Instance,Data Access Group,Sex,"
        "Complete?,Tumour size (cm),Metastasis sites at diagnosis (choice=Lung),Complete?\n"
        "B1,Baseline,,,Oslo,Male,Complete,4.5,Checked,Incomplete\n"
    )
    assert read(text) == [MdsRecord(record_id="B1", sex="male", tumour_size_cm=4.5,
                                    metastasis_sites_at_diagnosis=["lung"])]  # fmt: skip


def test_unknown_columns_warn_once_and_are_ignored() -> None:
    items = read("record_id,sex,local_notes,tumor_size_cm\nA,male,x,3\nB,female,,4\n")
    assert [(f.level, f.location, f.message) for f in items if isinstance(f, Finding)] == [
        (Level.WARNING, "column 3",
         'column "local_notes" is not an MDS field: its values are ignored'),
        (Level.WARNING, "column 4", 'column "tumor_size_cm" is not an MDS field (did you mean '
         "tumour_size_cm?): its values are ignored"),
    ]  # fmt: skip
    assert [r.record_id for r in items if isinstance(r, MdsRecord)] == ["A", "B"]


def test_a_centres_dictionary_with_day_month_year_dates() -> None:
    out = io.StringIO()
    write_redcap_dictionary(out)
    text = out.getvalue().replace("Diagnosis date,,,date_ymd", "Diagnosis date,,,date_dmy")
    text = text.replace("male, Male |", "male, Man |")
    fields = read_redcap_dictionary(
        io.StringIO(text + "local_notes,patient,,notes,Notes,,,,,,,,,,,,,\n")
    )
    assert len(fields) == 51  # the centre's own field is not an MDS element
    export = (
        "record_id,sex,diagnosis_date,surgery_date\nA,Man,11/03/2024,2024-06-20\nB,,31-02-2024,\n"
    )
    items = list(read_redcap_csv(io.StringIO(export), fields))
    assert items[0] == MdsRecord.model_validate_json(
        b'{"record_id": "A", "sex": "male", "diagnosis_date": "2024-03-11", '
        b'"surgery_date": "2024-06-20"}'
    )
    assert isinstance(items[1], Finding)
    assert items[1].message == (
        'diagnosis_date = "31-02-2024": expected a date YYYY-MM-DD: invalid character in year'
    )
    with pytest.raises(SourceError, match="not a REDCap data dictionary"):
        read_redcap_dictionary(io.StringIO("element,type\n"))


def test_json_export_round_trip_and_shape_problems() -> None:
    records = [record for record, _ in generate(200, 11, 0.1)]
    out = io.BytesIO()
    assert write_redcap_json(records, out) == 200
    assert out.getvalue().startswith(b'[\n{"record_id":"SYN-000001-')
    assert list(read_redcap_json(out.getvalue())) == records
    [bad] = list(read_redcap_json(b'[{"record_id": "J1", "tumour_size_cm": "-2"}]'))
    assert isinstance(bad, Finding)
    assert (bad.location, bad.message) == (
        "object 1, field tumour_size_cm",
        "tumour_size_cm = -2.0: expected a number in cm greater than 0",
    )
    with pytest.raises(SourceError, match="flat JSON: a list of objects"):
        list(read_redcap_json(b'{"record_id": "J1"}'))
    with pytest.raises(SourceError, match="EAV"):
        list(read_redcap_json(b'[{"record": "1", "field_name": "sex", "value": "male"}]'))
    empty = io.BytesIO()
    assert write_redcap_json([], empty) == 0 and empty.getvalue() == b"[]\n"


def test_export_without_record_id_cannot_be_read() -> None:
    with pytest.raises(SourceError, match="no record_id column"):
        read("study_id,sex\n1,male\n")
    with pytest.raises(SourceError, match="repeats column sex"):
        read("record_id,sex,Sex\nA,male,male\n")


@pytest.mark.parametrize("labels", [False, True], ids=["raw", "labels"])
def test_csv_round_trip_is_the_identity_on_10k_records(labels: bool) -> None:
    records = [record for record, _ in generate(10_000, 2028, 0.1)]
    text = io.StringIO()
    assert write_redcap_csv(records, text, labels=labels) == 10_000
    assert read(text.getvalue()) == records


def test_json_round_trip_is_the_identity_on_10k_records() -> None:
    records = [record for record, _ in generate(10_000, 2029, 0.1)]
    out = io.BytesIO()
    write_redcap_json(records, out)
    assert list(read_redcap_json(out.getvalue())) == records
