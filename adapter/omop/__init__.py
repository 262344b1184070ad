"""MDS ⇄ OMOP CDM v5.4 (pure): `to_omop(record)` → rows by table, `from_omop(rows)` → record.

    rows, findings = to_omop(record, Terminology.load(), pseudonym=pseudonymiser)
    back = from_omop(rows, Terminology.load(), record_id=record.record_id)

- Rows are `OmopRows` (rows.py): id and foreign-key columns hold `Ref`s, allocated by the store.
  A column absent from a row dict is NULL. Dates are `datetime.date`, concept ids `int`.
- `pseudonym` turns source identifiers (record_id, institution) into keyed pseudonyms of at
  most 50 characters; the CDM holds no clear identifier. So `from_omop` cannot give the record
  id back from the rows: the store passes it (`record_id=`, from its record store); without it
  the pseudonym stands in. The institution is not read back at all (the store re-adds it);
  losses.py declares both.
- `resolve(vocabulary_id, concept_code)` resolves the ICDO3 diagnosis concept; the default is
  the bundled subset (terminology/), the store passes one backed by a full Athena load.
- Findings: `omop.unmapped-code` (a code with no concept: written as 0 with its source value),
  `omop.truncated`, `omop.required-missing` and `omop.no-date` (error: the rows would break a
  NOT NULL column). `from_omop` answers a Finding (`omop.unreadable`) when the rows do not make
  a valid record.

Module per target: person (PERSON, CARE_SITE, LOCATION, OBSERVATION_PERIOD), condition,
measurement, procedure, episode, observation, death; mapping.py holds the shared tables and
losses.py the declared loss list. docs/omop-mapping.md is the element-by-element map.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from adapter.errors import Finding, Level
from adapter.mds.record import MdsRecord
from adapter.mds.types import partial_date_bounds
from adapter.omop import (
    condition,
    dates,
    death,
    episode,
    measurement,
    observation,
    person,
    procedure,
)
from adapter.omop.mapping import Reader, Resolver, Writer, bundled_resolver, conventions
from adapter.omop.rows import OmopRows, Ref
from adapter.terminology import Terminology

__all__ = ["OmopRows", "Ref", "Resolver", "from_omop", "to_omop"]

_EVENT_DATES = (
    "surgery_date", "radiotherapy_start_date", "radiotherapy_end_date",
    "systemic_therapy_start_date", "systemic_therapy_end_date", "local_recurrence_date",
    "distant_metastasis_date", "date_of_last_contact", "date_of_death",
)  # fmt: skip
_RESOLVERS: dict[int, tuple[Terminology, Resolver]] = {}


def _anchor(record: MdsRecord) -> dt.date | None:
    """The date of the diagnosis rows: the diagnosis date, else the first date recorded, else
    the first day of the birth date (a record without any date still has a tumour to write)."""
    if record.diagnosis_date is not None:
        return record.diagnosis_date
    dates: list[dt.date] = [d for d in (getattr(record, n) for n in _EVENT_DATES) if d]
    if dates:
        return min(dates)
    if record.birth_date is not None:
        return partial_date_bounds(record.birth_date)[0]
    return None


def _default_resolver(terminology: Terminology) -> Resolver:
    cached = _RESOLVERS.get(id(terminology))
    if cached is None or cached[0] is not terminology:
        cached = (terminology, bundled_resolver(terminology))
        _RESOLVERS[id(terminology)] = cached
    return cached[1]


def to_omop(
    record: MdsRecord,
    terminology: Terminology,
    *,
    pseudonym: Callable[[str], str],
    resolve: Resolver | None = None,
) -> tuple[OmopRows, list[Finding]]:
    """The CDM rows of one record and what could not be mapped (pure; see the module doc)."""
    anchor = _anchor(record)
    w = Writer(record, conventions(terminology), anchor, dates.bounds(record, anchor))
    if w.anchor is None:
        w.finding("omop.no-date", Level.ERROR,
                  "the record has no date at all: OMOP rows need one", ("diagnosis_date",),
                  (None,))  # fmt: skip
    resolver = resolve or _default_resolver(terminology)
    concept = condition.to_omop(w, resolver)
    person.to_omop(w, pseudonym)
    procedure.to_omop(w)
    measurement.to_omop(w, resolver)
    observation.to_omop(w)
    death.to_omop(w)
    episode.to_omop(w, concept)
    person.observation_period(w, [getattr(record, n) for n in _EVENT_DATES])
    return w.rows, w.findings


def from_omop(
    rows: OmopRows, terminology: Terminology, *, record_id: str | None = None
) -> MdsRecord | Finding:
    """The record the rows of one person hold; ids are compared, never interpreted."""
    people = list(rows.get("person", ()))
    if len(people) != 1:
        return _unreadable(record_id, f"expected one PERSON row, found {len(people)}")
    v = Reader(rows, conventions(terminology), terminology)
    tumour = _condition(v)
    if tumour is None:
        return _unreadable(record_id, "no CONDITION_OCCURRENCE row for the tumour")
    v.fields["record_id"] = record_id or people[0].get("person_source_value")
    person.from_omop(v, people[0])
    condition.from_omop(v, tumour)
    procedure.from_omop(v)
    episode.from_omop(v)
    measurement.from_omop(v)
    observation.from_omop(v)
    death.from_omop(v)
    fields = {k: val for k, val in v.fields.items() if val is not None}
    try:
        return MdsRecord(**fields)
    except ValidationError as e:
        return _unreadable(record_id, f"the rows do not make a valid MDS record: {e}")


def _condition(v: Reader) -> dict[str, Any] | None:
    """The tumour: the condition of the disease episode, else the only condition."""
    field_concept = v.c.ids["field.condition_occurrence"]
    for disease in v.episodes("disease")[:1]:
        for f, event in v.events.get(disease["episode_id"], ()):
            found = v.by_id.get(("condition_occurrence", event))
            if f == field_concept and found is not None:
                return found
    conditions = list(v.table("condition_occurrence"))
    return conditions[0] if len(conditions) == 1 else None


def _unreadable(record_id: str | None, message: str) -> Finding:
    return Finding("omop.unreadable", Level.ERROR, message, record_id)
