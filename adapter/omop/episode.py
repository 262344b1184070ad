"""EPISODE and EPISODE_EVENT (OMOP Oncology extension), as IDEA4RC's analytics read them.

- disease: 32533 Disease Episode, object = the ICDO3 condition concept, events = the
  condition (1147127) and the biopsy (1147082); start = diagnosis, end = last contact
- surgery: 32939 Cancer Surgery, object = the surgery procedure concept, event = the surgery
- radiotherapy: 32940 Cancer Radiotherapy, object = 4029715, event = the course
- systemic therapy: 32941 Cancer Drug Treatment, object = 4273629 Chemotherapy, the course's
  procedure concept: the MDS regimen is free text, so no HemOnc regimen concept can be named,
  and the CDM's convention for Treatment Episodes is an object from the Procedure domain or
  the Regimen class (Field_Level.csv, episode_object_concept_id), never 0;
  episode_source_value holds the regimen's first 50 characters; event = the 4273629 procedure
- recurrence: 2000100002 Recurrence (IDEA4RC custom), start = local_recurrence_date
- progression: 32949 Disease Progression, start = distant_metastasis_date

Treatment, recurrence and progression episodes are children of the disease episode
(episode_parent_id). The reader takes dates from the procedures and observations, not from
the episodes, except the recurrence and progression dates, whose only home is here.
"""

from __future__ import annotations

from adapter.omop.condition import source_value
from adapter.omop.mapping import CONDITION, PERSON, Reader, Writer
from adapter.omop.rows import Ref

__all__ = ["DISEASE", "from_omop", "to_omop"]

DISEASE = Ref("episode", "disease")
_DYNAMICS = (
    ("recurrence", "local_recurrence_date"),
    ("progression", "distant_metastasis_date"),
)


def _episode(w: Writer, key: str, start: object, end: object, obj: int, source: str | None,
             type_concept: int, parent: Ref | None = DISEASE) -> Ref:  # fmt: skip
    ref = DISEASE if key == "disease" else Ref("episode", key)
    w.add("episode", {
        "episode_id": ref,
        "person_id": PERSON,
        "episode_concept_id": w.c.ids[f"episode.{key}"],
        "episode_start_date": start,
        "episode_end_date": end,
        "episode_parent_id": parent,
        "episode_object_concept_id": obj,
        "episode_type_concept_id": type_concept,
        "episode_source_value": source,
    })  # fmt: skip
    return ref


def _event(w: Writer, episode: Ref, event: Ref) -> None:
    w.add("episode_event", {
        "episode_id": episode,
        "event_id": event,
        "episode_event_field_concept_id": w.c.ids[f"field.{event.table}"],
    })  # fmt: skip


def to_omop(w: Writer, condition_concept: int) -> None:
    r = w.record
    source = source_value(r.histology_icdo3, r.primary_site_icdo3)
    _episode(
        w,
        "disease",
        w.anchor,
        r.date_of_last_contact,
        condition_concept,
        source,
        w.anchor_type,
        None,
    )
    _event(w, DISEASE, CONDITION)
    biopsy = w.treatments.get("biopsy")
    if biopsy is not None:
        _event(w, DISEASE, biopsy.ref)
    for key in ("surgery", "radiotherapy", "systemic_therapy"):
        t = w.treatments.get(key)
        if t is None:
            continue
        regimen = r.systemic_regimen if key == "systemic_therapy" else None
        episode = _episode(
            w, key, t.start, t.end, t.concept, regimen[:50] if regimen else None, t.type
        )
        _event(w, episode, t.ref)
    for key, name in _DYNAMICS:
        date = getattr(r, name)
        if date is not None:
            _episode(w, key, date, None, condition_concept, name, w.c.type)


def from_omop(v: Reader) -> None:
    for key, name in _DYNAMICS:
        for episode in v.episodes(key)[:1]:
            v.fields[name] = v.date(episode.get("episode_start_date"))
