"""Tokens limited to some institutions read and write only those institutions' records, on
SQLite and PostgreSQL: `$everything` answers 404 for another centre's Patient (as for one never
stored), `$export` writes only the centre's records, and a posted record or delete of another
institution is refused (403 `forbidden`; not quarantined). A configured key says
`institutions`; a JWT says `mds_institutions` (space separated)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from adapter.errors import Finding
from adapter.fhir import read_ndjson
from adapter.mds.synth import generate
from adapter.stores.omop_db import init_db
from tests.api.conftest import KEYS, bundle, entries
from tests.api.test_bundle_requests import delete, records
from tests.api.test_everything import TERMINOLOGY, outcome, patient_of, post
from tests.api.test_export import download, finished, kick_off
from tests.api.test_jwt import AUDIENCE, ISSUER, SECRET, hs256
from tests.db.loading import count

CENTRE = {"Authorization": "Bearer tok-centre-0123456789"}
ASYNC = {"Prefer": "respond-async", "Accept": "application/fhir+json"}


@pytest.fixture
def scoped(
    db_url: str, tmp_path: Path, make_client: Callable[..., TestClient]
) -> tuple[TestClient, list[Any], list[dict[str, Any]]]:
    """An app where tok-centre-0123456789 reads MSKCC and RNOH only, with 12 generated records
    posted (MSKCC 3, RNOH 2, five other institutions 7)."""
    init_db(db_url)
    keys = {**KEYS, "tok-centre-0123456789": {"client": "mskcc-rnoh", "scopes": ["export.read"],
                                   "institutions": ["MSKCC", "RNOH"]}}  # fmt: skip
    client = make_client(db_url, api_keys=keys, export_dir=tmp_path / "exports",
                         jwt_secret=SECRET, jwt_issuer=ISSUER, jwt_audience=AUDIENCE)  # fmt: skip
    records = [r for r, _ in generate(12, seed=21)]
    return client, records, post(client, records)


def test_everything_hides_other_centres_patients(
    scoped: tuple[TestClient, list[Any], list[dict[str, Any]]],
) -> None:
    client, records, posted = scoped
    seen = {}
    for record, sent in zip(records, posted, strict=True):
        answer = client.get(f"/fhir/Patient/{patient_of(sent)}/$everything", headers=CENTRE)
        seen[record.record_id] = answer.status_code
        if record.institution not in ("MSKCC", "RNOH"):
            outcome(answer, 404, "no such Patient")
    assert sorted(seen.values()) == [200] * 5 + [404] * 7
    assert {r.record_id for r in records if r.institution in ("MSKCC", "RNOH")} == {
        rid for rid, status in seen.items() if status == 200
    }


def test_read_and_search_hide_other_centres_patients(
    scoped: tuple[TestClient, list[Any], list[dict[str, Any]]],
) -> None:
    client, records, posted = scoped
    statuses = []
    for record, sent in zip(records, posted, strict=True):
        statuses.append(client.get(f"/fhir/Patient/{patient_of(sent)}", headers=CENTRE).status_code)
        system = next(e["resource"]["identifier"][0]["system"] for e in sent["entry"]
                      if e["resource"]["resourceType"] == "Patient")  # fmt: skip
        found = client.get("/fhir/Patient", headers=CENTRE,
                           params={"identifier": f"{system}|{record.record_id}"})  # fmt: skip
        mine = record.institution in ("MSKCC", "RNOH")
        assert (statuses[-1], found.json()["total"]) == ((200, 1) if mine else (404, 0))
    assert sorted(statuses) == [200] * 5 + [404] * 7


def test_export_writes_only_the_centres_records(
    scoped: tuple[TestClient, list[Any], list[dict[str, Any]]],
) -> None:
    client, records, _ = scoped
    response = client.get("/fhir/$export", headers={**CENTRE, **ASYNC})
    assert response.status_code == 202, response.text
    location = response.headers["content-location"]
    manifest = finished(client, location, CENTRE)
    back = list(read_ndjson(download(client, manifest, CENTRE), TERMINOLOGY))
    assert [x for x in back if isinstance(x, Finding)] == []
    assert back == [r for r in records if r.institution in ("MSKCC", "RNOH")]
    # an unlimited reader still gets all twelve
    every = finished(client, kick_off(client))
    assert len(list(read_ndjson(download(client, every), TERMINOLOGY))) == 12


def test_a_jwt_names_its_institutions(
    scoped: tuple[TestClient, list[Any], list[dict[str, Any]]],
) -> None:
    client, records, posted = scoped
    token = {"Authorization": f"Bearer {hs256(scope='export.read', mds_institutions='UKM')}"}
    found = {r.institution: client.get(f"/fhir/Patient/{patient_of(p)}/$everything",
                                       headers=token).status_code
             for r, p in zip(records, posted, strict=True)}  # fmt: skip
    assert found == {"MSKCC": 404, "RNOH": 404, "MSH": 404, "UKM": 200, "ROH": 404, "INT": 404,
                     "IOR": 404}  # fmt: skip
    wrong = {"Authorization": f"Bearer {hs256(scope='export.read', mds_institutions=['UKM'])}"}
    outcome(client.get(f"/fhir/Patient/{patient_of(posted[0])}/$everything", headers=wrong),
            401, "the bearer token is not valid: the mds_institutions claim must be a "
            "space-separated string")  # fmt: skip


UKM_WRITER = {"Authorization": "Bearer tok-ukm-0123456789", "Content-Type": "application/fhir+json"}


@pytest.fixture
def ukm_writer(db_url: str, make_client: Callable[..., TestClient]) -> TestClient:
    """tok-ukm-0123456789 may write UKM's records only; entries(3) holds records of INT, none
    and UKM."""
    init_db(db_url)
    keys = {**KEYS, "tok-ukm-0123456789": {"client": "ukm", "scopes": ["bundle.write"],
                                "institutions": ["UKM"]}}  # fmt: skip
    return make_client(db_url, api_keys=keys)


def _statuses(answer: dict[str, Any], items: list[dict[str, Any]]) -> dict[str, str]:
    """Each Patient entry's status, by record id."""
    return {e["resource"]["identifier"][0]["value"]: a["response"]["status"]
            for e, a in zip(items, answer["entry"], strict=True)
            if e["resource"]["resourceType"] == "Patient"}  # fmt: skip


