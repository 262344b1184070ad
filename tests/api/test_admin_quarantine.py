"""The quarantine over HTTP on SQLite and PostgreSQL: list, detail, $reprocess, its audit.

The batch and its fixes are tests/api/admin_data.py's; the expectations come from the
generator's labels, not from the store.
"""

from __future__ import annotations

import orjson
import pytest
from fastapi.testclient import TestClient

from adapter.mds.synth import generate
from adapter.sources.jsonl import dumps
from adapter.stores.incoming import read_incoming
from adapter.stores.load import load_records
from adapter.stores.pseudonym import Pseudonymiser
from tests.api.admin_data import (
    SEED,
    N,
    clean,
    defective,
    fhir_entries,
    person_of,
    post_defective_batch,
    url_of,
)
from tests.api.conftest import ADMIN, bundle


def test_list_shows_exactly_the_rejected_records_without_raw(db_client: TestClient) -> None:
    post_defective_batch(db_client)
    expected = defective()
    assert [rule for _, _, rule in expected] == ["R03", "R07"]
    response = db_client.get("/admin/quarantine", headers=ADMIN)
    assert response.status_code == 200
    body = response.json()
    assert body["next"] is None
    got = [(i["record_id"], i["institution"], i["source"], i["codes"], i["resolved_at"])
           for i in body["items"]]  # fmt: skip
    assert got == [(r.record_id, r.institution, "api:oslo", ["api.rejected-entry", f"rule.{rule}"],
                    None) for _, r, rule in reversed(expected)]  # fmt: skip
    assert all("raw" not in i for i in body["items"])
    assert all("values" not in f for i in body["items"] for f in i["findings"])
    for _, r, _ in expected:  # nothing of the posted resources: no Patient id, no birth date
        patient = fhir_entries(r)[0]["resource"]
        assert patient["id"] not in response.text
        assert str(r.birth_date) not in response.text


def test_filters_and_paging(db_client: TestClient) -> None:
    post_defective_batch(db_client)
    (_, first, _), (_, second, _) = defective()
    by_institution = db_client.get("/admin/quarantine", params={"institution": second.institution},
                                   headers=ADMIN).json()  # fmt: skip
    assert [i["record_id"] for i in by_institution["items"]] == [second.record_id]
    assert db_client.get("/admin/quarantine", params={"run": 999}, headers=ADMIN).json() == {
        "items": [], "next": None}  # fmt: skip
    assert db_client.get("/admin/quarantine", params={"source": "x.jsonl"},
                         headers=ADMIN).json()["items"] == []  # fmt: skip
    page = db_client.get("/admin/quarantine", params={"limit": 1}, headers=ADMIN).json()
    assert [i["record_id"] for i in page["items"]] == [second.record_id]
    rest = db_client.get("/admin/quarantine", params={"limit": 1, "before": page["next"]},
                         headers=ADMIN).json()  # fmt: skip
    assert [i["record_id"] for i in rest["items"]] == [first.record_id]
    bad = db_client.get("/admin/quarantine", params={"limit": 0}, headers=ADMIN)
    assert bad.status_code == 400
    assert bad.json()["issue"][0]["expression"] == ["limit"]


def test_detail_has_the_raw_entries(db_client: TestClient) -> None:
    post_defective_batch(db_client)
    _, record, rule = defective()[0]
    listed = db_client.get("/admin/quarantine", params={"institution": record.institution},
                           headers=ADMIN).json()["items"][0]  # fmt: skip
    detail = db_client.get(f"/admin/quarantine/{listed['id']}", headers=ADMIN)
    assert detail.status_code == 200
    raw = orjson.loads(detail.json()["raw"])
    assert sorted(e["fullUrl"] for e in raw) == sorted(e["fullUrl"] for e in fhir_entries(record))
    assert detail.json()["codes"] == ["api.rejected-entry", f"rule.{rule}"]
    missing = db_client.get("/admin/quarantine/999999", headers=ADMIN)
    assert missing.status_code == 404
    assert missing.json()["issue"][0]["code"] == "not-found"


def test_reprocess_unfixed_is_422_naming_the_rule_and_audited(db_client: TestClient) -> None:
    post_defective_batch(db_client)
    _, record, rule = defective()[1]
    item = db_client.get("/admin/quarantine", params={"limit": 1}, headers=ADMIN).json()["items"][0]
    response = db_client.post(f"/admin/quarantine/{item['id']}/$reprocess", headers=ADMIN)
    assert response.status_code == 422
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert [(i["code"], i["diagnostics"].split(" ")[0]) for i in body["issue"]] == [
        ("business-rule", f"rule.{rule}")
    ]
    receipt = db_client.get(f"/admin/receipts/{response.headers['X-Receipt-Id']}",
                            headers=ADMIN).json()  # fmt: skip
    assert (receipt["client"], receipt["action"], receipt["status"]) == (
        "ops", "quarantine.reprocess", 422)  # fmt: skip
    assert receipt["counts"] == {"quarantine_id": item["id"], "corrected": 0, "accepted": 0,
                                 "rows": 0}  # fmt: skip
    assert person_of(url_of(db_client), record.record_id) == []
    again = db_client.get(f"/admin/quarantine/{item['id']}", headers=ADMIN).json()
    assert again["resolved_at"] is None


