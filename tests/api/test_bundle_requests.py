"""Entry requests on SQLite and PostgreSQL: conditional delete, create and update (FHIR R4).

Three synthetic records go in first; the tests then delete, re-post or conditionally create
one of them and compare every CDM and record-store table with what was there before.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from adapter.omop.rows import SHARED_TABLES
from adapter.omop.schema import table
from adapter.stores.bulk import owner_column
from tests.api.conftest import WRITE, Dump, bundle, entries, url_of
from tests.db.helpers import dialect_of, rows
from tests.db.loading import dump


def records(items: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The entries of each record (its Organization is shared and left out)."""
    out: list[list[dict[str, Any]]] = []
    for e in items:
        if e["resource"]["resourceType"] == "Patient":
            out.append([])
        if e["resource"]["resourceType"] != "Organization":
            out[-1].append(e)
    return out


def with_orgs(items: list[dict[str, Any]], record: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in items if e["resource"]["resourceType"] == "Organization"] + record


def delete(patient: dict[str, Any]) -> dict[str, Any]:
    return {"request": {"method": "DELETE", "url": patient["request"]["url"]}}


def owned(url: str, before: Dump, record_id: str) -> Dump:
    """The CDM rows of `before` that the record's crosswalk ids own, per table."""
    pg = dialect_of(url) == "postgresql"
    xwalk, records_ = ("adapter.crosswalk", "adapter.records") if pg else (
        "adapter_crosswalk", "adapter_records")  # fmt: skip
    ids: dict[str, set[int]] = {}
    for name, id_ in rows(
        url,
        f"SELECT c.table_name, c.id FROM {xwalk} c JOIN {records_} r "
        f"ON r.record_no = c.record_no WHERE r.record_id = '{record_id}'",
    ):
        ids.setdefault(name, set()).add(int(id_))  # fmt: skip
    out: Dump = {}
    for name, found in before.items():
        if name in ("records", "crosswalk", "id_sequence", "quarantine", "cdm_source"):
            continue
        t = table(name, "postgresql" if pg else "sqlite")
        try:
            column, owner = owner_column(t)
        except ValueError:  # a table the mapping never writes (fact_relationship, …)
            assert found == [], name
            continue
        at = t.column_names.index(column)
        out[name] = [r for r in found if r[at] in ids.get(owner, set())]
    return out


def assert_only_its_rows_gone(url: str, before: Dump, after: Dump, gone: Dump) -> None:
    """The record's own rows are gone, every other row is kept; the shared CARE_SITE and
    LOCATION rows stay exactly while some person (care site) still points at them."""
    for name, found in gone.items():
        if name not in SHARED_TABLES:
            assert after[name] == [r for r in before[name] if r not in found], name
    dialect = "postgresql" if dialect_of(url) == "postgresql" else "sqlite"
    site_at = table("person", dialect).column_names.index("care_site_id")
    used_sites = {r[site_at] for r in after["person"]}
    assert after["care_site"] == [r for r in before["care_site"] if r[0] in used_sites]
    place_at = table("care_site", dialect).column_names.index("location_id")
    used_places = {r[place_at] for r in after["care_site"]}
    assert after["location"] == [r for r in before["location"] if r[0] in used_places]


@pytest.mark.parametrize("kind", ["batch", "transaction"])
def test_delete_removes_exactly_that_patients_rows_and_a_repost_brings_them_back(
    db_client: TestClient, posted: tuple[list[dict[str, Any]], Dump], kind: str
) -> None:
    items, before = posted
    url = url_of(db_client)
    second = records(items)[1]
    rid = second[0]["resource"]["identifier"][0]["value"]
    gone = owned(url, before, rid)
    assert len(gone["person"]) == len(gone["condition_occurrence"]) == 1
    response = db_client.post("/fhir", json=bundle(kind, [delete(second[0])]), headers=WRITE)
    assert response.status_code == 200
    [answer] = response.json()["entry"]
    assert answer["response"]["status"] == "200 OK"  # with its outcome (Prefer default)
    after = dump(url)
    assert_only_its_rows_gone(url, before, after, gone)
    [tombstone] = [r for r in after["records"] if r[2] == rid]
    assert tombstone[3:] == (2, None, tombstone[5], None, "api:oslo", True if dialect_of(
        url) == "postgresql" else 1)  # version 2, no hash, no JSON, deleted  # fmt: skip
    assert after["crosswalk"] == before["crosswalk"]  # ids are kept for a come-back
    again = db_client.post("/fhir", json=bundle(kind, with_orgs(items, second)), headers=WRITE)
    statuses = [e["response"]["status"] for e in again.json()["entry"]]
    assert statuses.count("201 Created") == len(second)
    assert again.json()["entry"][-len(second)]["response"]["etag"] == 'W/"3"'
    back = dump(url)
    assert {t: back[t] for t in gone} == {t: before[t] for t in gone}


