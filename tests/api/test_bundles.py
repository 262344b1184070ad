"""POST /fhir on SQLite and PostgreSQL: transaction all-or-nothing, batch per record, receipts.

Three synthetic records (14-16 entries each) go in one Bundle; the bad entry is an Observation
of the second record with a status outside its required value set, or with a code outside its
MDS element's value set. Deletes and conditional requests: test_bundle_requests.py.
"""

from __future__ import annotations

import copy
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from adapter.api.bundles import RECEIPT_HEADER, RETRY_AFTER, prefer_return
from adapter.stores import omop_db
from adapter.stores.omop_db import init_db
from adapter.stores.record_store import adapter_name
from tests.api.conftest import ADMIN, WRITE, bundle, entries
from tests.db.helpers import dialect_of, rows
from tests.db.loading import count, dump


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


def test_a_transaction_with_a_wrong_code_names_the_entry_and_writes_nothing(
    db_client: TestClient,
) -> None:
    items = entries(3)
    bad = next(i for i, e in enumerate(items) if e["resource"].get("code", {}).get("coding",
               [{}])[0].get("code") == "432537")  # the first Extent of disease  # fmt: skip
    items[bad]["resource"]["valueCodeableConcept"]["coding"][0]["code"] = "sideways"
    response = db_client.post("/fhir", json=bundle("transaction", items), headers=WRITE)
    assert response.status_code == 422
    errors = [i for i in response.json()["issue"] if i["severity"] == "error"]
    assert [(i["code"], i["expression"], i["diagnostics"]) for i in errors] == [(
        "processing", [f"Bundle.entry[{bad}].resource.valueCodeableConcept.coding[0].code"],
        "mds.invalid-record [metastasis_at_diagnosis]: metastasis_at_diagnosis = \"…\": "
        "expected one of none, distant, regional_nodes_only, unknown")]  # fmt: skip
    assert "sideways" not in response.text
    assert {t: found for t, found in dump(url_of(db_client)).items() if found} == {}


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
    url = url_of(db_client)
    quarantine = adapter_name("quarantine", "postgresql" if dialect_of(url) == "postgresql"
                              else "sqlite")  # fmt: skip
    [(source, location, record_id, raw, findings)] = rows(
        url, f"SELECT source, location, record_id, raw, findings FROM {quarantine}"
    )
    assert (source, location, record_id) == (
        "api:oslo",
        f"Bundle.entry[{patient}]",
        items[patient]["resource"]["identifier"][0]["value"],
    )
    rid = record_id + "/"
    assert sorted(e["fullUrl"] for e in json.loads(raw)) == sorted(  # the record's entries
        e["fullUrl"] for e in items
        if (e["resource"]["identifier"][0]["value"] + "/").startswith(rid))  # fmt: skip
    [finding] = json.loads(findings)
    assert (finding["code"], finding["location"]) == ("api.rejected-entry",
                                                      f"Bundle.entry[{patient}]")  # fmt: skip
    assert finding["message"].startswith(f"Bundle.entry[{bad}].resource.status: fhir.profile")


def test_the_same_bundle_twice_creates_nothing_new(db_client: TestClient) -> None:
    items = entries(2)
    first = db_client.post("/fhir", json=bundle("batch", items), headers=WRITE)
    before = dump(url_of(db_client))
    second = db_client.post("/fhir", json=bundle("transaction", items), headers=WRITE)
    assert first.status_code == second.status_code == 200
    assert set(statuses(second.json())) == {"200 OK"}
    assert dump(url_of(db_client)) == before
    assert (len(before["records"]), len(before["person"])) == (2, 2)
    for response in (first, second):
        receipt = db_client.get(f"/admin/receipts/{response.json()['id']}", headers=ADMIN).json()
        assert receipt["counts"] == {"entries": len(items), "records": 2,
                                     "created": 2 if response is first else 0, "updated": 0,
                                     "unchanged": 0 if response is first else 2,
                                     "rejected": 0, "deleted": 0}  # fmt: skip
    for posted, answer in zip(items, second.json()["entry"], strict=True):
        resource = posted["resource"]
        if resource["resourceType"] == "Organization":
            assert "location" not in answer["response"]
        else:  # the ids to_fhir gave, version 1 of the record
            assert answer["response"]["location"] == (
                f"{resource['resourceType']}/{resource['id']}/_history/1"
            )
            assert answer["response"]["etag"] == 'W/"1"'


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
                              "unchanged": 0, "rejected": 1, "deleted": 0}  # fmt: skip
    own = db_client.get(f"/admin/receipts/{receipt_id}", headers=WRITE)
    assert own.status_code == 200
    other = db_client.get(f"/admin/receipts/{receipt_id}",
                          headers={"Authorization": "Bearer tok-other-0123456789"})  # fmt: skip
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
    assert [sorted(e["response"]) for e in minimal["entry"] if set(e) == {"response"}] == [
        ["status"] if e["resource"]["resourceType"] == "Organization"
        else ["etag", "location", "status"] for e in items]  # no outcome, no resource  # fmt: skip
    full = db_client.post("/fhir", json=bundle("batch", items),
                          headers={**WRITE, "Prefer": "return=representation"}).json()  # fmt: skip
    assert [e["resource"] for e in full["entry"]] == [e["resource"] for e in items]


