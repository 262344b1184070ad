"""DEATH: one row when the record says the patient died or gives a date of death.

- date_of_death → DEATH.death_date (type 32879)
- vital_status = dead without a date → death_date = the latest date the person has (the
  last contact, IDEA4RC's rule, or a later event: dates.py), typed derived and marked
  `date_not_recorded`

cause_concept_id stays empty: DOD / DOC / DUC say whether the sarcoma caused the death, not
what the cause was; disease_status_last_followup keeps them (observation.py). vital_status
itself is an observation, so "alive" and "not recorded" stay apart.
"""

from __future__ import annotations

from typing import Any

from adapter.omop.mapping import PERSON, Reader, Writer

__all__ = ["from_omop", "to_omop"]


def to_omop(w: Writer) -> None:
    r = w.record
    if r.date_of_death is None and r.vital_status != "dead":
        return
    date, type_concept = w.date_or_estimate("date_of_death", r.date_of_death, None)
    w.add("death", {"person_id": PERSON, "death_date": date,
                    "death_type_concept_id": type_concept})  # fmt: skip


def from_omop(v: Reader) -> None:
    rows: list[Any] = list(v.table("death"))
    if rows:
        v.fields["date_of_death"] = v.recorded("date_of_death", rows[0].get("death_date"))
