"""DQD plausibility checks: values and dates within limits, in the order life allows.

Semantics from the DQD's check descriptions and SQL (OMOP_CDMv5.4_Check_Descriptions.csv,
inst/sql/sql_server/field_plausible_*.sql):

- plausibleValueLow / High: values below / above the CSV's limit, over the non-NULL values
  (dates compared as dates; the limits are SQL Server expressions such as '19500101' or
  DATEADD(dd,1,GETDATE()), translated by `limit`);
- plausibleTemporalAfter: dates before another date of the row, or before the person's birth
  (birth_datetime, else 1 June of year_of_birth), over all rows;
- plausibleDuringLife (the DQD's deprecated form) and plausibleBeforeDeath: dates more than 60
  days after the person's death_date: the DQD's allowance for claims and results that arrive
  after death. Both count over the rows of persons with a DEATH row (BeforeDeath: with a date);
- plausibleStartBeforeEnd: a start after its end, over the rows with both;
- plausibleAfterBirth: dates before the birth (birth_datetime, else year/month/day of birth
  with a missing month or day taken as the 1st), over the rows with a date;
- withinVisitDates: dates more than 7 days outside the row's visit, over the rows with a visit;
- measureObservationPeriodOverlap (table): persons with two overlapping or back-to-back
  observation periods, over the persons with any.
"""

from __future__ import annotations

import re

from adapter.quality.dialect import Sql
from adapter.quality.spec import Row
from adapter.quality.sql_common import Builder, Built, count, ratio

__all__ = ["BUILDERS", "limit"]

_DATE_LITERAL = re.compile(r"^'(\d{4})(\d{2})(\d{2})'$")
_TOMORROW = "DATEADD(dd,1,GETDATE())"
_NEXT_YEAR = "YEAR(GETDATE())+1"
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_DEATH_ALLOWANCE_DAYS = 60
_VISIT_ALLOWANCE_DAYS = 7


def limit(value: str, s: Sql) -> str:
    """A plausibleValueLow/High limit of the CSV as SQL of this dialect.

    Only the forms the v5.4 CSV uses are known; any other raises, so an updated CSV with a new
    form fails the tests instead of running a wrong check.
    """
    value = value.strip()
    if match := _DATE_LITERAL.match(value):
        return s.date_literal("-".join(match.groups()))
    if value == _TOMORROW:
        return s.today_plus(1)
    if value == _NEXT_YEAR:
        return f"({s.this_year()} + 1)"
    if _NUMBER.match(value):
        return value
    raise ValueError(f"unknown DQD limit expression {value!r}")


def _field(row: Row, s: Sql) -> tuple[str, str]:
    return f"{s.table(row.table)} t", f"t.{s.column(row.table, str(row.field))}"


def _value(row: Row, s: Sql, check: str, op: str, label: str) -> Built:
    t, f = _field(row, s)
    bound = limit(row.get(check), s)
    dated = row.get("cdmDatatype") in ("date", "datetime")
    compared = f"{s.date(f)} {op} {s.date(bound)}" if dated else f"{f} {op} {bound}"
    return Built(ratio(count(f"{t} WHERE {compared}"), count(f"{t} WHERE {f} IS NOT NULL")),
                 f"values {label} {row.get(check)}")  # fmt: skip


def _value_low(row: Row, s: Sql) -> Built:
    return _value(row, s, "plausibleValueLow", "<", "below")


def _value_high(row: Row, s: Sql) -> Built:
    return _value(row, s, "plausibleValueHigh", ">", "above")


def _temporal_after(row: Row, s: Sql) -> Built:
    t, f = _field(row, s)
    other, other_field = (
        row.lower("plausibleTemporalAfterTableName"),
        row.lower("plausibleTemporalAfterFieldName"),
    )
    if other == "person" and row.table != "person":
        if other_field != "birth_datetime":
            raise ValueError(f"plausibleTemporalAfter on person.{other_field} is not known")
        joined = f"{t} JOIN {s.table('person')} p ON p.person_id = t.person_id"
        before = f"{s.birth_date('p', month='6', day='1')} > {s.date(f)}"
        return Built(ratio(count(f"{joined} WHERE {before}"), count(t)),
                     "dates before the birth")  # fmt: skip
    if other != row.table:
        raise ValueError(f"plausibleTemporalAfter of {row.table} against {other} is not known")
    before = f"{s.date('t.' + s.column(other, other_field))} > {s.date(f)}"
    return Built(ratio(count(f"{t} WHERE {before}"), count(t)), f"dates before {other_field}")


