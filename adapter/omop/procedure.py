"""PROCEDURE_OCCURRENCE: biopsy, surgery, radiotherapy and systemic therapy.

- biopsy_type → the biopsy-type.csv concept, dated at diagnosis, in the disease EPISODE
- surgery_type, surgery_date → the surgery-type.csv concept (4301351 Surgical procedure when
  the type is not recorded) and its date, in a Cancer Surgery EPISODE
- radiotherapy_start/end_date → procedure_date / procedure_end_date of 4029715, in a Cancer
  Radiotherapy EPISODE
- systemic_therapy_start/end_date → the same of 4273629 Chemotherapy, in a Cancer Drug
  Treatment EPISODE (IDEA4RC's analytics look for that procedure beside the episode)

procedure_source_value holds the MDS code. A course is written when the record says it was
given or holds any fact of it (a date, a dose, a regimen), so no recorded fact loses its home;
a missing start date is estimated and marked (`date_not_recorded`). Codes whose map has no OMOP
concept (biopsy `unknown`, surgery `none`) go to OBSERVATION under the element's question.
"""

from __future__ import annotations

from typing import Any

from adapter.omop.mapping import PERSON, Reader, Treatment, Writer
from adapter.omop.rows import Ref

__all__ = ["BIOPSY", "RADIOTHERAPY", "SURGERY", "SYSTEMIC_THERAPY", "from_omop", "to_omop"]

BIOPSY = Ref("procedure_occurrence", "biopsy")
SURGERY = Ref("procedure_occurrence", "surgery")
RADIOTHERAPY = Ref("procedure_occurrence", "radiotherapy")
SYSTEMIC_THERAPY = Ref("procedure_occurrence", "systemic_therapy")


def _procedure(w: Writer, key: str, t: Treatment, source: str | None) -> None:
    w.treatments[key] = t
    w.add("procedure_occurrence", {
        "procedure_occurrence_id": t.ref,
        "person_id": PERSON,
        "procedure_concept_id": t.concept,
        "procedure_date": t.start,
        "procedure_end_date": t.end,
        "procedure_type_concept_id": t.type,
        "procedure_source_value": source,
    })  # fmt: skip


def to_omop(w: Writer) -> None:
    r, c = w.record, w.c
    if r.biopsy_type is not None:
        concept = c.value.get(("biopsy_type", r.biopsy_type))
        if concept is None:
            w.observe("biopsy_type", w.anchor, code=r.biopsy_type, type_concept=w.anchor_type)
        else:
            biopsy = Treatment(BIOPSY, w.anchor, None, concept, w.anchor_type)
            _procedure(w, "biopsy", biopsy, r.biopsy_type)
    typed = c.value.get(("surgery_type", r.surgery_type)) if r.surgery_type else None
    if r.surgery_type is not None and typed is None:
        w.observe("surgery_type", w.anchor, code=r.surgery_type, type_concept=w.anchor_type)
    if r.surgery_performed == "yes" or r.surgery_date is not None or typed is not None:
        start, kind = w.date_or_estimate("surgery_date", r.surgery_date, SURGERY)
        concept = typed if typed is not None else c.ids["procedure.surgery"]
        source = r.surgery_type if typed is not None else None
        _procedure(w, "surgery", Treatment(SURGERY, start, None, concept, kind), source)
    if r.radiotherapy_given == "yes" or any(
        v is not None
        for v in (r.radiotherapy_start_date, r.radiotherapy_end_date,
                  r.radiotherapy_total_dose_gy, r.radiotherapy_fractions)
    ):  # fmt: skip
        start, kind = w.date_or_estimate("radiotherapy_start_date", r.radiotherapy_start_date,
                                         RADIOTHERAPY)  # fmt: skip
        t = Treatment(RADIOTHERAPY, start, r.radiotherapy_end_date,
                      c.ids["procedure.radiotherapy"], kind)  # fmt: skip
        _procedure(w, "radiotherapy", t, None)
    if r.systemic_therapy_given == "yes" or any(
        v is not None
        for v in (r.systemic_therapy_start_date, r.systemic_therapy_end_date, r.systemic_regimen)
    ):
        start, kind = w.date_or_estimate(
            "systemic_therapy_start_date", r.systemic_therapy_start_date, SYSTEMIC_THERAPY
        )
        t = Treatment(SYSTEMIC_THERAPY, start, r.systemic_therapy_end_date,
                      c.ids["procedure.systemic_therapy"], kind)  # fmt: skip
        _procedure(w, "systemic_therapy", t, None)


def from_omop(v: Reader) -> None:
    f = v.fields
    for disease in v.episodes("disease")[:1]:
        biopsy = v.procedure_of(disease)
        if biopsy is not None:
            f["biopsy_type"] = _code(v, "biopsy_type", biopsy)
    for episode in v.episodes("surgery")[:1]:
        surgery = v.procedure_of(episode)
        if surgery is not None:
            if surgery.get("procedure_concept_id") != v.c.ids["procedure.surgery"]:
                f["surgery_type"] = _code(v, "surgery_type", surgery)
            elif surgery.get("procedure_source_value") is not None:
                f["surgery_type"] = str(surgery["procedure_source_value"])
            f["surgery_date"] = v.recorded("surgery_date", surgery.get("procedure_date"))
    for key in ("radiotherapy", "systemic_therapy"):
        for episode in v.episodes(key)[:1]:
            course = v.procedure_of(episode)
            if course is not None:
                f[f"{key}_start_date"] = v.recorded(f"{key}_start_date", course["procedure_date"])
                f[f"{key}_end_date"] = v.date(course.get("procedure_end_date"))


def _code(v: Reader, name: str, row: dict[str, Any]) -> str | None:
    return v.code(name, row.get("procedure_source_value"), row.get("procedure_concept_id"))
