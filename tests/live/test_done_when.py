"""Issue 8's acceptance, against a running server on each database, as an integration engine
would meet it: a generated bundle posted twice, a bundle with a wrong code, a POST without a
token (tests/live/test_server.py) and `$everything` after the post.
"""

from __future__ import annotations

from typing import Any

import httpx2 as httpx
import orjson

from adapter.errors import Finding
from adapter.fhir import read_fhir, to_fhir
from adapter.mds.synth import generate
from adapter.terminology import Terminology
from tests.api.conftest import ADMIN, READ, WRITE
from tests.db.loading import dump
from tests.live.server import LiveServer

TERMINOLOGY = Terminology.load()


def post(server: LiveServer, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(server.fhir, content=orjson.dumps(body), headers=WRITE, timeout=60)


def test_a_bundle_posted_twice_gives_one_set_of_rows_and_a_receipt_each_time(
    server: LiveServer, db_url: str
) -> None:
    record = next(r for r, _ in generate(1, seed=31))
    sent = to_fhir(record, TERMINOLOGY)
    first = post(server, sent)
    assert first.status_code == 200, first.text
    once = dump(db_url, skip=("cdm_source",))
    second = post(server, sent)
    assert second.status_code == 200
    assert dump(db_url, skip=("cdm_source",)) == once
    assert len(once["person"]) == 1 and len(once["records"]) == 1
    statuses = [[e["response"]["status"] for e in r.json()["entry"]] for r in (first, second)]
    patient_at = next(i for i, e in enumerate(sent["entry"])
                      if e["resource"]["resourceType"] == "Patient")  # fmt: skip
    assert statuses[0][patient_at] == "201 Created" and set(statuses[1]) == {"200 OK"}
    receipts = [r.headers["x-receipt-id"] for r in (first, second)]
    assert receipts[0] != receipts[1]
    for receipt, (created, unchanged) in zip(receipts, [(1, 0), (0, 1)], strict=True):
        found = httpx.get(f"{server.base}/admin/receipts/{receipt}", headers=ADMIN).json()
        seen = (found["id"], found["status"], found["action"])
        assert seen == (receipt, 200, "bundle.transaction")
        assert (found["counts"]["created"], found["counts"]["unchanged"]) == (created, unchanged)

    patient = next(e["resource"]["id"] for e in sent["entry"]
                   if e["resource"]["resourceType"] == "Patient")  # fmt: skip
    everything = httpx.get(f"{server.fhir}/Patient/{patient}/$everything", headers=READ)
    assert everything.status_code == 200
    back = [x for x in read_fhir([everything.json()], TERMINOLOGY) if not isinstance(x, Finding)]
    assert back == [record]


def test_a_bundle_with_a_wrong_code_names_the_entry_and_writes_nothing(
    server: LiveServer, db_url: str
) -> None:
    record = next(r for r, _ in generate(1, seed=32))
    sent = to_fhir(record, TERMINOLOGY)
    # extent of disease: an element read from this Observation only
    bad, entry = next((i, e) for i, e in enumerate(sent["entry"])
                      if e["resource"].get("code", {}).get("coding", [{}])[0].get("code")
                      == "432537")  # fmt: skip
    entry["resource"]["valueCodeableConcept"]["coding"][0]["code"] = "not-a-code"
    before = dump(db_url)
    response = post(server, sent)
    assert response.status_code == 422
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    errors = [i for i in outcome["issue"] if i["severity"] == "error"]
    assert errors and all(i["expression"][0].startswith(f"Bundle.entry[{bad}].") for i in errors)
    assert "not-a-code" not in response.text
    assert dump(db_url) == before
    assert before["records"] == before["person"] == []
