"""A FHIR client reads the Patient a transaction answered with, and searches it by identifier
(issue 16 item 5), on SQLite and PostgreSQL."""

from __future__ import annotations

from urllib.parse import quote

from fastapi.testclient import TestClient

from adapter.fhir import to_fhir
from adapter.mds.synth import generate
from tests.api.conftest import READ, WRITE, bundle
from tests.api.test_everything import TERMINOLOGY, outcome

SID = "https://w3id.org/sarcoma-mds/fhir/sid/"


def test_the_location_of_a_created_patient_reads_back(db_client: TestClient) -> None:
    record = next(r for r, _ in generate(1, seed=31))
    sent = to_fhir(record, TERMINOLOGY)
    answer = db_client.post("/fhir", json=bundle("transaction", sent["entry"]), headers=WRITE)
    assert answer.status_code == 200, answer.text
    patient_entry = next(
        e for e, s in zip(answer.json()["entry"], sent["entry"], strict=True)
        if s["resource"]["resourceType"] == "Patient"
    )  # fmt: skip
    location = patient_entry["response"]["location"]  # Patient/<id>/_history/<n>
    kind, patient_id = location.split("/")[:2]
    assert kind == "Patient"
    read = db_client.get(f"/fhir/Patient/{patient_id}", headers=READ)
    assert read.status_code == 200
    body = read.json()
    assert (body["resourceType"], body["id"]) == ("Patient", patient_id)
    assert body["identifier"] == [{"system": SID + quote(record.institution or "_", safe=""),
                                   "value": record.record_id}]  # fmt: skip
    assert body.get("gender") == record.sex  # administrative-gender has the MDS codes


def test_search_by_identifier(db_client: TestClient) -> None:
    records = [r for r, _ in generate(3, seed=32)]
    entries = [e for r in records for e in to_fhir(r, TERMINOLOGY)["entry"]]
    assert db_client.post("/fhir", json=bundle("transaction", entries), headers=WRITE).is_success
    first = records[0]
    system = SID + quote(first.institution or "_", safe="")
    found = db_client.get("/fhir/Patient", params={"identifier": f"{system}|{first.record_id}"},
                          headers=READ)  # fmt: skip
    assert found.status_code == 200
    body = found.json()
    assert (body["type"], body["total"]) == ("searchset", 1)
    [entry] = body["entry"]
    assert entry["resource"]["identifier"][0]["value"] == first.record_id
    assert entry["fullUrl"].endswith(f"/fhir/Patient/{entry['resource']['id']}")
    for other in (f"{system}|no-such-record", f"http://example.org/mrn|{first.record_id}"):
        none = db_client.get("/fhir/Patient", params={"identifier": other}, headers=READ)
        assert (none.status_code, none.json()["total"], none.json()["entry"]) == (200, 0, [])


def test_other_searches_and_unknown_ids_are_refused(db_client: TestClient) -> None:
    outcome(db_client.get("/fhir/Patient/not-there", headers=READ), 404, "no such Patient")
    refused = db_client.get("/fhir/Patient", params={"name": "Smith"}, headers=READ)
    assert refused.status_code == 400
    assert refused.json()["issue"][0]["code"] == "not-supported"
    bad = db_client.get("/fhir/Patient", params={"identifier": "no-bar"}, headers=READ)
    outcome(bad, 400, "identifier must be system|value")
    assert db_client.get("/fhir/Patient/x").status_code == 401  # a token is needed