def _after_death(row: Row, s: Sql, *, dated_only: bool) -> Built:
    t, f = _field(row, s)
    death = s.table("death")
    late = f"{s.date(f)} > {s.plus_days('d.death_date', _DEATH_ALLOWANCE_DAYS)}"
    joined = f"{t} JOIN {death} d ON d.person_id = t.person_id"
    if dated_only:
        violating = count(f"{joined} WHERE {f} IS NOT NULL AND {late}")
        denominator = count(f"{joined} WHERE {f} IS NOT NULL")
    else:
        violating = count(f"{joined} WHERE {late}")
        denominator = count(f"{t} WHERE t.person_id IN (SELECT person_id FROM {death})")
    return Built(ratio(violating, denominator),
                 f"dates more than {_DEATH_ALLOWANCE_DAYS} days after death")  # fmt: skip


def _during_life(row: Row, s: Sql) -> Built:
    return _after_death(row, s, dated_only=False)


def _before_death(row: Row, s: Sql) -> Built:
    return _after_death(row, s, dated_only=True)


def _start_before_end(row: Row, s: Sql) -> Built:
    t, f = _field(row, s)
    end_name = row.lower("plausibleStartBeforeEndFieldName")
    end = f"t.{s.column(row.table, end_name)}"
    both = f"{t} WHERE {f} IS NOT NULL AND {end} IS NOT NULL"
    return Built(ratio(count(f"{both} AND {s.date(f)} > {s.date(end)}"), count(both)),
                 f"starts after {end_name}")  # fmt: skip


def _after_birth(row: Row, s: Sql) -> Built:
    t, f = _field(row, s)
    joined = f"{t} JOIN {s.table('person')} p ON p.person_id = t.person_id"
    before = f"{f} IS NOT NULL AND {s.date(f)} < {s.birth_date('p')}"
    return Built(ratio(count(f"{joined} WHERE {before}"), count(f"{t} WHERE {f} IS NOT NULL")),
                 "dates before the birth")  # fmt: skip


def _within_visit(row: Row, s: Sql) -> Built:
    t, f = _field(row, s)
    days = _VISIT_ALLOWANCE_DAYS
    joined = (
        f"{t} JOIN {s.table('visit_occurrence')} v ON v.visit_occurrence_id = t.visit_occurrence_id"
    )
    outside = (
        f"({s.date(f)} < {s.plus_days('v.visit_start_date', -days)} "
        f"OR {s.date(f)} > {s.plus_days('v.visit_end_date', days)})"
    )
    return Built(ratio(count(f"{joined} WHERE {outside}"), count(joined)),
                 f"dates more than {days} days outside the visit")  # fmt: skip


def _period_overlap(row: Row, s: Sql) -> Built:
    periods = s.table(row.table)
    a_start, a_end = "a.observation_period_start_date", "a.observation_period_end_date"
    b_start, b_end = "b.observation_period_start_date", "b.observation_period_end_date"
    touching = (
        f"({s.date(a_start)} <= {s.date(b_end)} AND {s.date(a_end)} >= {s.date(b_start)}) "
        f"OR {s.plus_days(a_end, 1)} = {s.date(b_start)} "
        f"OR {s.plus_days(b_end, 1)} = {s.date(a_start)}"
    )
    pairs = (
        f"{periods} a JOIN {periods} b ON a.person_id = b.person_id "
        f"AND a.observation_period_id <> b.observation_period_id WHERE {touching}"
    )
    return Built(
        ratio(
            f"SELECT COUNT(DISTINCT a.person_id) FROM {pairs}",
            f"SELECT COUNT(DISTINCT person_id) FROM {periods}",
        ),
        "persons with overlapping or adjacent observation periods",
    )


BUILDERS: dict[str, Builder] = {
    "plausibleValueLow": _value_low,
    "plausibleValueHigh": _value_high,
    "plausibleTemporalAfter": _temporal_after,
    "plausibleDuringLife": _during_life,
    "plausibleBeforeDeath": _before_death,
    "plausibleStartBeforeEnd": _start_before_end,
    "plausibleAfterBirth": _after_birth,
    "withinVisitDates": _within_visit,
    "measureObservationPeriodOverlap": _period_overlap,
}
