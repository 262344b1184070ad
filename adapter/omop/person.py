"""PERSON, CARE_SITE / LOCATION, OBSERVATION_PERIOD, and the age at diagnosis.

| MDS element | OMOP |
|---|---|
| record_id | PERSON.person_source_value = pseudonym(record_id); read back from the store |
| institution | CARE_SITE.care_site_source_value = pseudonym(institution); PERSON.care_site_id |
| institution_country | OBSERVATION (question institution_country); the care site's LOCATION |

One CARE_SITE per institution and one LOCATION per country, shared by every person of that
institution (rows.SHARED_TABLES): the care site's Ref key is the institution's pseudonym, the
location's the country. The store writes a shared row once (the first record that names it;
a care site without a location gets the first country a later record gives), so the record's
own institution_country is also an OBSERVATION of its own: a record that leaves the country
out, or disagrees with its institution's other records, still reads back as written.
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

__all__ = ["care_site_ref", "from_omop", "location_ref", "observation_period", "to_omop"]

_SOURCE_VALUE_LENGTH = 50


def _pseudonym(pseudonym: Callable[[str], str], value: str) -> str:
    out = pseudonym(value)
    if len(out) > _SOURCE_VALUE_LENGTH or out == value:
        raise ConfigurationError(
            "the pseudonym function must return a keyed pseudonym of at most 50 characters "
            "(CDM *_source_value columns are varchar(50)), never the value itself"
        )
    return out


def location_ref(country: str) -> Ref:
    """The shared LOCATION of a country."""
    return Ref("location", f"country/{country}")


def care_site_ref(institution_pseudonym: str) -> Ref:
    """The shared CARE_SITE of an institution (keyed by its pseudonym, never its name)."""
    return Ref("care_site", f"institution/{institution_pseudonym}")


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
    site = None
    if r.institution is not None:
        source = _pseudonym(pseudonym, r.institution)
        site = care_site_ref(source)
        country = r.institution_country
        w.add("care_site", {
            "care_site_id": site,
            "location_id": location_ref(country) if country is not None else None,
            "care_site_source_value": source,
        })  # fmt: skip
        if country is not None:
            w.add("location", {"location_id": location_ref(country),
                               "country_source_value": country})  # fmt: skip
    w.add("person", {
        "person_id": PERSON,
        "gender_concept_id": c.value.get(("sex", r.sex), 0) if r.sex else 0,
        "year_of_birth": year,
        "month_of_birth": month,
        "day_of_birth": day,
        "race_concept_id": 0,
        "ethnicity_concept_id": 0,
        "care_site_id": site,
        "person_source_value": _pseudonym(pseudonym, r.record_id),
        "gender_source_value": r.sex,
    })  # fmt: skip
    if r.institution_country is not None:
        w.observe("institution_country", w.anchor, code=r.institution_country,
                  type_concept=w.anchor_type)  # fmt: skip
    if r.age_at_diagnosis is not None:
        w.observe("age_at_diagnosis", w.anchor, value_as_number=r.age_at_diagnosis,
                  unit_concept_id=c.ids["unit.year"], unit_source_value="a",
                  type_concept=w.anchor_type)  # fmt: skip


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
