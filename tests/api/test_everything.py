"""GET /fhir/Patient/{id}/$everything on SQLite and PostgreSQL: the posted record comes back.

Synthetic records are posted as transaction Bundles (what `convert --to fhir` writes); each
Patient's $everything must hold the resources `to_fhir` emitted (same ids), and reading the
searchset back must give exactly the generator's record.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.testclient import TestClient

from adapter.api.outcomes import FHIR_JSON
from adapter.errors import Finding
from adapter.fhir import read_fhir, to_fhir
from adapter.mds.record import MdsRecord
from adapter.mds.synth import generate
from adapter.stores.incoming import Incoming, Tombstone
from adapter.stores.load import load_records
from adapter.stores.pseudonym import Pseudonymiser
from adapter.terminology import Terminology
from tests.api.conftest import READ, WRITE, bundle

TERMINOLOGY = Terminology.load()


def post(client: TestClient, records: list[MdsRecord]) -> list[dict[str, Any]]:
    """Post the records as one transaction; returns their to_fhir bundles."""
    bundles = [to_fhir(r, TERMINOLOGY) for r in records]
    body = bundle("transaction", [e for b in bundles for e in b["entry"]])
    response = client.post("/fhir", json=body, headers=WRITE)
    assert response.status_code == 200, response.text
    return bundles


def patient_of(posted: dict[str, Any]) -> str:
    found: str = next(e["resource"]["id"] for e in posted["entry"]
                      if e["resource"]["resourceType"] == "Patient")  # fmt: skip
    return found


def outcome(response: Any, status: int, diagnostics: str) -> None:
    assert response.status_code == status
    assert response.headers["content-type"] == FHIR_JSON
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["diagnostics"] == diagnostics


def test_everything_gives_back_each_posted_record(db_client: TestClient) -> None:
    records = [r for r, _ in generate(6, seed=21)]
    posted = post(db_client, records[:3]) + post(db_client, records[3:])  # index catches up
    for record, sent in zip(records, posted, strict=True):
        patient = patient_of(sent)
        response = db_client.get(f"/fhir/Patient/{patient}/$everything", headers=READ)
        assert response.status_code == 200
        assert response.headers["content-type"] == FHIR_JSON
        body = response.json()
        assert (body["resourceType"], body["type"], body["total"]) == (
            "Bundle", "searchset", len(sent["entry"]))  # fmt: skip
        served = [(e["resource"]["resourceType"], e["resource"]["id"]) for e in body["entry"]]
        assert served == [(e["resource"]["resourceType"], e["resource"]["id"])
                          for e in sent["entry"]]  # fmt: skip
        assert body["entry"][0]["fullUrl"] == (
            f"http://testserver/fhir/{served[0][0]}/{served[0][1]}")  # fmt: skip
        subjects = {e["resource"]["subject"]["reference"] for e in body["entry"]
                    if "subject" in e["resource"]}  # fmt: skip
        assert subjects == {f"Patient/{patient}"}
        back = list(read_fhir([body], TERMINOLOGY))
        assert [x for x in back if isinstance(x, Finding)] == []
        assert back == [record]


def test_everything_needs_export_read(db_client: TestClient) -> None:
    sent = post(db_client, [r for r, _ in generate(1, seed=21)])
    path = f"/fhir/Patient/{patient_of(sent[0])}/$everything"
    outcome(db_client.get(path), 401, "a bearer token is required")
    outcome(db_client.get(path, headers={"Authorization": "Bearer wrong"}), 401,
            "the bearer token is not valid")  # fmt: skip
    outcome(db_client.get(path, headers=WRITE), 403, "this token lacks the scope export.read")


def test_unknown_and_deleted_patients_are_404(db_client: TestClient) -> None:
    records = [r for r, _ in generate(2, seed=21)]
    sent = post(db_client, records)
    unknown = "/fhir/Patient/00000000-0000-5000-8000-000000000000/$everything"
    outcome(db_client.get(unknown, headers=READ), 404, "no such Patient")
    gone = records[0]
    tombstone = Tombstone(gone.record_id, gone.institution)
    raw = orjson.dumps({"record_id": gone.record_id, "_deleted": True})
    report = load_records(db_client.app.state.api.engine,  # type: ignore[attr-defined]
                          [Incoming("--delete", raw, tombstone)],
                          pseudonym=Pseudonymiser("api-test-key-0123456789"), source="test",
                          terminology=TERMINOLOGY)  # fmt: skip
    assert report.deleted == 1
    path = f"/fhir/Patient/{patient_of(sent[0])}/$everything"
    outcome(db_client.get(path, headers=READ), 404, "no such Patient")
    kept = db_client.get(f"/fhir/Patient/{patient_of(sent[1])}/$everything", headers=READ)
    assert kept.status_code == 200
