"""The check definitions without a database: counts from the CSVs, the threshold rule, the
translation of the DQD's SQL Server limits, selection by name, and the documented known list."""

from __future__ import annotations

from collections import Counter

import pytest

from adapter.errors import ConfigurationError
from adapter.omop.mapping import read_conventions
from adapter.quality import KNOWN, all_checks
from adapter.quality.dialect import Sql
from adapter.quality.dqd import BUILDERS, dqd_checks
from adapter.quality.model import fails
from adapter.quality.runner import select
from adapter.quality.spec import DQD_DIR, EXCLUDED_TABLES, SELECTORS, rows
from adapter.quality.sql_plausibility import limit

EXPECTED_PER_CHECK = {
    "cdmTable": 31,
    "measurePersonCompleteness": 16,
    "measureConditionEraCompleteness": 1,
    "measureObservationPeriodOverlap": 1,
    "cdmField": 392,
    "isRequired": 145,
    "cdmDatatype": 197,
    "isPrimaryKey": 23,
    "isForeignKey": 163,
    "fkDomain": 43,
    "fkClass": 3,
    "isStandardValidConcept": 64,
    "measureValueCompleteness": 392,
    "standardConceptRecordCompleteness": 48,
    "sourceConceptRecordCompleteness": 13,
    "sourceValueCompleteness": 32,
    "plausibleValueLow": 68,
    "plausibleValueHigh": 60,
    "plausibleTemporalAfter": 51,
    "plausibleDuringLife": 34,
    "withinVisitDates": 9,
    "plausibleAfterBirth": 49,
    "plausibleBeforeDeath": 47,
    "plausibleStartBeforeEnd": 22,
}
"""Counted by hand from the vendored CSVs with the DQD's evaluation filters (1904 in all);
a new CSV release changes these on purpose."""


def test_the_csvs_switch_on_1904_checks_in_31_tables() -> None:
    checks = dqd_checks("sqlite")
    assert Counter(c.name for c in checks) == EXPECTED_PER_CHECK
    assert len(checks) == sum(EXPECTED_PER_CHECK.values()) == 1904
    assert len({c.key for c in checks}) == len(checks)
    assert len({c.table for c in checks}) == 31
    assert not {c.table for c in checks} & EXCLUDED_TABLES
    assert set(BUILDERS) == set(SELECTORS)


def test_both_dialects_get_the_same_checks_with_their_own_sql() -> None:
    sqlite, pg = dqd_checks("sqlite"), dqd_checks("postgresql")
    assert [c.key for c in sqlite] == [c.key for c in pg]
    assert [c.threshold for c in sqlite] == [c.threshold for c in pg]
    assert "cdm.person" in pg[0].sql and "cdm." not in sqlite[0].sql


def test_thresholds_are_the_csvs() -> None:
    by_key = {c.key: c for c in dqd_checks("postgresql")}
    assert (
        by_key[
            "standardConceptRecordCompleteness:condition_occurrence.condition_concept_id"
        ].threshold
        == 5
    )
    assert by_key["measurePersonCompleteness:visit_occurrence"].threshold == 95
    assert by_key["plausibleValueLow:person.year_of_birth"].threshold == 1
    assert by_key["isRequired:person.person_id"].threshold == 0
    # isForeignKey rows with an empty threshold: any violating row fails
    assert by_key["isForeignKey:cdm_source.cdm_version_concept_id"].threshold == 0


@pytest.mark.parametrize(
    ("violating", "denominator", "threshold", "failed"),
    [
        (0, 10, 0, False),
        (1, 1000, 0, True),
        (5, 100, 5, False),
        (6, 100, 5, True),
        (0, 0, 0, False),
        (95, 100, 95, False),
        (100, 100, 95, True),
    ],
)
def test_the_dqd_threshold_rule(
    violating: int, denominator: int, threshold: float, failed: bool
) -> None:
    assert fails(violating, denominator, threshold) is failed


def test_sql_server_limits_become_each_dialects_sql() -> None:
    pg, sqlite = Sql("postgresql"), Sql("sqlite")
    assert limit("'19500101'", pg) == "DATE '1950-01-01'"
    assert limit("'19500101'", sqlite) == "'1950-01-01'"
    assert limit("DATEADD(dd,1,GETDATE())", pg) == "(CURRENT_DATE + 1)"
    assert limit("DATEADD(dd,1,GETDATE())", sqlite) == "date('now', '+1 days')"
    assert limit("YEAR(GETDATE())+1", sqlite) == "(CAST(strftime('%Y', 'now') AS integer) + 1)"
    assert limit("0.0000001", pg) == "0.0000001"
    with pytest.raises(ValueError, match="unknown DQD limit"):
        limit("GETUTCDATE()", pg)


def test_every_limit_in_the_csvs_is_understood() -> None:
    for row in rows("field"):
        for column in ("plausibleValueLow", "plausibleValueHigh"):
            if row.get(column):
                limit(row.get(column), Sql("sqlite"))


def test_select_by_name_table_or_field() -> None:
    checks = all_checks("sqlite")
    assert {c.name for c in select(checks, ["noEventAfterDeath"])} == {"noEventAfterDeath"}
    assert [c.key for c in select(checks, ["plausibleValueLow:person"])] == [
        "plausibleValueLow:person.birth_datetime",
        "plausibleValueLow:person.day_of_birth",
        "plausibleValueLow:person.month_of_birth",
        "plausibleValueLow:person.year_of_birth",
    ]
    assert len(select(checks, ["isRequired:person.person_id", "cdmTable"])) == 32
    with pytest.raises(ConfigurationError, match="no check named plausibleValue;"):
        select(checks, ["plausibleValue"])


def test_known_failures_name_existing_checks() -> None:
    keys = {c.key for c in all_checks("postgresql")}
    assert set(KNOWN) <= keys
    assert all(k.reason and k.cause for k in KNOWN.values())


def test_clinical_checks_take_their_concepts_from_the_conventions() -> None:
    ids = read_conventions()
    clinical = [c for c in all_checks("sqlite") if c.level == "clinical"]
    assert len(clinical) == 19
    (timing,) = [c for c in clinical if c.name == "radiotherapyTimingOrder"]
    assert dict(timing.params) == {
        "procedure_field": ids["field.procedure_occurrence"],
        "course_episode": ids["episode.radiotherapy"],
        "surgery_episode": ids["episode.surgery"],
        "timing_question": ids["question.radiotherapy_timing"],
    }
    for check in clinical:  # every concept id is a bound parameter, none is typed in the SQL
        assert not any(str(v) in check.sql for _, v in check.params)


def test_the_vendored_csvs_ship_with_a_notice() -> None:
    notice = (DQD_DIR / "NOTICE.md").read_text(encoding="utf-8")
    assert "unchanged" in notice and "Apache License, Version 2.0" in notice
    assert sorted(p.name for p in DQD_DIR.glob("*.csv")) == [
        "OMOP_CDMv5.4_Field_Level.csv",
        "OMOP_CDMv5.4_Table_Level.csv",
    ]
