"""The IDEA4RC normalised table: golden files both ways, round trips, findings per variable."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapter.cli import app
from adapter.errors import Finding, Level, SourceError
from adapter.mds.dictionary import elements, terminology_dir
from adapter.mds.record import MdsRecord
from adapter.mds.synth import generate
from adapter.sources.idea4rc_table import read_idea4rc_table, write_idea4rc_table
from adapter.sources.idea4rc_variables import (
    LOCAL_ENTITY,
    Concepts,
    idea4rc_variables,
    mds_variables,
)
from adapter.sources.jsonl import dumps
from adapter.terminology import Terminology
from tests.conftest import GOLDEN, golden_dict, vary

TABLES = GOLDEN / "idea4rc"
runner = CliRunner()
# MDS elements IDEA4RC has no variable for (docs/adr/0005-idea4rc-table.md): always MdsRecord.*
NO_VARIABLE = {
    "institution_country", "presentation_status", "tissue_of_origin", "primary_site_icdo3",
    "laterality", "grading_system", "tumour_depth", "metastasis_at_diagnosis",
    "surgery_performed", "radiotherapy_given", "systemic_therapy_given",
    "diagnostic_confirmation", "surgical_margin_enneking", "enneking_stage", "systemic_regimen",
    "percent_necrosis_post_neoadjuvant", "vital_status", "date_of_death", "local_recurrence",
    "local_recurrence_date", "distant_metastasis_after_diagnosis", "distant_metastasis_date",
}  # fmt: skip


def read_text(text: str) -> list[MdsRecord | Finding]:
    return list(read_idea4rc_table(io.StringIO(text)))


def read_file(path: Path) -> list[MdsRecord | Finding]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(read_idea4rc_table(f))


def table(records: list[MdsRecord]) -> str:
    out = io.StringIO()
    assert write_idea4rc_table(records, out) == len(records)
    return out.getvalue()


def test_golden_table_reads_into_the_hand_checked_records() -> None:
    """IDEA4RC ordering (children before parents, forward links), a Float 25.0 for an integer,
    the pathological T when there is no clinical one, IDEA4RC's FHIR margin code, and the
    cancer start date standing in for a missing diagnosis date."""
    expected = [
        MdsRecord.model_validate_json(line)
        for line in (TABLES / "two-patients.jsonl").read_bytes().splitlines()
    ]
    assert read_file(TABLES / "two-patients.idea4rc.csv") == expected


def test_golden_record_is_written_as_the_hand_checked_table() -> None:
    record = MdsRecord.model_validate_json((GOLDEN / "record-osl-000123.json").read_bytes())
    golden = (TABLES / "record-osl-000123.idea4rc.csv").read_text(encoding="utf-8")
    assert table([record]) == golden
    assert read_text(golden) == [record]


def test_idea4rc_variables_without_mds_element_are_reported_once_with_a_count() -> None:
    items = read_file(TABLES / "sample-extra-variables.idea4rc.csv")
    assert [(r.record_id, r.sex, r.ajcc_t_category, r.surgical_margin_r, r.histology_icdo3,
             r.primary_site_icdo3) for r in items if isinstance(r, MdsRecord)] == [
        ("101", "male", "T2", None, None, None),
        ("102", "female", None, "R1", "8805/3", "C48.0"),  # IDEA4RC's own diagnosis list
    ]  # fmt: skip
    not_read = "an IDEA4RC value with no single {} code in the terminology maps: 1 value not read"
    no_mds = "an IDEA4RC variable with no MDS element"
    assert [(f.level, f.location, f.message) for f in items if isinstance(f, Finding)] == [
        (Level.INFO, "variable Patient.race", f"{no_mds}: 2 values not read"),
        (Level.INFO, "variable Patient.smoking", f"{no_mds}: 2 values not read"),
        (Level.INFO, "variable Diagnosis.histologySubgroup", f"{no_mds}: 2 values not read"),
        (Level.INFO, "variable Diagnosis.biopsyMitoticCount", f"{no_mds}: 2 values not read"),
        (Level.INFO, "variable ClinicalStage.ctForPrimarySite", f"{no_mds}: 1 value not read"),
        (Level.INFO, "variable Surgery.surgeryIntention", f"{no_mds}: 2 values not read"),
        (Level.INFO, "variable Surgery.tumorRupture", f"{no_mds}: 1 value not read"),
        (Level.INFO, "variable Patient.alcohol", f"{no_mds}: 1 value not read"),
        (Level.WARNING, "variable Diagnosis.site", "36768213 is " + not_read.format(
            "anatomic_region")),
        (Level.WARNING, "variable ClinicalStage.cm", "1634194 is " + not_read.format(
            "ajcc_m_category")),
        (Level.WARNING, "variable Surgery.surgeryType", "4301351 is " + not_read.format(
            "surgery_type")),
        (Level.WARNING, "variable Patient.smokingStatus", "not a variable of the IDEA4RC data "
         "model V2 (did you mean Patient.smoking?): 1 value ignored"),
    ]  # fmt: skip


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_bad_rows_give_one_error_each_and_the_rest_is_kept(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    code, stdout, stderr = run("convert", str(TABLES / "bad-rows.idea4rc.csv"), "-o", str(out))
    assert code == 1
    assert stdout.splitlines() == [
        "error   row 5, variable Diagnosis.biopsyGrading, record B-2: Diagnosis.biopsyGrading = "
        '"1234567": concept 1234567 is not a histologic_grade concept of the terminology maps',
        "error   row 7, variable Surgery.dateOfSurgery, record B-3: Surgery.dateOfSurgery = "
        '"2024-02-30" (surgery_date): expected a date YYYY-MM-DD: day value is outside '
        "expected range",
        "error   row 9, variable Surgery.dateOfSurgery, record B-4: Surgery.dateOfSurgery: "
        "linked_to 99 names no record_id of B-4",
    ]
    assert out.read_bytes().splitlines() == [
        b'{"record_id":"B-1","sex":"male","histologic_grade":"G1"}',
        b'{"record_id":"B-5","sex":"male","surgical_margin_r":"R2"}',
        b'{"record_id":"B-6","sex":"female"}',
    ]
    assert "6 records read from" in stderr and "3 written to" in stderr and "3 rejected" in stderr


def test_10k_generated_records_round_trip_exactly() -> None:
    records = [record for record, _ in generate(10_000, 2031, 0.1)]
    assert read_text(table(records)) == records


def test_1000_records_convert_both_ways_byte_for_byte(tmp_path: Path) -> None:
    source, middle = tmp_path / "records.jsonl", tmp_path / "records.idea4rc.csv"
    source.write_bytes(b"".join(dumps(r) + b"\n" for r, _ in generate(1000, 7, 0.1)))
    assert run("convert", str(source), "-o", str(middle))[:2] == (0, "")
    plain = tmp_path / "plain.csv"  # a .csv named so is still told by its header
    plain.write_bytes(middle.read_bytes())
    back, again = tmp_path / "back.jsonl", tmp_path / "again.csv"
    assert run("convert", str(plain), "-o", str(back))[:2] == (0, "")
    assert back.read_bytes() == source.read_bytes()
    assert run("convert", str(back), "-o", str(again), "--to", "idea4rc-table")[:2] == (0, "")
    assert again.read_bytes() == middle.read_bytes()


def test_a_patient_whose_rows_come_back_later_is_rejected_there() -> None:
    records = [record for record, _ in generate(3, 12)]
    lines = table(records).splitlines(keepends=True)
    first = [i for i, line in enumerate(lines) if line.startswith(records[0].record_id + ";")]
    moved = lines[: first[-1]] + lines[first[-1] + 1 :] + [lines[first[-1]]]
    items = read_text("".join(moved))
    assert [i.record_id for i in items if isinstance(i, MdsRecord)] == [
        r.record_id for r in records
    ]  # the first block still makes a record (its last element is then missing)
    [late] = [i for i in items if isinstance(i, Finding)]
    assert (late.code, late.level, late.record_id, late.location) == (
        "source.idea4rc-not-adjacent", Level.ERROR, records[0].record_id, f"row {len(lines)}"
    )  # fmt: skip
    assert "must be adjacent (sort the file by patient_id)" in late.message
    assert isinstance(items[0], MdsRecord) and items[0] != records[0]


def test_a_second_instance_of_an_entity_is_ignored_with_a_warning() -> None:
    text = (TABLES / "sample-extra-variables.idea4rc.csv").read_text(encoding="utf-8")
    text += "102;synthetic;Surgery.dateOfSurgery;2022-01-05;2022-01-05;12;8;;Date\n"
    items = read_text(text)
    [warning] = [f for f in items if isinstance(f, Finding) and f.code.endswith("instance")]
    assert (warning.level, warning.record_id, warning.location, warning.message) == (
        Level.WARNING, "102", "rows 20-34",
        "2 Surgery instances (record_id 9, 12): the MDS holds one; record_id 12 ignored",
    )  # fmt: skip
    [kept] = [r for r in items if isinstance(r, MdsRecord) and r.record_id == "102"]
    assert str(kept.surgery_date) == "2021-08-02"


def test_elements_without_an_idea4rc_variable_are_the_declared_ones() -> None:
    written = {v.element.name for v in mds_variables() if v.written} | {"record_id"}
    assert {e.name for e in elements()} - written == NO_VARIABLE
    record = MdsRecord(record_id="EMPTY-1")  # nothing but an id still makes a row
    assert table([record]).splitlines()[1] == (
        f"EMPTY-1;mds-adapter;{LOCAL_ENTITY}.record_id;;EMPTY-1;1;;;String"
    )
    assert read_text(table([record])) == [record]


def test_written_concepts_are_in_the_idea4rc_value_lists() -> None:
    """Each concept we write for a variable is one IDEA4RC lists for it (variables.tsv)."""
    with (terminology_dir() / "idea4rc" / "variables.tsv").open(encoding="utf-8") as f:
        allowed = {r["core_variable"]: r["concept_ids"].split() for r in csv.DictReader(
            f, delimiter="\t")}  # fmt: skip
    concepts = Concepts(Terminology.load())
    written = {
        (v.core_variable, code): concepts.concept(v.element, code)
        for v in mds_variables() if v.written and v.kind == "concept" for code in v.element.codes
    }  # fmt: skip
    assert all(v in idea4rc_variables() for v, _ in written)
    outside = {k: c for k, c in written.items() if c is not None and str(c) not in allowed[k[0]]}
    assert outside == {}
    assert {
        v: [code for (var, code), c in written.items() if var == v and c is None]
        for v in dict.fromkeys(var for var, _ in written)
    } == {  # these codes share a concept or have none: they go to MdsRecord.<element>
        "Patient.sex": ["other", "unknown"],
        "Diagnosis.typeOfBiopsy": ["unknown"],
        "Diagnosis.biopsyGrading": ["GX_unknown", "not_applicable"],
        "Diagnosis.site": [],
        "ClinicalStage.ct": ["T1a", "T1b", "T2a", "T2b", "T3a", "T3b"],
        "ClinicalStage.cn": [],
        "ClinicalStage.cm": ["M1a", "M1b"],
        "ClinicalStage.clinicalStaging": ["IA", "IB", "IIA", "IIB", "IIIA", "IIIB", "unknown"],
        "Surgery.surgeryType": ["forequarter", "hindquarter", "hemipelvectomy",
                                "internal_hemipelvectomy", "other", "none"],
        "Surgery.marginsAfterSurgery": ["RX_not_assessable", "not_applicable"],
        "Radiotherapy.setting": ["pre_and_post", "intraoperative", "none", "unknown"],
        "SystemicTreatment.setting": ["pre_and_post", "no_surgery", "none", "unknown"],
        "PatientFollowUp.statusOfPatientAtLastFollow-up": [],
    }  # fmt: skip


def test_a_file_without_the_table_columns_cannot_be_read() -> None:
    with pytest.raises(SourceError, match="no column core_variable, value, record_id"):
        read_text("patient_id;variable;linked_to\nA;x;\n")
    assert read_text(table([])) == []


def test_idea4rc_read_only_concepts_are_read_through_the_map_rows() -> None:
    """Concomitant RT settings (read rows of radiotherapy-timing 1.1.0) and IDEA4RC's FHIR R0."""
    head = "patient_id;core_variable;value;record_id;linked_to\n"
    items = read_text(head + "R1;Radiotherapy.setting;2000100031;1;\n"
                      "R2;Radiotherapy.setting;2000100034;2;\n"
                      "R3;Surgery.marginsAfterSurgery;4121182;3;\n")  # fmt: skip
    assert [(r.record_id, r.radiotherapy_timing, r.surgical_margin_r) for r in items
            if isinstance(r, MdsRecord)] == [
        ("R1", "neoadjuvant", None), ("R2", "definitive_no_surgery", None), ("R3", None, "R0"),
    ]  # fmt: skip


