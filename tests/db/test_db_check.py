"""`mds-adapter db check` on 2,000 generated records and a few hand-written edge cases, loaded
through the real path (`db init`, `load` with a pseudonym key), on SQLite and PostgreSQL; and
the command's exit codes, JSON shape and one-line errors.

The failing checks are listed by cause, and nothing else may fail: `VOCABULARY_SUBSET` (the
bundled vocabulary lacks most ICDO3 bone pairs) and `MDS_HAS_NO_SUCH_DATA` (no visits, no drug
exposures), both documented for the command in adapter/quality/known.py. Every mapping bug the
checks found when they were written (gender 0, no dose unit, CDM_SOURCE's concept missing,
undated courses before their surgery, a care site per record) is fixed, so it fails here again
if it comes back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from adapter.cli import app
from adapter.mds.synth import generate
from adapter.quality.known import KNOWN, NO_SUCH_DATA, VOCABULARY_SUBSET
from adapter.sources.jsonl import dumps
from tests.db.helpers import rows
from tests.db.loading import KEY
from tests.db.tiny_cdm import clean, write

runner = CliRunner()

VOCABULARY_SUBSET_FAILURES = {
    "standardConceptRecordCompleteness:condition_occurrence.condition_concept_id": (
        "ICDO3 pairs absent from terminology/vocab (every bone site): condition concept 0"
    ),
    "sourceConceptRecordCompleteness:condition_occurrence.condition_source_concept_id": (
        "the same conditions: condition_source_concept_id 0"
    ),
    "sourceValueCompleteness:condition_occurrence.condition_source_value": (
        "the same: over 10 % of distinct morph/beh-topo source values unmapped"
    ),
}
MDS_HAS_NO_SUCH_DATA = {
    "measurePersonCompleteness:visit_occurrence": "the MDS records no visits",
    "measurePersonCompleteness:drug_exposure": "the regimen is free text: no DRUG_EXPOSURE",
    "measurePersonCompleteness:drug_era": "no drug exposures, no drug eras",
}
# fmt: off
EDGE_RECORDS: list[dict[str, Any]] = [
    {"record_id": "EDGE-DEAD-NO-DATE", "institution": "IOR", "institution_country": "IT",
     "birth_date": "1950-04-02", "sex": "female", "diagnosis_date": "2019-02-11",
     "presentation_status": "primary_untreated", "tissue_of_origin": "soft_tissue",
     "anatomic_region": "lower_extremity", "primary_site_icdo3": "C49.2", "laterality": "left",
     "histology_icdo3": "8805/3", "histologic_grade": "G3", "grading_system": "FNCLCC",
     "tumour_depth": "deep", "surgery_performed": "yes", "surgery_date": "2019-03-20",
     "radiotherapy_given": "no", "systemic_therapy_given": "no", "vital_status": "dead",
     "date_of_last_contact": "2021-06-30", "disease_status_last_followup": "DOD"},
    {"record_id": "EDGE-ADJUVANT-RT-UNDATED", "institution": "IOR", "institution_country": "IT",
     "birth_date": "1972-09-15", "sex": "male", "diagnosis_date": "2020-01-08",
     "presentation_status": "primary_untreated", "tissue_of_origin": "soft_tissue",
     "anatomic_region": "lower_extremity", "primary_site_icdo3": "C49.2", "laterality": "right",
     "histology_icdo3": "8805/3", "histologic_grade": "G2", "grading_system": "FNCLCC",
     "tumour_depth": "deep", "surgery_performed": "yes", "surgery_date": "2020-03-10",
     "radiotherapy_given": "yes", "radiotherapy_timing": "adjuvant",
     "systemic_therapy_given": "no", "vital_status": "alive", "date_of_last_contact": "2024-05-02",
     "disease_status_last_followup": "NED"},
    {"record_id": "EDGE-NO-LAST-CONTACT", "institution": "RMH", "institution_country": "GB",
     "birth_date": "1980-12-01", "sex": "female", "diagnosis_date": "2022-06-14",
     "presentation_status": "primary_untreated", "tissue_of_origin": "soft_tissue",
     "anatomic_region": "lower_extremity", "primary_site_icdo3": "C49.2", "laterality": "left",
     "histology_icdo3": "8890/3", "tumour_depth": "deep", "surgery_performed": "yes",
     "surgery_date": "2022-07-01", "radiotherapy_given": "no", "systemic_therapy_given": "no"},
    {"record_id": "EDGE-BIRTH-YEAR-ONLY", "institution": "RMH", "institution_country": "GB",
     "birth_date": "1961", "sex": "male", "diagnosis_date": "2018-10-03",
     "presentation_status": "primary_untreated", "tissue_of_origin": "soft_tissue",
     "anatomic_region": "upper_extremity", "primary_site_icdo3": "C49.1", "laterality": "left",
     "histology_icdo3": "8815/3", "tumour_depth": "superficial",
     "diagnostic_confirmation": "histology", "biopsy_type": "core_needle",
     "surgery_performed": "no", "radiotherapy_given": "no", "systemic_therapy_given": "no",
     "vital_status": "alive", "date_of_last_contact": "2023-01-20"},
    {"record_id": "EDGE-LONG-REGIMEN", "institution": "NCC", "institution_country": "JP",
     "birth_date": "1990-05-30", "sex": "female", "diagnosis_date": "2021-03-02",
     "presentation_status": "primary_untreated", "tissue_of_origin": "soft_tissue",
     "anatomic_region": "lower_extremity", "primary_site_icdo3": "C49.2", "laterality": "left",
     "histology_icdo3": "9040/3", "tumour_depth": "deep", "surgery_performed": "yes",
     "surgery_date": "2021-04-15", "radiotherapy_given": "no", "systemic_therapy_given": "yes",
     "systemic_therapy_timing": "adjuvant", "systemic_therapy_start_date": "2021-05-20",
     "systemic_therapy_end_date": "2021-09-30",
     "systemic_regimen": "doxorubicin 75 mg/m2 day 1 plus ifosfamide 10 g/m2 over days 1 to 5, "
                         "six cycles",
     "vital_status": "alive", "date_of_last_contact": "2025-02-11"},
    {"record_id": "EDGE-BONE-FEMUR", "institution": "IOR", "institution_country": "IT",
     "birth_date": "2005-02-17", "sex": "male", "diagnosis_date": "2019-09-09",
     "presentation_status": "primary_untreated", "tissue_of_origin": "bone",
     "anatomic_region": "lower_extremity", "primary_site_icdo3": "C40.2", "laterality": "right",
     "histology_icdo3": "9180/3", "histologic_grade": "high",
     "grading_system": "two_tier_low_high", "surgery_performed": "yes",
     "surgery_date": "2020-01-20", "radiotherapy_given": "no", "systemic_therapy_given": "yes",
     "systemic_therapy_timing": "pre_and_post", "systemic_therapy_start_date": "2019-09-30",
     "systemic_therapy_end_date": "2020-06-30", "systemic_regimen": "MAP", "vital_status": "alive",
     "date_of_last_contact": "2025-08-01"},
]
# fmt: on
"""A dead patient without a death date, adjuvant radiotherapy without dates, no last contact,
a birth year alone, a regimen over 60 characters (OBSERVATION.value_as_string), a bone site."""


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def lines(stdout: str) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in stdout.splitlines()]


def test_the_known_list_is_the_permanent_failures() -> None:
    assert set(KNOWN) == set(VOCABULARY_SUBSET_FAILURES) | set(MDS_HAS_NO_SUCH_DATA)
    assert {KNOWN[k].cause for k in VOCABULARY_SUBSET_FAILURES} == {VOCABULARY_SUBSET}
    assert {KNOWN[k].cause for k in MDS_HAS_NO_SUCH_DATA} == {NO_SUCH_DATA}


def test_2000_loaded_records_fail_exactly_the_listed_checks(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "records.jsonl"
    with path.open("wb") as out:
        for record, _ in generate(2000, 1):
            out.write(dumps(record) + b"\n")
        for edge in EDGE_RECORDS:
            out.write(orjson.dumps(edge) + b"\n")
    monkeypatch.setenv("MDS_ADAPTER_PSEUDONYM_KEY", KEY)
    assert invoke("db", "init", "--db", db_url)[0] == 0
    code, stdout, _ = invoke("load", str(path), "--db", db_url, "--json")
    assert (code, lines(stdout)[-1]["loaded"], lines(stdout)[-1]["rejected"]) == (0, 2006, 0)

    # issue 14's done-when, read straight from the CDM: every male / female person has its
    # Gender concept, and there are no more care sites than institutions
    person = "cdm.person" if "postgresql" in db_url else "person"
    genders = dict(rows(db_url, f"SELECT DISTINCT gender_source_value, gender_concept_id "
                                f"FROM {person}"))  # fmt: skip
    assert genders == {"male": 8507, "female": 8532, "other": 0, "unknown": 0, None: 0}
    care_site = "cdm.care_site" if "postgresql" in db_url else "care_site"
    records = "adapter.records" if "postgresql" in db_url else "adapter_records"
    [(sites, institutions)] = rows(db_url, f"SELECT (SELECT count(*) FROM {care_site}), "
                                           f"(SELECT count(DISTINCT institution) FROM {records} "
                                           "WHERE institution <> '')")  # fmt: skip
    assert 0 < sites <= institutions

    code, stdout, stderr = invoke("db", "check", "--db", db_url, "--json")
    *results, summary = lines(stdout)
    failing = {
        f"{r['check']}:{r['table']}" + (f".{r['field']}" if r["field"] else "")
        for r in results
        if r["status"] in ("fail", "error")
    }
    assert failing == set(VOCABULARY_SUBSET_FAILURES) | set(MDS_HAS_NO_SUCH_DATA)
    assert (code, stderr) == (1, "")
    assert summary == {
        "summary": True,
        "dialect": "postgresql" if "postgresql" in db_url else "sqlite",
        "checks": 1923,
        "dqd": 1904,
        "clinical": 19,
        "passed": summary["passed"],
        "failed": len(failing),
        "known": len(KNOWN),
        "not_applicable": 1009,
        "errors": 0,
        "exit": 1,
    }
    assert summary["passed"] == 1923 - len(failing) - 1009
    (timing,) = [r for r in results if r["check"] == "radiotherapyTimingOrder"]
    assert set(timing) == {
        "check",
        "level",
        "table",
        "field",
        "status",
        "violating",
        "denominator",
        "pct",
        "threshold",
        "known",
        "note",
        "description",
    }
    assert (timing["status"], timing["violating"], timing["level"]) == ("pass", 0, "clinical")
    assert timing["denominator"] > 0  # adjuvant and neoadjuvant courses with a surgery exist
    (icdo3,) = [
        r
        for r in results
        if r["check"] == "standardConceptRecordCompleteness"
        and r["field"] == "condition_concept_id"
        and r["table"] == "condition_occurrence"
    ]
    assert icdo3["known"]["cause"] == VOCABULARY_SUBSET
    assert icdo3["pct"] == round(icdo3["violating"] / icdo3["denominator"] * 100, 4)

    code, stdout, _ = invoke("db", "check", "--db", db_url, "--allow-known")
    assert code == 0  # only the documented failures: the vocabulary subset, no such MDS data
    assert "known (bundled vocabulary subset)" in stdout
    assert stdout.rstrip().splitlines()[-1].startswith("1923 checks (1904 DQD v2, 19 clinical)")


def test_exit_0_when_every_check_passes_or_is_known(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'clean.sqlite'}"
    write(url, clean())
    assert invoke("db", "check", "--db", url)[0] == 1  # known failures count by default
    code, stdout, _ = invoke("db", "check", "--db", url, "--allow-known")
    assert code == 0 and "0 errors" in stdout
    only = "plausibleValueLow,noEventAfterDeath:episode"
    code, stdout, _ = invoke("db", "check", "--db", url, "--only", only, "--json")
    *results, summary = lines(stdout)
    assert code == 0 and summary["exit"] == 0 and summary["failed"] == 0
    assert {r["check"] for r in results} == {"plausibleValueLow", "noEventAfterDeath"}
    assert len(results) == 68 + 2  # episode_start_date and episode_end_date


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite:///{tmp}/missing.sqlite", "error: no SQLite database at"),
        ("sqlite:///{tmp}/empty.sqlite", "has no OMOP CDM tables: run `mds-adapter db init`"),
        ("not a url", "error: not a database URL"),
        ("mysql://localhost/omop", "error: unsupported database 'mysql'"),
        ("postgresql://postgres@127.0.0.1:1/omop", "error: cannot use the database:"),
    ],
)
def test_an_unusable_database_is_one_line_and_exit_2(
    tmp_path: Path, url: str, message: str
) -> None:
    (tmp_path / "empty.sqlite").write_bytes(b"")
    code, stdout, stderr = invoke("db", "check", "--db", url.format(tmp=tmp_path))
    assert code == 2 and stdout == ""
    assert stderr.count("\n") == 1 and message in stderr and "Traceback" not in stderr
    assert not (tmp_path / "missing.sqlite").exists()


def test_a_missing_postgresql_database_is_one_line_and_exit_2(postgres_server: str) -> None:
    url = "postgresql://postgres@127.0.0.1:5432/mds_no_such_database"
    code, _, stderr = invoke("db", "check", "--db", url)
    assert code == 2 and stderr.count("\n") == 1
    assert 'database "mds_no_such_database" does not exist' in stderr


def test_an_unknown_check_name_is_exit_2(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'clean.sqlite'}"
    write(url, clean())
    code, _, stderr = invoke("db", "check", "--db", url, "--only", "plausibleValue")
    assert code == 2 and stderr.startswith("error: no check named plausibleValue;")
