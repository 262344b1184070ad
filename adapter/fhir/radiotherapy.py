"""The radiotherapy course: one Procedure-radiotheraphy (sic, the IG's URL) per record.

| MDS element | FHIR |
|---|---|
| radiotherapy_given | Procedure.status: yes completed, no not-done, unknown unknown |
| radiotherapy_timing | Procedure.extension(R5 Procedure.category) (radiotherapy-timing.csv) |
| radiotherapy_start_date, radiotherapy_end_date | Procedure.performedPeriod.start / .end |
| radiotherapy_total_dose_gy | extension(mCODE dose-delivered-to-volume).totalDoseDelivered, cGy |
| radiotherapy_fractions | the same extension's fractionsDelivered |
"""

from __future__ import annotations

from adapter.fhir.codes import (
    IG,
    SNOMED,
    UCUM,
    Draft,
    Resource,
    absent,
    extension,
    extensions,
    iso,
    scale,
    status_of,
)
from adapter.fhir.ids import Build
from adapter.fhir.quantities import GY, measure

__all__ = ["CATEGORY_R5", "DOSE", "FIXED", "PROFILES", "STATUS", "from_fhir", "to_fhir"]

FIXED = {
    # Procedure-radiotheraphy-eu-i4rc: category pinned; code 1..1 unbound, the same code used
    "radiotherapy": (SNOMED, "108290001", "Radiotherapy"),
}
PROFILES = {"radiotherapy": IG + "Procedure-radiotheraphy-eu-i4rc"}
STATUS = {"yes": "completed", "no": "not-done", "unknown": "unknown"}
CATEGORY_R5 = "http://hl7.org/fhir/5.0/StructureDefinition/extension-Procedure.category"
DOSE = (
    "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-radiotherapy-dose-delivered-to-volume"
)
_CGY_PER_GY = 100
_KEYS = frozenset({"status", "category", "code", "performedPeriod", "reasonReference"})


def to_fhir(b: Build) -> list[tuple[str, Resource]]:
    r = b.record
    elements = (
        r.radiotherapy_given, r.radiotherapy_timing, r.radiotherapy_start_date,
        r.radiotherapy_end_date, r.radiotherapy_total_dose_gy, r.radiotherapy_fractions,
    )  # fmt: skip
    if all(e is None for e in elements):
        return []
    p = b.new("Procedure", "radiotherapy", PROFILES["radiotherapy"])
    ext = []
    if r.radiotherapy_timing is not None:
        concept = b.codec.concept("radiotherapy_timing", r.radiotherapy_timing)
        ext.append(extension(CATEGORY_R5, valueCodeableConcept=concept))
    dose = []
    if r.radiotherapy_total_dose_gy is not None:
        cgy = scale(r.radiotherapy_total_dose_gy, _CGY_PER_GY)
        value = {"value": cgy, "unit": "cGy", "system": UCUM, "code": "cGy"}
        dose.append(extension("totalDoseDelivered", valueQuantity=value))
    if r.radiotherapy_fractions is not None:
        dose.append(extension("fractionsDelivered", valueUnsignedInt=r.radiotherapy_fractions))
    if dose:
        ext.append(extension(DOSE, extension=dose))
    if ext:
        p["extension"] = ext
    p["status"], absent_status = status_of(r.radiotherapy_given, STATUS)
    if absent_status:
        p["_status"] = absent_status
    system, code, display = FIXED["radiotherapy"]
    for name in ("category", "code"):  # the same code, in two dicts of its own
        p[name] = {"coding": [{"system": system, "code": code, "display": display}]}
    period = {}
    if r.radiotherapy_start_date is not None:
        period["start"] = iso(r.radiotherapy_start_date)
    if r.radiotherapy_end_date is not None:
        period["end"] = iso(r.radiotherapy_end_date)
    p["performedPeriod"] = period or absent()  # performed[x] is 1..1 in the profile
    p["reasonReference"] = [b.ids.ref("primary-cancer")]
    return [("radiotherapy", p)]


def from_fhir(p: Resource, d: Draft) -> None:
    d.given("radiotherapy_given", p, STATUS)
    for e in extensions(p, CATEGORY_R5):
        concept = e.get("valueCodeableConcept")
        d.code("radiotherapy_timing", concept, p, "Procedure.extension(category)")
    period = p.get("performedPeriod", {})
    d.date("radiotherapy_start_date", period.get("start"), p, "Procedure.performedPeriod.start")
    d.date("radiotherapy_end_date", period.get("end"), p, "Procedure.performedPeriod.end")
    for e in extensions(p, DOSE):
        for part in e.get("extension", ()):
            _read_dose(part, p, d)
    d.leftover(p, _KEYS, frozenset({CATEGORY_R5, DOSE}))


def _read_dose(part: Resource, p: Resource, d: Draft) -> None:
    url = part.get("url")
    path = f"Procedure.extension(dose).{url}"
    if url == "totalDoseDelivered":
        d.put(
            "radiotherapy_total_dose_gy",
            measure(part.get("valueQuantity"), GY, d, p, path),
            p,
            path,
        )
    elif url == "fractionsDelivered":
        value = part.get("valueUnsignedInt", part.get("valuePositiveInt"))
        if isinstance(value, int) and not isinstance(value, bool):
            d.put("radiotherapy_fractions", value, p, path)
        else:
            d.report("fhir.unsupported-value", p, path, "fractions need a whole number", value)
    else:
        d.report("fhir.unsupported-element", p, path, "no MDS element")
