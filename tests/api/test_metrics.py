"""`GET /metrics` after known traffic: exact counter values, route templates, one registry per app.

The CDM row count the metrics must show is read from the runs the loads wrote (adapter `runs`
details), the entry outcomes from the per-entry statuses of the response Bundle.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from adapter.stores.omop_db import init_db
from tests.api.admin_data import url_of
from tests.api.conftest import ADMIN, WRITE, bundle, entries
from tests.db.helpers import dialect_of, rows


def samples(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", headers=ADMIN)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text)
            for s in family.samples if not s.name.endswith("_created")}  # fmt: skip


def rows_of_runs(url: str) -> int:
    runs = "adapter.runs" if dialect_of(url) == "postgresql" else "adapter_runs"
    return sum(json.loads(d).get("rows", 0) for (d,) in rows(url, f"SELECT details FROM {runs}"))


def spoiled(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = copy.deepcopy(items)
    next(e for e in out if e["resource"]["resourceType"] == "Observation")["resource"][
        "status"] = "bogus"  # fmt: skip
    return out


def test_counters_after_known_posts(db_client: TestClient) -> None:
    batch = spoiled(entries(3))
    answered = db_client.post("/fhir", json=bundle("batch", batch), headers=WRITE).json()
    statuses = [e["response"]["status"] for e in answered["entry"]]
    refused = db_client.post("/fhir", json=bundle("transaction", spoiled(entries(2, seed=6))),
                             headers=WRITE)  # fmt: skip
    assert refused.status_code == 422
    db_client.get("/admin/quarantine/4242", headers=ADMIN)
    db_client.get("/no/such/path")
    db_client.request("BREW", "/no/such/path")
    got = samples(db_client)
    ok = sum(not s.startswith("422") for s in statuses)
    assert 0 < ok < len(batch)
    expected = {
        ("mds_adapter_http_requests_total", (("method", "POST"), ("route", "/fhir"),
                                             ("status", "200"))): 1.0,
        ("mds_adapter_http_requests_total", (("method", "POST"), ("route", "/fhir"),
                                             ("status", "422"))): 1.0,
        ("mds_adapter_http_requests_total", (("method", "GET"),
                                             ("route", "/admin/quarantine/{quarantine_id}"),
                                             ("status", "404"))): 1.0,
        ("mds_adapter_http_requests_total", (("method", "GET"), ("route", "unmatched"),
                                             ("status", "404"))): 1.0,
        ("mds_adapter_http_requests_total", (("method", "other"), ("route", "unmatched"),
                                             ("status", "404"))): 1.0,
        ("mds_adapter_http_request_duration_seconds_count", (("method", "POST"),
                                                             ("route", "/fhir"))): 2.0,
        ("mds_adapter_bundles_total", (("outcome", "partial"), ("type", "batch"))): 1.0,
        ("mds_adapter_bundles_total", (("outcome", "rejected"), ("type", "transaction"))): 1.0,
        ("mds_adapter_entries_total", (("outcome", "accepted"),)): float(ok),
        ("mds_adapter_entries_total", (("outcome", "rejected"),)): float(
            len(batch) - ok + len(entries(2, seed=6))),
        ("mds_adapter_omop_rows_written_total", ()): float(rows_of_runs(url_of(db_client))),
    }  # fmt: skip
    assert {k: got.get(k) for k in expected} == expected
    assert expected[("mds_adapter_omop_rows_written_total", ())] > 0
    assert not any("4242" in v for _, labels in got for _, v in labels)
    routes = {dict(labels)["route"] for name, labels in got
              if name == "mds_adapter_http_requests_total"}  # fmt: skip
    assert routes == {"/fhir", "/admin/quarantine/{quarantine_id}", "unmatched"}


def test_each_app_counts_its_own_requests(make_client: Any, tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'omop.sqlite'}"
    init_db(url)
    first, second = make_client(url), make_client(url)
    first.get("/fhir/metadata")
    first.get("/fhir/metadata")
    key = ("mds_adapter_http_requests_total",
           (("method", "GET"), ("route", "/fhir/metadata"), ("status", "200")))  # fmt: skip
    assert samples(first)[key] == 2.0
    assert key not in samples(second)
