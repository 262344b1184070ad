"""When things happened: metastases after diagnosis, recurrence, and the last real contact.

The MDS tells apart what was known at diagnosis (metastasis_sites_at_diagnosis) from what came
later (distant_metastasis_after_diagnosis, local_recurrence), and wants the last date the
patient was actually seen. Foreign FHIR says this through dates and statuses, not through
which resource carries it, so these readers look at the dates:

- a metastasis Condition whose onset is after the diagnosis date is a late metastasis:
  distant_metastasis_after_diagnosis = yes, distant_metastasis_date = the earliest such onset
  (its sites have no MDS element and are reported); one without an onset, or with an onset on
  or before the diagnosis date, stays a metastasis at diagnosis. "After" is taken literally: a
  metastasis found by the staging work-up days after the biopsy should carry an onset on the
  diagnosis date, as the IDEA4RC disease-extent model does;
- recurrence is local_recurrence = yes: the FHIR clinical status `recurrence` / `relapse` of
  the tumour, or an IDEA4RC episode event whose status is Recurrence (2000100002), dated by the
  event's onset (FHIR does not say local or distant; the MDS has no distant recurrence other
  than late metastasis, so a recurrence of the tumour is read as local);
- the last contact is the latest date of a contact that happened: a dateLastContact
  Observation, or an Encounter that took place (finished, in progress, …; its end, else its
  start). A planned, cancelled, entered-in-error or unknown Encounter is no contact and is
  reported (`fhir.not-a-contact`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapter.fhir.codes import Draft, Resource, cc_codes

__all__ = [
    "CLINICAL",
    "CONTACT_STATUSES",
    "RECURRENCE",
    "contact_from_encounter",
    "event_from_fhir",
    "late_metastases",
    "metastases_in_time",
    "onset",
    "recurrence_from_status",
]

CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
_I4RC_VOCAB = "http://hl7.eu/fhir/ig/idea4rc/CodeSystem/cs-idea4rc-vocab-eu-i4rc"
# Codes of Condition.clinicalStatus that mean the tumour came back (IDEA4RC cancer-event-type-vs
# carries its Recurrence concept in its own code system).
RECURRENCE = frozenset(
    {(CLINICAL, "recurrence"), (CLINICAL, "relapse"), (_I4RC_VOCAB, "2000100002")}
)
_RELATED = "http://hl7.org/fhir/StructureDefinition/condition-related"
_LATE_KEYS = frozenset({"code", "bodySite", "onsetDateTime", "onsetPeriod"})
# Encounter.status values of an encounter that took place (R4 encounter-status).
CONTACT_STATUSES = frozenset({"finished", "in-progress", "arrived", "triaged", "onleave"})


def onset(c: Mapping[str, Any]) -> Any:
    """The onset as a date text (onsetDateTime, else onsetPeriod.start), or None."""
    return c.get("onsetDateTime") or (c.get("onsetPeriod") or {}).get("start")


def metastases_in_time(
    metastases: list[Resource], d: Draft
) -> tuple[list[Resource], list[Resource]]:
    """(at diagnosis, after diagnosis): read after everything else, when the diagnosis date is
    known from the tumour or its diagnosis Observation."""
    diagnosed = d.values.get("diagnosis_date")
    early: list[Resource] = []
    late: list[Resource] = []
    for c in metastases:
        when = d.full_date("distant_metastasis_date", onset(c), c, "Condition.onset")
        (late if diagnosed is not None and when is not None and when > diagnosed else early).append(
            c
        )
    return early, late


def late_metastases(late: list[Resource], d: Draft) -> None:
    """Metastases found after diagnosis: yes, dated by the earliest onset; their sites have no
    MDS element (distant_metastasis_after_diagnosis has none) and are reported."""
    if not late:
        return
    first = min(late, key=lambda c: (str(onset(c))[:10], str(c.get("id"))))
    d.put("distant_metastasis_after_diagnosis", "yes", first, "Condition.onset")
    d.date("distant_metastasis_date", onset(first), first, "Condition.onset")
    for c in late:
        for _ in c.get("bodySite", ())[:1]:
            d.report(
                "fhir.unsupported-element", c, "Condition.bodySite",
                "the sites of a metastasis found after diagnosis have no MDS element",
            )  # fmt: skip
        d.leftover(c, _LATE_KEYS, frozenset({_RELATED}))


def recurrence_from_status(c: Resource, d: Draft, *, dated: bool) -> bool:
    """Read local_recurrence from a clinical status; True when the status meant recurrence.

    The tumour's own status (dated=False) gives no date: its onset is the diagnosis."""
    codes = set(cc_codes(c.get("clinicalStatus")))
    if not codes & RECURRENCE:
        return False
    d.put("local_recurrence", "yes", c, "Condition.clinicalStatus")
    if dated:
        d.date("local_recurrence_date", onset(c), c, "Condition.onset")
    return True


def event_from_fhir(c: Resource, d: Draft) -> None:
    """An IDEA4RC episode event: a recurrence is read, any other event has no MDS element."""
    if not recurrence_from_status(c, d, dated=True):
        d.report(
            "fhir.unsupported-resource", c, "Condition.extension(occurredFollowing)",
            "an episode event (progression, remission, …) other than recurrence has no MDS element",
        )  # fmt: skip


def contact_from_encounter(e: Resource, d: Draft) -> None:
    """An Encounter's date is a contact only when the encounter took place."""
    status = e.get("status")
    period = e.get("period") or {}
    if status not in CONTACT_STATUSES:
        d.report(
            "fhir.not-a-contact", e, "Encounter.status",
            f"an Encounter with status {status!r} did not take place: not a last contact", status,
        )  # fmt: skip
        return
    when = period.get("end") or period.get("start")
    path = "Encounter.period.end" if period.get("end") else "Encounter.period.start"
    d.latest("date_of_last_contact", when, e, path)
