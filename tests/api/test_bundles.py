"""POST /fhir on SQLite and PostgreSQL: transaction all-or-nothing, batch per record, receipts.

Three synthetic records (14-16 entries each) go in one Bundle; the bad entry is an Observation
of the second record with a status outside its required value set.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fastapi.testclient import TestClient

from adapter.api.bundles import RECEIPT_HEADER, prefer_return
from adapter.stores.record_store import adapter_name
from tests.api.conftest import ADMIN, WRITE, bundle, entries
from tests.db.helpers import dialect_of, rows
from tests.db.loading import count


def url_of(client: TestClient) -> str:
    return str(client.app.state.api.settings.db_url)  # type: ignore[attr-defined]


def spoil(items: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int, int]:
    """A copy with one Observation of the second record made invalid; (items, index, patient)."""
    spoiled = copy.deepcopy(items)
    patients = [i for i, e in enumerate(spoiled) if e["resource"]["resourceType"] == "Patient"]
    bad = next(i for i in range(patients[1], patients[2])
               if spoiled[i]["resource"]["resourceType"] == "Observation")  # fmt: skip
    spoiled[bad]["resource"]["status"] = "bogus"
    return spoiled, bad, patients[1]


def written(url: str) -> dict[str, int]:
    return {t: count(url, t) for t in ("records", "crosswalk", "person", "condition_occurrence",
                                       "quarantine")}  # fmt: skip


def statuses(body: dict[str, Any]) -> list[str]:
    return [e["response"]["status"] for e in body["entry"]]


def test_transaction_with_one_bad_entry_writes_nothing(db_client: TestClient) -> None:
    items, bad, _ = spoil(entries(3))
    response = db_client.post("/fhir", json=bundle("transaction", items), headers=WRITE)
    assert response.status_code == 422
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["id"] == response.headers[RECEIPT_HEADER]
    errors = [i for i in body["issue"] if i["severity"] == "error"]
    assert [(i["code"], i["expression"]) for i in errors] == [
        ("invalid", [f"Bundle.entry[{bad}].resource.status"])
    ]
    assert errors[0]["diagnostics"].startswith("fhir.profile [Observation.status]")
    assert "bogus" not in response.text
    assert written(url_of(db_client)) == dict.fromkeys(written(url_of(db_client)), 0)


def test_transaction_commits_all_records(db_client: TestClient) -> None:
    items = entries(3)
    response = db_client.post("/fhir", json=bundle("transaction", items), headers=WRITE)
    assert response.status_code == 200
    body = response.json()
    assert body["type"] == "transaction-response"
    assert set(statuses(body)) <= {"201 Created", "200 OK"}
    assert statuses(body).count("201 Created") == len(items) - 3  # the Organizations: 200
    found = written(url_of(db_client))
    assert (found["records"], found["person"], found["condition_occurrence"],
            found["quarantine"]) == (3, 3, 3, 0)  # fmt: skip


def test_batch_keeps_the_good_records_and_quarantines_the_bad(db_client: TestClient) -> None:
    items, bad, patient = spoil(entries(3))
    response = db_client.post("/fhir", json=bundle("batch", items), headers=WRITE)
    assert response.status_code == 200
    body = response.json()
    assert body["type"] == "batch-response"
    got = statuses(body)
    assert got[patient] == got[bad] == "422 Unprocessable Entity"
    assert got.count("422 Unprocessable Entity") == sum(
        1 for e in body["entry"] if e["response"]["status"].startswith("422")
    )
    issues = body["entry"][bad]["response"]["outcome"]["issue"]
    assert [(i["code"], i["expression"]) for i in issues if i["severity"] == "error"] == [
        ("invalid", [f"Bundle.entry[{bad}].resource.status"])
    ]
    found = written(url_of(db_client))
    assert (found["records"], found["person"], found["quarantine"]) == (2, 2, 1)


def test_the_same_bundle_twice_creates_nothing_new(db_client: TestClient) -> None:
    items = entries(2)
    first = db_client.post("/fhir", json=bundle("batch", items), headers=WRITE)
    before = written(url_of(db_client))
    second = db_client.post("/fhir", json=bundle("transaction", items), headers=WRITE)
    assert first.status_code == second.status_code == 200
    assert set(statuses(second.json())) == {"200 OK"}
    assert written(url_of(db_client)) == before == {**before, "records": 2, "person": 2}
    receipt = db_client.get(f"/admin/receipts/{second.json()['id']}", headers=ADMIN).json()
    assert receipt["counts"] == {"entries": len(items), "records": 2, "created": 0,
                                 "updated": 0, "unchanged": 2, "rejected": 0}  # fmt: skip


def test_receipts_are_audited_and_readable(db_client: TestClient) -> None:
    items, _, _ = spoil(entries(3))
    response = db_client.post("/fhir", json=bundle("batch", items), headers=WRITE)
    receipt_id = response.headers[RECEIPT_HEADER]
    assert response.json()["link"][0]["url"].endswith(f"/admin/receipts/{receipt_id}")
    receipt = db_client.get(f"/admin/receipts/{receipt_id}", headers=ADMIN)
    assert receipt.status_code == 200
    body = receipt.json()
    assert (body["client"], body["action"], body["status"]) == ("oslo", "bundle.batch", 200)
    assert body["counts"] == {"entries": len(items), "records": 3, "created": 2, "updated": 0,
                              "unchanged": 0, "rejected": 1}  # fmt: skip
    own = db_client.get(f"/admin/receipts/{receipt_id}", headers=WRITE)
    assert own.status_code == 200
    other = db_client.get(f"/admin/receipts/{receipt_id}",
                          headers={"Authorization": "Bearer tok-other"})  # fmt: skip
    assert other.status_code == 404
    url = url_of(db_client)
    audit = adapter_name("audit", "postgresql" if dialect_of(url) == "postgresql" else "sqlite")
    assert rows(url, f"SELECT client, action, status FROM {audit}") == [
        ("oslo", "bundle.batch", 200)
    ]


def test_refused_submissions_get_a_receipt_too(db_client: TestClient) -> None:
    response = db_client.post("/fhir", json={"resourceType": "Bundle", "type": "history"},
                              headers=WRITE)  # fmt: skip
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["Bundle.type"]
    receipt = db_client.get(f"/admin/receipts/{response.json()['id']}", headers=ADMIN).json()
    assert (receipt["status"], receipt["outcome"]["issue"][0]["code"]) == (400, "not-supported")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "OperationOutcome"),
        ("return=minimal", "minimal"),
        ('return="representation"', "representation"),
        ("respond-async; return=x", "OperationOutcome"),
    ],
)
def test_prefer_return(header: str | None, expected: str) -> None:
    assert prefer_return(header) == expected


def test_prefer_minimal_and_representation(db_client: TestClient) -> None:
    items = entries(1)
    minimal = db_client.post("/fhir", json=bundle("batch", items),
                             headers={**WRITE, "Prefer": "return=minimal"}).json()  # fmt: skip
    assert all(set(e) == {"response"} and set(e["response"]) == {"status"}
               for e in minimal["entry"])  # fmt: skip
    full = db_client.post("/fhir", json=bundle("batch", items),
                          headers={**WRITE, "Prefer": "return=representation"}).json()  # fmt: skip
    assert [e["resource"] for e in full["entry"]] == [e["resource"] for e in items]
