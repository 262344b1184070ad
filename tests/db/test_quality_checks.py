"""The checks on tiny hand-written CDM contents, on SQLite and PostgreSQL.

Each defect in tests/db/tiny_cdm.py (`with_defects`) is meant to break exactly one kind of
check; the clean contents (`clean`) break none but the known ones. Every count asserted here
follows from the rows written there.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapter.quality import Report, Status, run_checks
from adapter.quality.known import NO_SUCH_DATA
from adapter.stores.omop_db import connect
from tests.db.conftest import new_postgres_database
from tests.db.tiny_cdm import clean, with_defects, write

KNOWN_ON_TINY = {
    "measurePersonCompleteness:visit_occurrence",
    "measurePersonCompleteness:drug_exposure",
    "measurePersonCompleteness:drug_era",
}
"""What even the clean contents fail: persons without visits and drugs (known, MDS has none)."""


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _database(kind: str, request: pytest.FixtureRequest, label: str) -> Iterator[str]:
    """A new database of `kind` for the whole module, dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{request.getfixturevalue('tmp_path_factory').mktemp(label)}/omop.sqlite"
        return
    with new_postgres_database(request.getfixturevalue("postgres_server")) as url:
        yield url


@pytest.fixture(scope="module")
def clean_report(kind: str, request: pytest.FixtureRequest) -> Iterator[Report]:
    for url in _database(kind, request, "clean"):
        write(url, clean())
        yield run_checks(url)


@pytest.fixture(scope="module")
def defects_report(kind: str, request: pytest.FixtureRequest) -> Iterator[Report]:
    for url in _database(kind, request, "defects"):
        write(url, with_defects())
        yield run_checks(url)


def outcome(report: Report, key: str) -> tuple[Status, int | None, int | None]:
    (result,) = [r for r in report.results if r.check.key == key]
    return result.status, result.violating, result.denominator


def failing(report: Report) -> set[str]:
    return {r.check.key for r in report.results if r.failed}


def test_clean_contents_fail_only_the_known_checks(clean_report: Report) -> None:
    assert failing(clean_report) == KNOWN_ON_TINY
    assert {r.known.cause for r in clean_report.results if r.known} == {NO_SUCH_DATA}
    assert not clean_report.failed(allow_known=True)
    assert clean_report.failed()
    assert clean_report.count(Status.ERROR) == 0


def test_every_defect_fails_its_check_and_only_that(defects_report: Report) -> None:
    assert failing(defects_report) - KNOWN_ON_TINY == {
        "plausibleValueLow:person.year_of_birth",
        "isStandardValidConcept:measurement.measurement_concept_id",
        "plausibleDuringLife:procedure_occurrence.procedure_date",
        "plausibleBeforeDeath:procedure_occurrence.procedure_date",
        "noEventAfterDeath:procedure_occurrence.procedure_date",
        "radiotherapyTimingOrder:procedure_occurrence.procedure_date",
        "treatmentStartsInDisease:episode.episode_start_date",
        "careSiteSourceValueUnique:care_site.care_site_source_value",
        "careSitePerInstitution:care_site",
    }


def test_year_of_birth_1700_is_one_row_below_the_limit(defects_report: Report) -> None:
    assert outcome(defects_report, "plausibleValueLow:person.year_of_birth") == (
        Status.FAIL,
        1,
        7,
    )


def test_a_non_standard_measurement_concept_is_one_violating_row(
    defects_report: Report,
) -> None:
    key = "isStandardValidConcept:measurement.measurement_concept_id"
    assert outcome(defects_report, key) == (Status.FAIL, 1, 5)  # 4 tumour sizes + 1