def test_rows_pointing_at_a_missing_parent_give_one_problem() -> None:
    """A CancerEpisode with no rows of its own: every Diagnosis row points nowhere."""
    text = (TABLES / "two-patients.idea4rc.csv").read_text(encoding="utf-8")
    text = text.replace(
        "P-18;registry;CancerEpisode.cancerStartDate;2022-07-01;2022-07-01;12;10;;Date\n", ""
    )
    items = read_text(text)
    [error] = [f for f in items if isinstance(f, Finding)]
    assert (error.record_id, error.location, error.message) == (
        "P-18", "row 25, variable Diagnosis.dateOfDiagnosis(biopsyOrSurgicalPiece)",
        "Diagnosis.dateOfDiagnosis(biopsyOrSurgicalPiece): linked_to 12 names no record_id of "
        "P-18 (3 rows)",
    )  # fmt: skip
    assert [r.record_id for r in items if isinstance(r, MdsRecord)] == ["P-17"]


def test_semicolons_quotes_and_line_breaks_in_values_survive() -> None:
    record = vary(golden_dict(), record_id='OSL;1 "b"', institution='Oslo; "Radium"\nHospital',
                  systemic_regimen='AI; then "VDC"', birth_date="1961-04",
                  metastasis_sites_at_diagnosis=["brain", "lung"])  # fmt: skip
    text = table([record])
    assert '"Oslo; ""Radium""\nHospital"' in text  # csv quoting, one value
    assert read_text(text) == [record]
