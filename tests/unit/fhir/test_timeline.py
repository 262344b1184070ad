"""Time-aware reading (adapter/fhir/timeline.py): late metastases, recurrence, last contact.
Hand-written Bundles, hand-written expected records."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from adapter.errors import Finding
from adapter.fhir import read_fhir
from adapter.mds.record import MdsRecord
from adapter.terminology import Terminology
from tests.unit.fhir.test_tumour import ICDO3, MCODE, OMOP, SUBJECT, bundle, cc, patient, report

I4RC = "http://hl7.eu/fhir/ig/idea4rc/StructureDefinition/"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
BASE = {"record_id": "MRN-1", "sex": "female", "birth_date": "1971-04-02",
        "histology_icdo3": "8850/3", "diagnosis_date": dt.date(2020, 2, 1)}  # fmt: skip


@pytest.fixture(scope="module")
def terminology() -> Terminology:
    return Terminology.load()


def tumour(**more: Any) -> dict[str, Any]:
    return {
        "resourceType": "Condition", "id": "tumour",
        "meta": {"profile": [I4RC + "Condition-primaryCancer-eu-i4rc"]},
        "subject": SUBJECT, "code": cc(ICDO3, "8850/3"), "onsetDateTime": "2020-02-01", **more,
    }  # fmt: skip


def metastasis(cid: str, site: str, onset: str | None) -> dict[str, Any]:
    c: dict[str, Any] = {
        "resourceType": "Condition", "id": cid,
        "meta": {"profile": [MCODE + "mcode-secondary-cancer-condition"]},
        "subject": SUBJECT, "bodySite": [cc(OMOP, site)],
    }  # fmt: skip
    if onset:
        c["onsetDateTime"] = onset
    return c


def read(terminology: Terminology, *resources: dict[str, Any]) -> list[Any]:
    return list(read_fhir([bundle(patient(), *resources)], terminology, profiles="off"))


def test_metastases_after_diagnosis_are_late_metastasis_not_at_diagnosis(
    terminology: Terminology,
) -> None:
    items = read(
        terminology, tumour(),
        metastasis("m-lung", "4213162", "2022-06-01T10:00:00+02:00"),  # lung, two years later
        metastasis("m-liver", "4009105", "2021-09-15"),  # liver, the first one later
        metastasis("m-bone", "4000496", None),  # bone, no onset: at diagnosis
        metastasis("m-pleura", "4150673", "2020-02-01"),  # pleura, on the diagnosis date
    )  # fmt: skip
    assert [i for i in items if isinstance(i, MdsRecord)] == [
        MdsRecord(**BASE, metastasis_sites_at_diagnosis=["bone", "pleura"],
                  distant_metastasis_after_diagnosis="yes",
                  distant_metastasis_date=dt.date(2021, 9, 15))
    ]  # fmt: skip
    assert report(items) == {
        ("fhir.unsupported-element", "Condition/m-lung", "Condition.bodySite"),
        ("fhir.unsupported-element", "Condition/m-liver", "Condition.bodySite"),
    }


def test_a_recurrence_event_is_a_dated_local_recurrence(terminology: Terminology) -> None:
    """IDEA4RC EpisodeEvent: a Condition-primaryCancer occurredFollowing the cancer, its
    disease status in clinicalStatus (cancer-event-type-vs), its date in onset."""
    event = {
        "resourceType": "Condition", "id": "event-1",
        "meta": {"profile": [I4RC + "Condition-primaryCancer-eu-i4rc"]},
        "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/condition-occurredFollowing",
                       "valueReference": {"reference": "Condition/tumour"}}],
        "clinicalStatus": {"coding": [
            {"system": CLINICAL, "code": "recurrence"},
            {"system": "http://hl7.eu/fhir/ig/idea4rc/CodeSystem/cs-idea4rc-vocab-eu-i4rc",
             "code": "2000100002", "display": "Recurrence"}]},
        "subject": SUBJECT, "code": cc(ICDO3, "8850/3"), "onsetDateTime": "2023-04-05",
    }  # fmt: skip
    progression = {**event, "id": "event-2", "onsetDateTime": "2022-01-01",
                   "clinicalStatus": cc(OMOP, "32949", "Progression")}  # fmt: skip
    items = read(terminology, progression, tumour(), event)
    assert [i for i in items if isinstance(i, MdsRecord)] == [
        MdsRecord(**BASE, local_recurrence="yes", local_recurrence_date=dt.date(2023, 4, 5))
    ]
    assert report(items) == {
        ("fhir.unsupported-resource", "Condition/event-2", "Condition.extension(occurredFollowing)")
    }


def test_the_tumours_recurrence_status_is_a_local_recurrence_without_date(
    terminology: Terminology,
) -> None:
    items = read(terminology, tumour(clinicalStatus=cc(CLINICAL, "recurrence")))
    assert [i for i in items if isinstance(i, MdsRecord)] == [
        MdsRecord(**BASE, local_recurrence="yes")
    ]
    assert report(items) == set()
    items = read(terminology, tumour(clinicalStatus=cc(CLINICAL, "active")))
    assert report(items) == {
        ("fhir.unsupported-element", "Condition/tumour", "Condition.clinicalStatus")
    }


def encounter(eid: str, status: str, start: str, end: str | None = None) -> dict[str, Any]:
    period = {"start": start} | ({"end": end} if end else {})
    return {"resourceType": "Encounter", "id": eid, "status": status, "subject": SUBJECT,
            "class": {"code": "AMB"}, "period": period}  # fmt: skip


def test_the_last_contact_is_the_latest_contact_that_took_place(terminology: Terminology) -> None:
    last_contact = {
        "resourceType": "Observation", "id": "o-last", "status": "final",
        "code": cc("http://loinc.org", "21975-8"), "subject": SUBJECT,
        "valueDateTime": "2023-03-01",
    }  # fmt: skip
    items = read(
        terminology, tumour(), last_contact,
        encounter("e-done", "finished", "2023-05-30", "2023-06-02"),  # its end: 2 June
        encounter("e-now", "in-progress", "2023-06-01"),
        encounter("e-plan", "planned", "2024-05-01"),
        encounter("e-off", "cancelled", "2024-06-01"),
        encounter("e-err", "entered-in-error", "2025-01-01"),
    )  # fmt: skip
    assert [i for i in items if isinstance(i, MdsRecord)] == [
        MdsRecord(**BASE, date_of_last_contact=dt.date(2023, 6, 2))
    ]
    assert report(items) == {
        ("fhir.not-a-contact", f"Encounter/{e}", "Encounter.status")
        for e in ("e-plan", "e-off", "e-err")
    }
    (plan,) = [f for f in items if isinstance(f, Finding) and f.location == "Encounter/e-plan"]
    assert (
        plan.message == "an Encounter with status 'planned' did not take place: not a last contact"
    )