def test_the_dqd_allows_60_days_after_death_and_our_check_none(defects_report: Report) -> None:
    """Two procedures after a death, 10 and 151 days on: the DQD counts the second only."""
    where = "procedure_occurrence.procedure_date"
    # denominators: the dead persons' dated procedures (person 3's surgery, the two late ones)
    assert outcome(defects_report, f"plausibleBeforeDeath:{where}") == (Status.FAIL, 1, 3)
    assert outcome(defects_report, f"plausibleDuringLife:{where}") == (Status.FAIL, 1, 3)
    assert outcome(defects_report, f"noEventAfterDeath:{where}") == (Status.FAIL, 2, 3)


def test_adjuvant_radiotherapy_before_surgery_fails_the_timing_order(
    defects_report: Report, clean_report: Report
) -> None:
    key = "radiotherapyTimingOrder:procedure_occurrence.procedure_date"
    assert outcome(clean_report, key) == (Status.PASS, 0, 2)  # an adjuvant, a neoadjuvant
    assert outcome(defects_report, key) == (Status.FAIL, 1, 3)


def test_a_treatment_before_its_disease_episode_fails(defects_report: Report) -> None:
    key = "treatmentStartsInDisease:episode.episode_start_date"
    # treatments under a disease episode: 5 in the clean rows, 2 of the early adjuvant course, 1
    assert outcome(defects_report, key) == (Status.FAIL, 1, 8)


def test_two_care_sites_of_one_institution_fail_both_care_site_checks(
    defects_report: Report, clean_report: Report
) -> None:
    unique = "careSiteSourceValueUnique:care_site.care_site_source_value"
    assert outcome(clean_report, unique) == (Status.PASS, 0, 1)
    assert outcome(defects_report, unique) == (Status.FAIL, 1, 2)
    assert outcome(clean_report, "careSitePerInstitution:care_site") == (Status.PASS, 0, 1)
    assert outcome(defects_report, "careSitePerInstitution:care_site") == (Status.FAIL, 1, 2)


def test_checks_on_empty_tables_are_not_applicable(clean_report: Report) -> None:
    (quantity,) = [
        r for r in clean_report.results if r.check.key == "plausibleValueLow:drug_exposure.quantity"
    ]
    assert (quantity.status, quantity.note) == (
        Status.NOT_APPLICABLE,
        "table drug_exposure is empty",
    )
    # measurePersonCompleteness is the DQD's exception: an empty table is what it finds
    assert outcome(clean_report, "measurePersonCompleteness:drug_exposure")[0] == Status.FAIL
    assert outcome(clean_report, "cdmTable:drug_exposure") == (Status.PASS, 0, 1)


def test_checks_run_as_many_as_the_csvs_switch_on(clean_report: Report) -> None:
    assert len(clean_report.results) == 1904 + 19
    assert clean_report.count(Status.ERROR) == 0


def test_a_missing_table_or_field_fails_its_presence_check_only(db_url: str) -> None:
    """The DQD's rule: cdmTable / cdmField fail (1 of 1); the checks on what is missing are
    not applicable, not errors."""
    write(db_url, clean())
    engine = connect(db_url)
    pg = engine.dialect.name == "postgresql"
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP TABLE {'cdm.' if pg else ''}specimen")
            conn.exec_driver_sql(
                f"ALTER TABLE {'cdm.' if pg else ''}person DROP COLUMN race_source_value"
            )
    finally:
        engine.dispose()
    report = run_checks(db_url)
    assert report.count(Status.ERROR) == 0
    assert failing(report) - KNOWN_ON_TINY == {
        "cdmTable:specimen",
        "cdmField:person.race_source_value",
    }
    assert outcome(report, "cdmTable:specimen") == (Status.FAIL, 1, 1)
    (field,) = [r for r in report.results if r.check.key == "cdmField:specimen.specimen_id"]
    assert (field.status, field.note) == (Status.NOT_APPLICABLE, "table specimen does not exist")
    (value,) = [
        r
        for r in report.results
        if r.check.key == "measureValueCompleteness:person.race_source_value"
    ]
    assert (value.status, value.note) == (
        Status.NOT_APPLICABLE,
        "field person.race_source_value does not exist",
    )
