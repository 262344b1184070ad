"""PERSON, CARE_SITE / LOCATION, OBSERVATION_PERIOD, and the age at diagnosis.

| MDS element | OMOP |
|---|---|
| record_id | PERSON.person_source_value = pseudonym(record_id); read back from the store |
| institution | CARE_SITE.care_site_source_value = pseudonym(institution); PERSON.care_site_id |
| institution_country | LOCATION.country_source_value (ISO alpha-2), CARE_SITE.location_id |
| sex | PERSON.gender_concept_id (8507 / 8532, else 0), gender_source_value = the code |
| birth_date | PERSON.year_of_birth, month_of_birth, day_of_birth: the precision is which are set |
| age_at_diagnosis | OBSERVATION (question age_at_diagnosis), value_as_number, unit year |

year_of_birth is required. Without a birth date it is estimated (diagnosis year − age) and a
`date_not_recorded` observation for birth_date says so, so the reader gives back no birth date.
The pseudonyms keep the clear record id and institution name out of the CDM (DESIGN.md,
Storage); the store holds them (adapter part) and hands the record id to `from_omop`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from adapter.errors import ConfigurationError, Level
from adapter.omop.mapping import PERSON, Reader, Writer
from adapter.omop.rows import Ref

__all__ = ["CARE_SITE", "LOCATION", "from_omop", "observation_period", "to_omop"]

CARE_SITE = Ref("care_site", "institution")
LOCATION = Ref("location", "institution")
_SOURCE_VALUE_LENGTH = 50


def _pseudonym(pseudonym: Callable[[str], str], value: str) -> str:
    out = pseudonym(value)
    if len(out) > _SOURCE_VALUE_LENGTH or out == value:
        raise ConfigurationError(
            "the pseudonym function must return a keyed pseudonym of at most 50 characters "
            "(CDM *_source_value columns are varchar(50)), never the value itself"
        )
    return out


def to_omop(w: Writer, pseudonym: Callable[[str], str]) -> None:
    r, c = w.record, w.c
    year = month = day = None
    if r.birth_date is not None:
        parts = [int(p) for p in r.birth_date.split("-")]
        year = parts[0]
        month = parts[1] if len(parts) > 1 else None
        day = parts[2] if len(parts) > 2 else None
    else:
        if r.age_at_diagnosis is not None and w.anchor is not None:
            year = w.anchor.year - r.age_at_diagnosis
        else:
            w.finding("omop.required-missing", Level.ERROR,
                      "PERSON.year_of_birth is required: no birth date, age or date to derive it",
                      ("birth_date", "age_at_diagnosis"), (None, r.age_at_diagnosis))  # fmt: skip
        w.date_or_estimate("birth_date", None, event=None)
    has_site = r.institution is not None or r.institution_country is not None
    w.add("person", {
        "person_id": PERSON,
        "gender_concept_id": c.value.get(("sex", r.sex), 0) if r.sex else 0,
        "year_of_birth": year,
        "month_of_birth": month,
        "day_of_birth": day,
        "race_concept_id": 0,
        "ethnicity_concept_id": 0,
        "care_site_id": CARE_SITE if has_site else None,
        "person_source_value": _pseudonym(pseudonym, r.record_id),
        "gender_source_value": r.sex,
    })  # fmt: skip
    if has_site:
        w.add("care_site", {
            "care_site_id": CARE_SITE,
            "location_id": LOCATION if r.institution_country is not None else None,
            "care_site_source_value": (
                _pseudonym(pseudonym, r.institution) if r.institution is not None else None
            ),
        })  # fmt: skip
    if r.institution_country is not None:
        w.add("location", {"location_id": LOCATION, "country_source_value": r.institution_country})
    if r.age_at_diagnosis is not None:
        w.observe("age_at_diagnosis", w.anchor, value_as_number=r.age_at_diagnosis,
                  unit_concept_id=c.ids["unit.year"], unit_source_value="a")  # fmt: skip


def observation_period(w: Writer, dates: Iterable[dt.date | None]) -> None:
    """One period from the first to the last date of the record: the registry's window on the
    case. Every row date is the anchor, a recorded date or an estimate made of those two."""
    known = [d for d in dates if d is not None]
    if w.anchor is not None:
        known.append(w.anchor)
    if not known:
        return
    w.add("observation_period", {
        "observation_period_id": Ref("observation_period", "registry"),
        "person_id": PERSON,
        "observation_period_start_date": min(known),
        "observation_period_end_date": max(known),
        "period_type_concept_id": w.c.type,
    })  # fmt: skip


def from_omop(v: Reader, person: dict[str, Any]) -> None:
    f = v.fields
    if "birth_date" not in v.estimated and person.get("year_of_birth") is not None:
        parts = [f"{int(person['year_of_birth']):04d}"]
        for column in ("month_of_birth", "day_of_birth"):
            if person.get(column) is None:
                break
            parts.append(f"{int(person[column]):02d}")
        f["birth_date"] = "-".join(parts)
    sex = person.get("gender_source_value")
    if sex is None and person.get("gender_concept_id"):
        sex = v.code("sex", None, person["gender_concept_id"])
    f["sex"] = sex
    site = next(
        (s for s in v.table("care_site") if s["care_site_id"] == person.get("care_site_id")), None
    )
    if site is not None and site.get("location_id") is not None:
        for loc in v.table("location"):
            if loc["location_id"] == site["location_id"]:
                f["institution_country"] = loc.get("country_source_value")