def test_reprocess_with_the_fix_stores_the_record_and_resolves(db_client: TestClient) -> None:
    post_defective_batch(db_client)
    index, record, _ = defective()[1]
    item = db_client.get("/admin/quarantine", params={"limit": 1}, headers=ADMIN).json()["items"][0]
    fixed = bundle("batch", fhir_entries(clean(index)))
    response = db_client.post(f"/admin/quarantine/{item['id']}/$reprocess",
                              content=orjson.dumps(fixed), headers=ADMIN)  # fmt: skip
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["records"] == [{"record_id": record.record_id, "institution": record.institution,
                                "outcome": "created"}]  # fmt: skip
    assert len(person_of(url_of(db_client), record.record_id)) == 1
    detail = db_client.get(f"/admin/quarantine/{item['id']}", headers=ADMIN).json()
    assert (detail["resolved_at"], detail["resolved_run"]) == (body["resolved_at"],
                                                              body["resolved_run"])  # fmt: skip
    assert body["resolved_run"] is not None
    run = db_client.get(f"/admin/runs/{body['resolved_run']}", headers=ADMIN).json()
    assert run["counts"]["loaded"] == 1
    receipt = db_client.get(f"/admin/receipts/{body['receipt']}", headers=ADMIN).json()
    assert (receipt["action"], receipt["status"], receipt["run_id"]) == (
        "quarantine.reprocess", 200, body["resolved_run"])  # fmt: skip
    assert receipt["counts"]["corrected"] == 1 and receipt["counts"]["accepted"] == 1
    open_items = db_client.get("/admin/quarantine", params={"resolved": False},
                               headers=ADMIN).json()["items"]  # fmt: skip
    assert [i["record_id"] for i in open_items] == [defective()[0][1].record_id]
    twice = db_client.post(f"/admin/quarantine/{item['id']}/$reprocess", headers=ADMIN)
    assert twice.status_code == 409


@pytest.mark.parametrize("fix", [False, True])
def test_reprocess_a_load_line(db_client: TestClient, fix: bool) -> None:
    url = url_of(db_client)
    generated = list(generate(N, SEED, defects=0.2))
    load_records(url, read_incoming(dumps(r) for r, _ in generated),
                 pseudonym=Pseudonymiser("api-test-key-0123456789"),
                 source="site-a.jsonl")  # fmt: skip
    items = db_client.get("/admin/quarantine", params={"source": "site-a.jsonl"},
                          headers=ADMIN).json()["items"]  # fmt: skip
    expected = defective()
    assert [(i["location"], i["record_id"]) for i in items] == [
        (f"line {index + 1}", r.record_id) for index, r, _ in reversed(expected)]  # fmt: skip
    index, record, rule = expected[0]
    item = items[-1]
    body = dumps(clean(index)) if fix else b""
    response = db_client.post(f"/admin/quarantine/{item['id']}/$reprocess", content=body,
                              headers=ADMIN)  # fmt: skip
    if not fix:
        assert response.status_code == 422
        assert response.json()["issue"][0]["diagnostics"].startswith(f"rule.{rule} ")
        assert response.json()["issue"][0]["expression"] == [f"line {index + 1}"]
        assert person_of(url, record.record_id) == []
        return
    assert response.status_code == 200, response.text
    assert response.json()["records"][0]["record_id"] == record.record_id
    assert len(person_of(url, record.record_id)) == 1
    assert (
        db_client.get(f"/admin/quarantine/{item['id']}", headers=ADMIN).json()["resolved_run"]
        == response.json()["resolved_run"]
    )


def test_a_corrected_body_that_is_not_json_is_400(db_client: TestClient) -> None:
    post_defective_batch(db_client)
    item = db_client.get("/admin/quarantine", params={"limit": 1}, headers=ADMIN).json()["items"][0]
    response = db_client.post(f"/admin/quarantine/{item['id']}/$reprocess", content=b"{nope",
                              headers=ADMIN)  # fmt: skip
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["body"]
    receipt = db_client.get(f"/admin/receipts/{response.headers['X-Receipt-Id']}",
                            headers=ADMIN).json()  # fmt: skip
    assert receipt["status"] == 400


def test_a_corrected_body_of_two_records_is_refused(db_client: TestClient) -> None:
    post_defective_batch(db_client)
    index, record, _ = defective()[1]
    item = db_client.get("/admin/quarantine", params={"limit": 1}, headers=ADMIN).json()["items"][0]
    two = [*fhir_entries(clean(index)), *fhir_entries(clean(0))]
    response = db_client.post(f"/admin/quarantine/{item['id']}/$reprocess",
                              content=orjson.dumps(two), headers=ADMIN)  # fmt: skip
    assert response.status_code == 422
    assert [i["diagnostics"] for i in response.json()["issue"]] == [
        "the entries make 2 MDS records; a quarantine item is one"
    ]
    assert person_of(url_of(db_client), record.record_id) == []


@pytest.mark.parametrize("path", ["/admin/quarantine", "/admin/stats/missing"])
def test_a_filter_with_a_nul_is_400_not_a_database_error(db_client: TestClient, path: str) -> None:
    response = db_client.get(path, params={"institution": "IOR\x00"}, headers=ADMIN)
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["institution"]