def test_a_database_locked_past_the_busy_timeout_gives_503_with_retry_after(
    tmp_path: Path, make_client: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another writer holds SQLite's write lock longer than the busy timeout: a 503 saying
    when to retry, nothing written; once it lets go the same post goes in."""
    monkeypatch.setattr(omop_db, "SQLITE_BUSY_MS", 200)
    path = tmp_path / "omop.sqlite"
    init_db(f"sqlite:///{path}")
    client = make_client(f"sqlite:///{path}")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        locked = client.post("/fhir", json=bundle("batch", entries(1)), headers=WRITE)
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert (locked.status_code, locked.headers["retry-after"]) == (503, str(RETRY_AFTER))
    assert [(i["code"], i["diagnostics"]) for i in locked.json()["issue"]] == [
        ("transient", "the database is busy or not reachable; no record of this Bundle was "
         "written: retry")]  # fmt: skip
    assert count(f"sqlite:///{path}", "records") == 0
    again = client.post("/fhir", json=bundle("batch", entries(1)), headers=WRITE)
    assert again.status_code == 200
    assert count(f"sqlite:///{path}", "records") == 1


def test_resources_of_one_record_that_disagree_are_refused_not_half_read(
    db_client: TestClient,
) -> None:
    """The diagnosis Observation gives another diagnosis date than the Condition: the CLI
    reader keeps the first and warns; the API refuses (ingest.LOSSY), names the Observation
    and does not echo either date."""
    items = json.loads(json.dumps(entries(2)))
    patients = [i for i, e in enumerate(items) if e["resource"]["resourceType"] == "Patient"]
    bad = next(i for i in range(patients[1], len(items)) if items[i]["resource"].get("code", {})
               .get("coding", [{}])[0].get("code") == "29308-4")  # fmt: skip
    items[bad]["resource"]["effectiveDateTime"] = "2016-01-02"
    response = db_client.post("/fhir", json=bundle("transaction", items), headers=WRITE)
    assert response.status_code == 422
    errors = [i for i in response.json()["issue"] if i["severity"] == "error"]
    assert [(i["expression"], i["diagnostics"].split(" ")[0]) for i in errors] == [
        ([f"Bundle.entry[{bad}].resource"], "fhir.conflict")
    ]
    assert "2016" not in response.text and "1, 2)" not in response.text
    assert written(url_of(db_client)) == dict.fromkeys(written(url_of(db_client)), 0)
    response = db_client.post("/fhir", json=bundle("batch", items), headers=WRITE)
    assert statuses(response.json())[patients[0]] == "201 Created"
    assert statuses(response.json())[patients[1]] == "422 Unprocessable Entity"
    assert count(url_of(db_client), "person") == 1
    assert count(url_of(db_client), "quarantine") == 1


def _renamed(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same record's entries under other fullUrls and resource ids (its Organization left
    out): what a sender that posts one record twice in a Bundle sends."""
    text = json.dumps([e for e in items if e["resource"]["resourceType"] != "Organization"])
    for n, url in enumerate(e["fullUrl"] for e in items
                            if e["resource"]["resourceType"] != "Organization"):  # fmt: skip
        text = text.replace(url, f"urn:uuid:00000000-0000-4000-8000-{n:012d}")
    found: list[dict[str, Any]] = json.loads(text)
    for e in found:
        e["resource"]["id"] = f"{e['resource']['id']}-again"
    return found


def test_a_batch_with_the_same_record_twice_keeps_the_first(db_client: TestClient) -> None:
    items = entries(1)
    copy_ = _renamed(items)
    twice = items + copy_
    response = db_client.post("/fhir", json=bundle("batch", twice), headers=WRITE)
    assert response.status_code == 200
    answers = response.json()["entry"]
    patient = next(i for i, e in enumerate(items) if e["resource"]["resourceType"] == "Patient")
    again = len(items) + next(
        i for i, e in enumerate(copy_) if e["resource"]["resourceType"] == "Patient"
    )
    assert answers[patient]["response"]["status"] == "201 Created"
    assert answers[again]["response"]["status"] == "422 Unprocessable Entity"
    assert [i["diagnostics"] for i in answers[again]["response"]["outcome"]["issue"]] == [
        f"the same record as Bundle.entry[{patient}]"]  # fmt: skip
    assert count(db_client.app.state.api.settings.db_url, "person") == 1  # type: ignore[attr-defined]
