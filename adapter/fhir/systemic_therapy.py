"""Systemic therapy: one MedicationAdministration-eu-i4rc per record.

| MDS element | FHIR |
|---|---|
| systemic_therapy_given | MedicationAdministration.status: completed, not-done, unknown |
| systemic_therapy_timing | MedicationAdministration.extension(R5 category) |
| systemic_therapy_start_date, systemic_therapy_end_date | effectivePeriod.start / .end |
| systemic_regimen | medicationCodeableConcept.text (free text in the MDS; no regimen map yet) |

FHIR requires medication[x] and effective[x]; when the record has no regimen or no dates they
carry data-absent-reason instead of a made-up value.
"""

from __future__ import annotations

from adapter.fhir.codes import (
    IG,
    Draft,
    Resource,
    absent,
    extension,
    extensions,
    iso,
    status_of,
)
from adapter.fhir.ids import Build

__all__ = ["CATEGORY_R5", "PROFILES", "STATUS", "from_fhir", "to_fhir"]

PROFILES = {"systemic-therapy": IG + "MedicationAdministration-eu-i4rc"}
STATUS = {"yes": "completed", "no": "not-done", "unknown": "unknown"}
CATEGORY_R5 = (
    "http://hl7.org/fhir/5.0/StructureDefinition/extension-MedicationAdministration.category"
)
_KEYS = frozenset({"status", "medicationCodeableConcept", "effectivePeriod", "reasonReference"})


def to_fhir(b: Build) -> list[tuple[str, Resource]]:
    r = b.record
    elements = (
        r.systemic_therapy_given, r.systemic_therapy_timing, r.systemic_therapy_start_date,
        r.systemic_therapy_end_date, r.systemic_regimen,
    )  # fmt: skip
    if all(e is None for e in elements):
        return []
    m = b.new("MedicationAdministration", "systemic-therapy", PROFILES["systemic-therapy"])
    timing = r.systemic_therapy_timing
    # the profile wants a category (1..*): without a timing it carries data-absent-reason
    concept = b.codec.concept("systemic_therapy_timing", timing) if timing else absent()
    m["extension"] = [extension(CATEGORY_R5, valueCodeableConcept=concept)]
    m["status"], absent_status = status_of(r.systemic_therapy_given, STATUS)
    if absent_status:
        m["_status"] = absent_status
    if r.systemic_regimen is not None:
        m["medicationCodeableConcept"] = {"text": r.systemic_regimen}
    else:
        m["medicationCodeableConcept"] = absent()
    period = {}
    if r.systemic_therapy_start_date is not None:
        period["start"] = iso(r.systemic_therapy_start_date)
    if r.systemic_therapy_end_date is not None:
        period["end"] = iso(r.systemic_therapy_end_date)
    m["effectivePeriod"] = period or absent()
    m["reasonReference"] = [b.ids.ref("primary-cancer")]
    return [("systemic-therapy", m)]


def from_fhir(m: Resource, d: Draft) -> None:
    d.given("systemic_therapy_given", m, STATUS)
    for e in extensions(m, CATEGORY_R5):
        concept = e.get("valueCodeableConcept")
        d.code("systemic_therapy_timing", concept, m, "MedicationAdministration.category")
    medication = m.get("medicationCodeableConcept", {})
    if isinstance(medication.get("text"), str):
        d.put("systemic_regimen", medication["text"], m, "medicationCodeableConcept.text")
    elif medication.get("coding"):
        d.report(
            "fhir.unsupported-value", m, "MedicationAdministration.medicationCodeableConcept",
            "a coded drug or regimen without text: no regimen map yet",
        )  # fmt: skip
    period = m.get("effectivePeriod", {})
    path = "MedicationAdministration.effectivePeriod"
    d.date("systemic_therapy_start_date", period.get("start"), m, path + ".start")
    d.date("systemic_therapy_end_date", period.get("end"), m, path + ".end")
    d.leftover(m, _KEYS, frozenset({CATEGORY_R5}))
