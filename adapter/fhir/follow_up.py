"""Follow-up: the last follow-up Encounter, last contact, status, recurrence and late metastasis.

| MDS element | FHIR |
|---|---|
| date_of_last_contact | observation-dateLastContact.valueDateTime; Encounter.period.start |
| disease_status_last_followup | observation-lastFollowupStatus.valueCodeableConcept |
| local_recurrence, local_recurrence_date | Observation (mds-element).value, .effectiveDateTime |
| distant_metastasis_after_diagnosis, distant_metastasis_date | the same, its own code |

Recurrence and late metastasis are yes/no/unknown facts with a date, so they are Observations
coded by element (an IDEA4RC episode-event Condition for `yes` is left for later, ADR 0003).
"""

from __future__ import annotations

from collections.abc import Callable

from adapter.fhir.codes import (
    IG,
    LOINC,
    MDS_ELEMENT,
    SNOMED,
    Draft,
    Resource,
    absent,
    iso,
)
from adapter.fhir.ids import Build
from adapter.fhir.timeline import contact_from_encounter

__all__ = ["FIXED", "OBSERVATIONS", "PROFILES", "encounter_from_fhir", "to_fhir"]

_GENERIC = "http://hl7.eu/fhir/ig/idea4rc/CodeSystem/cs-generic-eu-i4rc"
_ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
FIXED = {
    "follow-up": (SNOMED, "390906007", "Follow-up encounter"),  # Encounter-eu-i4rc type
    "follow-up-class": (_ACT, "AMB", "ambulatory"),  # Encounter.class is 1..1 in R4
    "last-contact": (LOINC, "21975-8", "Date of last contact"),  # observation-dateLastContact
    "followup-status": (_GENERIC, "last-followup-status", "Last follow-up status"),
    "local-recurrence": (MDS_ELEMENT, "local_recurrence", "Local recurrence"),  # ours
    "distant-metastasis": (MDS_ELEMENT, "distant_metastasis_after_diagnosis", "Late metastasis"),
}
PROFILES = {
    "follow-up": IG + "Encounter-eu-i4rc",
    "last-contact": IG + "observation-dateLastContact-eu-i4rc",
    "followup-status": IG + "observation-lastFollowupStatus-eu-i4rc",
}
# role → (coded element, date element) of the yes/no/unknown events
_EVENTS = {
    "local-recurrence": ("local_recurrence", "local_recurrence_date"),
    "distant-metastasis": ("distant_metastasis_after_diagnosis", "distant_metastasis_date"),
}
_ENCOUNTER_KEYS = frozenset(
    {"status", "class", "type", "period", "episodeOfCare", "reasonReference", "diagnosis",
     "serviceProvider"}
)  # fmt: skip
_OBS_KEYS = frozenset(
    {"status", "code", "focus", "encounter", "valueDateTime", "valueCodeableConcept",
     "effectiveDateTime"}
)  # fmt: skip


def _code(role: str) -> Resource:
    system, code, display = FIXED[role]
    return {"coding": [{"system": system, "code": code, "display": display}]}


def to_fhir(b: Build) -> list[tuple[str, Resource]]:
    r = b.record
    out: list[tuple[str, Resource]] = []
    if r.date_of_last_contact is not None or r.disease_status_last_followup is not None:
        e = b.new("Encounter", "follow-up", PROFILES["follow-up"])
        e["status"] = "finished"
        system, code, display = FIXED["follow-up-class"]
        e["class"] = {"system": system, "code": code, "display": display}
        e["type"] = [_code("follow-up")]
        if r.date_of_last_contact is not None:
            e["period"] = {"start": iso(r.date_of_last_contact)}
        else:
            e["period"] = {"_start": absent()}
        e["episodeOfCare"] = [b.ids.ref("episode")]
        e["reasonReference"] = [b.ids.ref("primary-cancer")]
        out.append(("follow-up", e))
    if r.date_of_last_contact is not None:
        o = _observation(b, "last-contact")
        o["valueDateTime"] = iso(r.date_of_last_contact)
        out.append(("last-contact", o))
    if r.disease_status_last_followup is not None:
        o = _observation(b, "followup-status")
        status = r.disease_status_last_followup
        o["valueCodeableConcept"] = b.codec.concept("disease_status_last_followup", status)
        out.append(("followup-status", o))
    for role, (element, date) in _EVENTS.items():
        value, when = getattr(r, element), getattr(r, date)
        if value is None and when is None:
            continue
        o = _observation(b, role)
        if when is not None:
            o["effectiveDateTime"] = iso(when)
        if value is not None:
            o["valueCodeableConcept"] = b.codec.concept(element, value)
        out.append((role, o))
    return out


def _observation(b: Build, role: str) -> Resource:
    o = b.new("Observation", role, PROFILES.get(role))
    o["status"] = "final"
    o["code"] = _code(role)
    if role in ("last-contact", "followup-status"):
        o["encounter"] = b.ids.ref("follow-up")
    else:
        o["focus"] = [b.ids.ref("primary-cancer")]
    return o


def encounter_from_fhir(e: Resource, d: Draft) -> None:
    """Its date is a contact only if it took place (adapter/fhir/timeline.py)."""
    contact_from_encounter(e, d)
    d.leftover(e, _ENCOUNTER_KEYS)


def _last_contact(o: Resource, d: Draft) -> None:
    d.latest("date_of_last_contact", o.get("valueDateTime"), o, "Observation.valueDateTime")
    d.leftover(o, _OBS_KEYS)


def _status(o: Resource, d: Draft) -> None:
    value = o.get("valueCodeableConcept")
    d.code("disease_status_last_followup", value, o, "Observation.valueCodeableConcept")
    d.leftover(o, _OBS_KEYS)


def _event(element: str, date: str) -> Callable[[Resource, Draft], None]:
    def read(o: Resource, d: Draft) -> None:
        d.code(element, o.get("valueCodeableConcept"), o, "Observation.valueCodeableConcept")
        d.date(date, o.get("effectiveDateTime"), o, "Observation.effectiveDateTime")
        d.leftover(o, _OBS_KEYS)

    return read


# Observation.code → reader, for read.py.
OBSERVATIONS: dict[tuple[str, str], Callable[[Resource, Draft], None]] = {
    FIXED["last-contact"][:2]: _last_contact,
    FIXED["followup-status"][:2]: _status,
    **{FIXED[role][:2]: _event(*pair) for role, pair in _EVENTS.items()},
}
