"""Dates the record does not give, but an OMOP row needs: bounded by the order the record states.

OMOP's event tables need a date (procedure_date, episode_start_date, death_date are NOT NULL);
the MDS often knows a treatment or a death without its date. Writing such a fact at an
arbitrary date (the diagnosis date, as this adapter once did) puts adjuvant radiotherapy before
the surgery and deaths before chemotherapy, and an analysis reads those dates as real.

The convention (docs/omop-mapping.md, "Dates the record does not give"):

- the fact is written at the *earliest date consistent with every order the record states*:
  - a surgery: after the diagnosis and after every course the record calls neoadjuvant
    (their recorded start and end dates);
  - a radiotherapy or systemic course: at the diagnosis when neoadjuvant, peri-operative,
    definitive or of unknown timing; at the surgery when adjuvant or intra-operative (after
    it, by the record's own words); never after its own recorded end;
  - a death: at the latest date of anything else the person has (the last contact, every
    recorded or bounded date): IDEA4RC writes the last contact, OHDSI THEMIS names "the date
    of the last Patient-Provider interaction" as the imputation (death/missing_death_date),
    and a death must not come before another event of the same person;
  - the follow-up facts (vital status, disease status, recurrence, metastasis) without a date
    of last contact: at that same latest date, the last thing known of the person;
- the row says its date is derived: its type concept is `type.derived` (conventions.csv), and
  an OBSERVATION `date_not_recorded` names the element, so the reader gives back "not
  recorded", never the bound.

Pure: the record and its anchor in, the bounds out.
"""

from __future__ import annotations

import datetime as dt

from adapter.mds.record import MdsRecord

__all__ = ["AFTER_SURGERY", "BEFORE_SURGERY", "bounds"]

BEFORE_SURGERY = frozenset({"neoadjuvant", "pre_and_post"})
"""Timings whose course starts before the surgery (pre_and_post: it also goes on after)."""
AFTER_SURGERY = frozenset({"adjuvant", "intraoperative"})
"""Timings whose course starts at or after the surgery."""

_COURSES = ("radiotherapy", "systemic_therapy")


def _latest(*dates: dt.date | None) -> dt.date | None:
    known = [d for d in dates if d is not None]
    return max(known) if known else None


def _surgery(r: MdsRecord, anchor: dt.date | None) -> dt.date | None:
    if r.surgery_date is not None:
        return r.surgery_date
    after: list[dt.date | None] = [anchor]
    for course in _COURSES:
        timing = getattr(r, f"{course}_timing")
        if timing in BEFORE_SURGERY:
            after.append(getattr(r, f"{course}_start_date"))
        if timing == "neoadjuvant":
            after.append(getattr(r, f"{course}_end_date"))
    return _latest(*after)


def _course(r: MdsRecord, course: str, anchor: dt.date | None,
            surgery: dt.date | None) -> dt.date | None:  # fmt: skip
    start: dt.date | None = getattr(r, f"{course}_start_date")
    if start is not None:
        return start
    timing = getattr(r, f"{course}_timing")
    found = surgery if timing in AFTER_SURGERY and surgery is not None else anchor
    end: dt.date | None = getattr(r, f"{course}_end_date")
    if found is None or (end is not None and end < found):
        return end
    return found


def bounds(r: MdsRecord, anchor: dt.date | None) -> dict[str, dt.date | None]:
    """The date each dated fact is written at: recorded, else bounded by the stated order.

    Keys: surgery_date, radiotherapy_start_date, systemic_therapy_start_date, date_of_death
    (the ones OMOP needs and the record may lack), and last_known: the latest date of the
    person, where the follow-up facts go when the record has no date of last contact. Only a
    fact the record holds is written at all; a key is None when nothing bounds it (a record
    without any date).
    """
    surgery = _surgery(r, anchor)
    out = {
        "surgery_date": surgery,
        "radiotherapy_start_date": _course(r, "radiotherapy", anchor, surgery),
        "systemic_therapy_start_date": _course(r, "systemic_therapy", anchor, surgery),
    }
    everything = (
        anchor, r.date_of_last_contact, r.radiotherapy_end_date, r.systemic_therapy_end_date,
        r.local_recurrence_date, r.distant_metastasis_date, *out.values(),
    )  # fmt: skip
    out["last_known"] = _latest(*everything, r.date_of_death)
    out["date_of_death"] = r.date_of_death or out["last_known"]
    return out
