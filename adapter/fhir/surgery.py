"""Surgery of the primary tumour, with its margins, and the necrosis seen after neoadjuvant care.

| MDS element | FHIR |
|---|---|
| surgery_performed | Procedure-surgery.status: yes completed, no not-done, unknown unknown |
| surgery_date | Procedure.performedDateTime |
| surgery_type | Procedure.code (surgery-type.csv) |
| surgical_margin_r | Procedure.outcome (R0/R1/R2 Cancer Modifier concepts, conflict C1) |
| surgical_margin_enneking | Procedure.extension(surgical-margin-enneking) |
| percent_necrosis_post_neoadjuvant | Observation (mds-element code), valueQuantity in % |
"""

from __future__ import annotations

from adapter.fhir.codes import (
    IG,
    MDS_ELEMENT,
    OURS,
    SNOMED,
    Draft,
    Resource,
    absent,
    extension,
    extensions,
    iso,
    quantity,
    status_of,
)
from adapter.fhir.ids import Build
from adapter.fhir.quantities import PERCENT, measure

__all__ = [
    "ENNEKING",
    "FIXED",
    "PROFILES",
    "STATUS",
    "from_fhir",
    "necrosis_from_fhir",
    "to_fhir",
]

FIXED = {
    "surgery": (SNOMED, "387713003", "Surgical procedure"),  # Procedure-surgery-eu-i4rc category
    "necrosis": (MDS_ELEMENT, "percent_necrosis_post_neoadjuvant", "Percent necrosis"),  # ours
}
PROFILES = {"surgery": IG + "Procedure-surgery-eu-i4rc"}
STATUS = {"yes": "completed", "no": "not-done", "unknown": "unknown"}
ENNEKING = OURS + "surgical-margin-enneking"
_KEYS = frozenset({"status", "category", "code", "performedDateTime", "outcome", "reasonReference"})
_OBS_KEYS = frozenset({"status", "code", "focus", "partOf", "valueQuantity"})


def _fixed(role: str) -> Resource:
    system, code, display = FIXED[role]
    return {"coding": [{"system": system, "code": code, "display": display}]}


def to_fhir(b: Build) -> list[tuple[str, Resource]]:
    r, codec = b.record, b.codec
    out: list[tuple[str, Resource]] = []
    elements = (
        r.surgery_performed, r.surgery_date, r.surgery_type, r.surgical_margin_r,
        r.surgical_margin_enneking,
    )  # fmt: skip
    if any(e is not None for e in elements):
        p = b.new("Procedure", "surgery", PROFILES["surgery"])
        if r.surgical_margin_enneking is not None:
            concept = codec.concept("surgical_margin_enneking", r.surgical_margin_enneking)
            p["extension"] = [extension(ENNEKING, valueCodeableConcept=concept)]
        p["status"], absent_status = status_of(r.surgery_performed, STATUS)
        if absent_status:
            p["_status"] = absent_status
        p["category"] = _fixed("surgery")
        if r.surgery_type is not None:
            p["code"] = codec.concept("surgery_type", r.surgery_type)
        if r.surgery_date is not None:
            p["performedDateTime"] = iso(r.surgery_date)
        else:
            p["_performedDateTime"] = absent()  # performed[x] is 1..1 in the profile
        p["reasonReference"] = [b.ids.ref("primary-cancer")]
        if r.surgical_margin_r is not None:
            p["outcome"] = codec.concept("surgical_margin_r", r.surgical_margin_r)
        out.append(("surgery", p))
    if r.percent_necrosis_post_neoadjuvant is not None:
        o = b.new("Observation", "necrosis", None)
        o["status"] = "final"
        o["code"] = _fixed("necrosis")
        o["focus"] = [b.ids.ref("primary-cancer")]
        o["valueQuantity"] = quantity(r.percent_necrosis_post_neoadjuvant, "%")
        out.append(("necrosis", o))
    return out


def from_fhir(p: Resource, d: Draft) -> None:
    d.given("surgery_performed", p, STATUS)
    d.code("surgery_type", p.get("code"), p, "Procedure.code")
    d.date("surgery_date", p.get("performedDateTime"), p, "Procedure.performedDateTime")
    d.code("surgical_margin_r", p.get("outcome"), p, "Procedure.outcome")
    for e in extensions(p, ENNEKING):
        concept = e.get("valueCodeableConcept")
        d.code("surgical_margin_enneking", concept, p, "Procedure.extension(enneking)")
    d.leftover(p, _KEYS, frozenset({ENNEKING}))


def necrosis_from_fhir(o: Resource, d: Draft) -> None:
    percent = measure(o.get("valueQuantity"), PERCENT, d, o, "Observation.valueQuantity")
    d.put("percent_necrosis_post_neoadjuvant", percent, o, "Observation.valueQuantity")
    d.leftover(o, _OBS_KEYS)