def test_a_batch_keeps_the_centres_record_and_refuses_the_others(ukm_writer: TestClient) -> None:
    items = entries(3)
    answer = ukm_writer.post("/fhir", json=bundle("batch", items), headers=UKM_WRITER)
    assert answer.status_code == 200
    assert _statuses(answer.json(), items) == {
        "SYN-000001-XRZX": "403 Forbidden",
        "SYN-000002-JMPU": "403 Forbidden",
        "SYN-000003-PSBG": "201 Created",
    }
    refused = [a["response"]["outcome"]["issue"][-1]["diagnostics"] for e, a in
               zip(items, answer.json()["entry"], strict=True)
               if e["resource"]["resourceType"] == "Patient"][:2]  # fmt: skip
    assert refused == ["this token may not write records of INT",
                       "this token may not write records of no institution"]  # fmt: skip
    url = str(ukm_writer.app.state.api.settings.db_url)  # type: ignore[attr-defined]
    assert (count(url, "person"), count(url, "quarantine")) == (1, 0)


def test_a_transaction_with_another_centres_record_is_refused_whole(
    ukm_writer: TestClient,
) -> None:
    items = entries(3)
    answer = ukm_writer.post("/fhir", json=bundle("transaction", items), headers=UKM_WRITER)
    assert answer.status_code == 403
    assert [i["code"] for i in answer.json()["issue"]] == ["forbidden", "forbidden"]
    url = str(ukm_writer.app.state.api.settings.db_url)  # type: ignore[attr-defined]
    assert count(url, "person") == 0


def test_a_delete_of_another_centres_record_is_refused(ukm_writer: TestClient) -> None:
    items = entries(3)
    full = {"Authorization": "Bearer tok-write-0123456789", "Content-Type": "application/fhir+json"}
    assert ukm_writer.post("/fhir", json=bundle("batch", items), headers=full).status_code == 200
    first, _, third = records(items)
    gone = [delete(first[0]), delete(third[0])]
    answer = ukm_writer.post("/fhir", json=bundle("batch", gone), headers=UKM_WRITER)
    assert [a["response"]["status"] for a in answer.json()["entry"]] == ["403 Forbidden",
                                                                         "200 OK"]  # fmt: skip
    url = str(ukm_writer.app.state.api.settings.db_url)  # type: ignore[attr-defined]
    assert count(url, "person") == 2
