"""R14 dates: birth, diagnosis, treatment, events and last contact happen in that order."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from adapter.errors import Finding, Level
from adapter.mds.record import MdsRecord
from adapter.mds.rules.base import Rule, RuleConfig, age_range, finding
from adapter.mds.types import partial_date_bounds

__all__ = ["RULE", "check"]

# Dates that start at or after diagnosis, and must be on or before the last contact.
AFTER_DIAGNOSIS = (
    "surgery_date",
    "radiotherapy_start_date",
    "systemic_therapy_start_date",
    "local_recurrence_date",
    "distant_metastasis_date",
    "date_of_last_contact",
    "date_of_death",
)
BEFORE_LAST_CONTACT = (
    "diagnosis_date",
    "surgery_date",
    "radiotherapy_start_date",
    "radiotherapy_end_date",
    "systemic_therapy_start_date",
    "systemic_therapy_end_date",
    "local_recurrence_date",
    "distant_metastasis_date",
)
COURSES = (
    ("radiotherapy_start_date", "radiotherapy_end_date"),
    ("systemic_therapy_start_date", "systemic_therapy_end_date"),
)


def _order(r: MdsRecord, first: str, then: str, how: str) -> Iterator[Finding]:
    a: dt.date | None = getattr(r, first)
    b: dt.date | None = getattr(r, then)
    if a is not None and b is not None and b < a:
        yield finding(
            "R14",
            Level.ERROR,
            r,
            f"{then} {b} is before {first} {a} ({how})",
            **{first: a, then: b},
        )


def _birth(r: MdsRecord) -> Iterator[Finding]:
    if r.birth_date is None:
        return
    earliest_birth = partial_date_bounds(r.birth_date)[0]
    dated = [
        (n, getattr(r, n))
        for n in (
            "diagnosis_date",
            *BEFORE_LAST_CONTACT[1:],
            "date_of_last_contact",
            "date_of_death",
        )
    ]
    dated = [(n, d) for n, d in dated if d is not None]
    if not dated:
        return
    name, first = min(dated, key=lambda nd: nd[1])
    if first < earliest_birth:
        yield finding(
            "R14",
            Level.ERROR,
            r,
            f"{name} {first} is before birth_date {r.birth_date}",
            birth_date=r.birth_date,
            **{name: first},
        )


def _death(r: MdsRecord) -> Iterator[Finding]:
    death, last = r.date_of_death, r.date_of_last_contact
    if death is None:
        return
    if r.vital_status == "alive":
        yield finding(
            "R14",
            Level.ERROR,
            r,
            f"date_of_death {death} recorded but vital_status alive",
            date_of_death=death,
            vital_status="alive",
        )
    if last is not None and death != last:
        yield finding(
            "R14",
            Level.ERROR,
            r,
            f"date_of_death {death} differs from date_of_last_contact {last}",
            date_of_death=death,
            date_of_last_contact=last,
        )


def _age(r: MdsRecord) -> Iterator[Finding]:
    if r.age_at_diagnosis is None or r.birth_date is None or r.diagnosis_date is None:
        return
    youngest, oldest = age_range(r.model_copy(update={"age_at_diagnosis": None})) or (0, 0)
    if not youngest <= r.age_at_diagnosis <= oldest:
        possible = str(youngest) if youngest == oldest else f"{youngest} or {oldest}"
        yield finding(
            "R14",
            Level.ERROR,
            r,
            f"age_at_diagnosis {r.age_at_diagnosis} does not fit birth_date {r.birth_date} "
            f"and diagnosis_date {r.diagnosis_date} ({possible})",
            age_at_diagnosis=r.age_at_diagnosis,
            birth_date=r.birth_date,
            diagnosis_date=r.diagnosis_date,
        )


def check(record: MdsRecord, config: RuleConfig) -> Iterator[Finding]:
    yield from _birth(record)
    for name in AFTER_DIAGNOSIS:
        yield from _order(record, "diagnosis_date", name, "diagnosis comes first")
    for start, end in COURSES:
        yield from _order(record, start, end, "a course ends after it starts")
    for name in BEFORE_LAST_CONTACT[1:]:  # diagnosis vs last contact is checked above
        yield from _order(record, name, "date_of_last_contact", "last contact is the latest date")
    yield from _death(record)
    yield from _age(record)


RULE = Rule("R14", "dates", "error", check)
