"""OBSERVATION: the elements with no standard OMOP home, under local question concepts.

Each row: observation_concept_id = the element's local question concept (SarcomaMDS
vocabulary, 2000300001–2000300031, adapter/omop/conventions.csv), value_source_value = the MDS
code verbatim, value_as_concept_id = the concept the element's map writes for it (if any, e.g.
4188539 Yes, 2000100071 NED, 32528 Disease First Occurrence), observation_source_value = the
element name, linked to the condition (1147127) or to the treatment it describes (1147082).

- at diagnosis, on the condition: presentation_status, tissue_of_origin, laterality,
  grading_system, diagnostic_confirmation, enneking_stage (and age_at_diagnosis, person.py)
- on the treatment's procedure (else the condition), at its start: surgery_performed,
  surgical_margin_enneking, radiotherapy_given/_timing, systemic_therapy_given/_timing,
  systemic_regimen (value_as_string, 60 characters)
- at the last contact, on the condition: vital_status, disease_status_last_followup,
  local_recurrence, distant_metastasis_after_diagnosis; date_of_last_contact is the
  observation_date of its own row

Why not IDEA4RC's split (NED/AWD not stored, DOD/DOC/DUC only as DEATH, lost → 4163894 as the
observation concept): it cannot give the status back, and DEATH cannot say why. The value
concepts keep IDEA4RC's ids, so their queries on value_as_concept_id still find them.
"""

from __future__ import annotations

from adapter.errors import Level
from adapter.omop.losses import REGIMEN_LENGTH
from adapter.omop.mapping import MODIFIERS, OBSERVED, Reader, Writer

__all__ = ["TEXT_LENGTH", "from_omop", "to_omop"]

TEXT_LENGTH = REGIMEN_LENGTH  # OBSERVATION.value_as_string is varchar(60)
_TREATMENT = {
    "surgery_performed": "surgery",
    "surgical_margin_enneking": "surgery",
    "radiotherapy_given": "radiotherapy",
    "radiotherapy_timing": "radiotherapy",
    "systemic_therapy_given": "systemic_therapy",
    "systemic_therapy_timing": "systemic_therapy",
}
_FOLLOW_UP = frozenset(
    {"vital_status", "disease_status_last_followup", "local_recurrence",
     "distant_metastasis_after_diagnosis"}
)  # fmt: skip
_CODED_ELSEWHERE = frozenset({*MODIFIERS, "biopsy_type", "surgery_type"})


def to_omop(w: Writer) -> None:
    r = w.record
    last = r.date_of_last_contact or w.bounds.get("last_known") or w.anchor
    last_type = w.c.type if r.date_of_last_contact is not None else w.c.ids["type.derived"]
    for name in OBSERVED:
        code = getattr(r, name)
        if code is None:
            continue
        event, date, kind = w.event(_TREATMENT.get(name, ""))
        if name in _FOLLOW_UP:
            date, kind = last, last_type
        w.observe(name, date, code=code, event=event, type_concept=kind)
    if r.systemic_regimen is not None:
        event, date, kind = w.event("systemic_therapy")
        text = r.systemic_regimen
        if len(text) > TEXT_LENGTH:
            w.finding("omop.truncated", Level.WARNING,
                      f"systemic_regimen is longer than OBSERVATION.value_as_string "
                      f"({TEXT_LENGTH} characters): cut; the record store keeps it whole",
                      ("systemic_regimen",), (text,))  # fmt: skip
        w.observe(
            "systemic_regimen",
            date,
            event=event,
            value_as_string=text[:TEXT_LENGTH],
            type_concept=kind,
        )
    if r.date_of_last_contact is not None:
        w.observe("date_of_last_contact", r.date_of_last_contact)


def from_omop(v: Reader) -> None:
    f, c = v.fields, v.c
    for o in v.table("observation"):
        name = c.element_of_question.get(o.get("observation_concept_id"))  # type: ignore[arg-type]
        if name is None:
            continue
        if name == "age_at_diagnosis":
            number = o.get("value_as_number")
            f[name] = round(float(number)) if number is not None else None
        elif name == "date_of_last_contact":
            f[name] = v.date(o.get("observation_date"))
        elif name == "systemic_regimen":
            f[name] = o.get("value_as_string")
        elif name == "institution_country":
            f[name] = o.get("value_source_value")
        else:
            code = v.code(name, o.get("value_source_value"), o.get("value_as_concept_id"))
            if name == "metastasis_sites_at_diagnosis":
                f.setdefault(name, [])
                if code is not None:
                    f[name].append(code)
            elif name in _CODED_ELSEWHERE or name in OBSERVED:
                f[name] = code