def test_delete_with_prefer_minimal_is_204_and_an_unknown_record_is_204_too(
    db_client: TestClient, posted: tuple[list[dict[str, Any]], Dump]
) -> None:
    items, before = posted
    patient = records(items)[0][0]
    unknown = {"request": {"method": "DELETE", "url": patient["request"]["url"] + "-X"}}
    minimal = {**WRITE, "Prefer": "return=minimal"}
    response = db_client.post("/fhir", json=bundle("batch", [delete(patient), unknown]),
                              headers=minimal)  # fmt: skip
    assert [e["response"] for e in response.json()["entry"]] == [{"status": "204 No Content"}] * 2
    again = db_client.post("/fhir", json=bundle("transaction", [delete(patient)]), headers=WRITE)
    [answer] = again.json()["entry"]
    assert answer["response"]["status"] == "200 OK"  # FHIR R4: no match is not an error
    assert [(i["severity"], i["code"]) for i in answer["response"]["outcome"]["issue"]] == [
        ("information", "not-found")
    ]
    admin = {"Authorization": "Bearer tok-admin-0123456789"}
    receipt = db_client.get(f"/admin/receipts/{response.json()['id']}", headers=admin).json()
    assert receipt["counts"]["deleted"] == 1
    assert len(dump(url_of(db_client))["person"]) == len(before["person"]) - 1


@pytest.mark.parametrize(
    ("request_", "code", "where"),
    [
        ({"method": "DELETE", "url": "Observation?identifier=x|y"}, "not-supported", "url"),
        ({"method": "DELETE", "url": "Patient/a/b"}, "not-supported", "url"),
        ({"method": "DELETE", "url": "Patient?identifier=http://example.org/mrn|123"},
         "not-found", "url"),
        ({"method": "GET", "url": "Patient?identifier=x|y"}, "not-supported", "method"),
    ],
)  # fmt: skip
def test_unsupported_requests_name_the_entry(
    db_client: TestClient, request_: dict[str, str], code: str, where: str
) -> None:
    response = db_client.post("/fhir", json=bundle("transaction", [{"request": request_}]),
                              headers=WRITE)  # fmt: skip
    assert response.status_code == 422
    assert [(i["code"], i["expression"]) for i in response.json()["issue"]] == [
        (code, [f"Bundle.entry[0].request.{where}"])
    ]
    assert {t: found for t, found in dump(url_of(db_client)).items() if found} == {}


def test_a_transaction_deleting_and_writing_one_record_is_refused(
    db_client: TestClient, posted: tuple[list[dict[str, Any]], Dump]
) -> None:
    items, before = posted
    first = records(items)[0]
    body = bundle("transaction", [delete(first[0]), *with_orgs(items, first)])
    response = db_client.post("/fhir", json=body, headers=WRITE)
    assert response.status_code == 422
    errors = [i for i in response.json()["issue"] if i["severity"] == "error"]
    assert [(i["code"], i["expression"]) for i in errors] == [
        ("conflict", ["Bundle.entry[0].request.url"])
    ]
    assert dump(url_of(db_client)) == before


def test_conditional_update_must_name_the_resources_own_identifier(db_client: TestClient) -> None:
    items = entries(2)
    second = next(i for i, e in enumerate(items) if e["resource"]["resourceType"] == "Patient"
                  and i > 1)  # fmt: skip
    first = records(items)[0][0]
    items[second]["request"]["url"] = first["request"]["url"]  # the other record's Patient
    response = db_client.post("/fhir", json=bundle("transaction", items), headers=WRITE)
    assert response.status_code == 422
    assert [(i["code"], i["expression"]) for i in response.json()["issue"]
            if i["severity"] == "error"] == [("invalid", [f"Bundle.entry[{second}].request.url"])
                                             ]  # fmt: skip
    assert {t: found for t, found in dump(url_of(db_client)).items() if found} == {}


def test_conditional_create_of_a_stored_record_changes_nothing(
    db_client: TestClient, posted: tuple[list[dict[str, Any]], Dump]
) -> None:
    items, before = posted
    changed = json.loads(json.dumps(items))
    patients = [e for e in changed if e["resource"]["resourceType"] == "Patient"]
    for e in patients:
        e["resource"]["birthDate"] = "1901-01-01"  # would be an update under PUT
        ident = e["resource"]["identifier"][0]
        condition = f"identifier={ident['system']}|{ident['value']}"
        e["request"] = {"method": "POST", "url": "Patient", "ifNoneExist": condition}
    response = db_client.post("/fhir", json=bundle("batch", changed), headers=WRITE)
    assert response.status_code == 200
    answers = [e["response"] for e in response.json()["entry"]]
    assert {a["status"] for a in answers} == {"200 OK"}
    assert {a["etag"] for a in answers if "etag" in a} == {'W/"1"'}
    assert dump(url_of(db_client)) == before
    wrong = json.loads(json.dumps(patients[0]))
    wrong["request"]["ifNoneExist"] = "identifier=http://example.org/mrn|1"
    refused = db_client.post("/fhir", json=bundle("batch", [wrong]), headers=WRITE)
    [answer] = refused.json()["entry"]
    assert answer["response"]["status"] == "422 Unprocessable Entity"
    assert [(i["code"], i["expression"]) for i in answer["response"]["outcome"]["issue"]] == [
        ("invalid", ["Bundle.entry[0].request.ifNoneExist"])
    ]
