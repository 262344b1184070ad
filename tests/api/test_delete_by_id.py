"""`DELETE Patient/<id>` Bundle entries on SQLite and PostgreSQL (issue 8).

The id is the hash `to_fhir` gives the record's Patient (adapter/fhir/ids.py), found through
the Patient index (adapter/stores/fhir_index.py); then the record goes exactly as under a
conditional delete. Three synthetic records go in first; every table is compared with what was
there before.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from adapter.fhir.ids import resource_uuid
from tests.api.conftest import READ, WRITE, Dump, bundle, entries, url_of
from tests.api.test_bundle_requests import assert_only_its_rows_gone, owned, records, with_orgs
from tests.db.helpers import dialect_of
from tests.db.loading import dump

UNKNOWN = resource_uuid("Nowhere", "never-stored", "patient")


def by_id(patient_id: str) -> dict[str, Any]:
    return {"request": {"method": "DELETE", "url": f"Patient/{patient_id}"}}


def everything(client: TestClient, patient_id: str) -> int:
    return client.get(f"/fhir/Patient/{patient_id}/$everything", headers=READ).status_code


def outcome(answer: dict[str, Any]) -> list[tuple[str, str, str, list[str]]]:
    return [(i["severity"], i["code"], i["diagnostics"], i.get("expression", []))
            for i in answer["response"]["outcome"]["issue"]]  # fmt: skip


@pytest.mark.parametrize("kind", ["batch", "transaction"])
def test_delete_by_id_removes_exactly_that_patients_rows_and_a_repost_brings_them_back(
    db_client: TestClient, posted: tuple[list[dict[str, Any]], Dump], kind: str
) -> None:
    items, before = posted
    url = url_of(db_client)
    first, second, third = records(items)
    rid, pid = second[0]["resource"]["identifier"][0]["value"], second[0]["resource"]["id"]
    gone = owned(url, before, rid)
    assert len(gone["person"]) == len(gone["condition_occurrence"]) == 1
    assert everything(db_client, pid) == 200
    response = db_client.post("/fhir", json=bundle(kind, [by_id(pid)]), headers=WRITE)
    assert response.status_code == 200
    [answer] = response.json()["entry"]
    assert answer["response"]["status"] == "200 OK"  # 204 with its outcome as payload
    assert outcome(answer) == [("information", "informational", "all ok", [])]
    after = dump(url)
    assert_only_its_rows_gone(url, before, after, gone)
    assert [r for r in after["records"] if r[2] != rid] == [
        r for r in before["records"] if r[2] != rid
    ]
    [tombstone] = [r for r in after["records"] if r[2] == rid]
    deleted = True if dialect_of(url) == "postgresql" else 1
    assert tombstone[3:] == (2, None, tombstone[5], None, "api:oslo", deleted)
    assert after["crosswalk"] == before["crosswalk"]
    assert everything(db_client, pid) == 404
    assert everything(db_client, first[0]["resource"]["id"]) == 200
    assert everything(db_client, third[0]["resource"]["id"]) == 200
    again = db_client.post("/fhir", json=bundle(kind, with_orgs(items, second)), headers=WRITE)
    statuses = [e["response"]["status"] for e in again.json()["entry"]]
    assert statuses.count("201 Created") == len(second)
    back = dump(url)
    assert {t: back[t] for t in gone} == {t: before[t] for t in gone}
    assert everything(db_client, pid) == 200


def test_an_unknown_or_deleted_id_deletes_nothing_and_is_204(
    db_client: TestClient, posted: tuple[list[dict[str, Any]], Dump]
) -> None:
    """FHIR R4 http.html#delete: 200/204 also "if the resource does not exist at all"."""
    items, before = posted
    pid = records(items)[0][0]["resource"]["id"]
    minimal = {**WRITE, "Prefer": "return=minimal"}
    body = bundle("batch", [by_id(UNKNOWN), by_id(pid)])
    response = db_client.post("/fhir", json=body, headers=minimal)
    assert [e["response"] for e in response.json()["entry"]] == [{"status": "204 No Content"}] * 2
    after = dump(url_of(db_client))
    assert len(after["person"]) == len(before["person"]) - 1
    for gone in (pid, UNKNOWN):  # deleted now, and never stored: the same answer
        again = db_client.post("/fhir", json=bundle("transaction", [by_id(gone)]),
                               headers=WRITE)  # fmt: skip
        assert again.status_code == 200
        [answer] = again.json()["entry"]
        assert answer["response"]["status"] == "200 OK"
        assert outcome(answer) == [
            ("information", "not-found", "no stored record has this Patient id: nothing was "
             "deleted", ["Bundle.entry[0].request.url"])
        ]  # fmt: skip
    assert dump(url_of(db_client)) == after


def test_deleting_by_id_and_writing_one_record_is_refused(
    db_client: TestClient, posted: tuple[list[dict[str, Any]], Dump]
) -> None:
    items, before = posted
    first, second, _ = records(items)
    pid = first[0]["resource"]["id"]
    identifier = {"request": {"method": "DELETE", "url": second[0]["request"]["url"]}}
    more = entries(4)
    new = records(more)[3]  # a record not stored yet, written and deleted at once
    cases = [
        ([by_id(pid), *with_orgs(items, first)], 0),
        ([identifier, by_id(second[0]["resource"]["id"])], 1),
        ([*with_orgs(more, new), by_id(new[0]["resource"]["id"])], None),
    ]
    for body, at in cases:
        at = len(body) - 1 if at is None else at
        response = db_client.post("/fhir", json=bundle("transaction", body), headers=WRITE)
        assert response.status_code == 422
        errors = [i for i in response.json()["issue"] if i["severity"] == "error"]
        assert [(i["code"], i["expression"]) for i in errors] == [
            ("conflict", [f"Bundle.entry[{at}].request.url"])
        ]
    assert dump(url_of(db_client)) == before


def test_a_batch_refuses_only_the_conflicting_delete(
    db_client: TestClient, posted: tuple[list[dict[str, Any]], Dump]
) -> None:
    items, before = posted
    first, second, _ = records(items)
    body = [by_id(first[0]["resource"]["id"]), *with_orgs(items, first),
            by_id(second[0]["resource"]["id"])]  # fmt: skip
    response = db_client.post("/fhir", json=bundle("batch", body), headers=WRITE)
    answers = response.json()["entry"]
    statuses = [e["response"]["status"] for e in answers]
    assert statuses[0] == "422 Unprocessable Entity"
    patient = body.index(first[0])
    assert outcome(answers[0]) == [
        ("error", "conflict", f"Bundle.entry[{patient}] writes or deletes the same record: one "
         "interaction per record and Bundle", ["Bundle.entry[0].request.url"])
    ]  # fmt: skip
    assert statuses[-1] == "200 OK"  # deleted
    assert set(statuses[1:-1]) == {"200 OK"}  # the first record, unchanged
    assert everything(db_client, first[0]["resource"]["id"]) == 200
    assert everything(db_client, second[0]["resource"]["id"]) == 404
    after = dump(url_of(db_client))
    assert len(after["person"]) == len(before["person"]) - 1
