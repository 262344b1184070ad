"""Ten clients post at once to a real server process, on SQLite and PostgreSQL.

The same Bundle ten times: every CDM and record-store table must then hold exactly what one
post into a fresh database of the same kind gives (ids included), every response is 200 and
each record is created (201) by exactly one of them. Ten overlapping Bundles: every record is
created once, no id is lost or given twice, and the records read back are those of one post.
Both fail when the record store lock (PostgreSQL) or BEGIN IMMEDIATE (SQLite) is taken away.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx2 as httpx
import orjson
import pytest
from fastapi.testclient import TestClient

from adapter.fhir import to_fhir
from adapter.mds.synth import generate
from adapter.sources.jsonl import dumps
from adapter.stores.export import export_records
from adapter.terminology import Terminology
from tests.api.conftest import WRITE, bundle, entries
from tests.db.loading import count, dump
from tests.live.server import LiveServer

CLIENTS = 10


def post_at_once(server: LiveServer, body: bytes | list[bytes]) -> list[httpx.Response]:
    """CLIENTS posts (of one body, or body n by client n) released together by a barrier,
    each on its own connection."""
    bodies = body if isinstance(body, list) else [body] * CLIENTS
    barrier = threading.Barrier(CLIENTS)
    found: list[httpx.Response | BaseException] = [RuntimeError("not run")] * CLIENTS

    def post(n: int) -> None:
        with httpx.Client(timeout=120.0) as client:
            barrier.wait()
            try:
                found[n] = client.post(server.fhir, content=bodies[n], headers=WRITE)
            except BaseException as exc:  # reported below with the others
                found[n] = exc

    threads = [threading.Thread(target=post, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    failed = [x for x in found if not isinstance(x, httpx.Response)]
    assert not failed, failed
    return [x for x in found if isinstance(x, httpx.Response)]


@pytest.mark.parametrize("kind", ["transaction", "batch"])
def test_the_same_bundle_from_ten_clients_gives_one_set_of_rows(
    server: LiveServer, db_url: str, kind: str,
    reference_client: Callable[[], TestClient],
) -> None:  # fmt: skip
    items = entries(3)
    body = orjson.dumps(bundle(kind, items))
    responses = post_at_once(server, body)
    assert [r.status_code for r in responses] == [200] * CLIENTS, server.log.read_text()[-3000:]
    statuses = [[e["response"]["status"] for e in r.json()["entry"]] for r in responses]
    for i, item in enumerate(items):
        column = [s[i] for s in statuses]
        if item["resource"]["resourceType"] == "Organization":
            assert column == ["200 OK"] * CLIENTS
        else:
            assert sorted(column) == ["200 OK"] * (CLIENTS - 1) + ["201 Created"], i
    reference = reference_client()
    single = reference.post("/fhir", content=body, headers=WRITE)
    assert single.status_code == 200
    expected = dump(str(reference.app.state.api.settings.db_url))  # type: ignore[attr-defined]
    assert dump(db_url) == expected
    assert (count(db_url, "records"), count(db_url, "person")) == (3, 3)
    receipts = {r.headers["x-receipt-id"] for r in responses}
    assert len(receipts) == CLIENTS


def test_overlapping_bundles_from_ten_clients_lose_no_record_and_no_id(
    server: LiveServer, db_url: str, reference_client: Callable[[], TestClient]
) -> None:
    """Client n posts records n, n+1, n+2 of 12: every record is created once, and the CDM
    holds what one post of all 12 gives (rows per table, records read back, ids used)."""
    terminology = Terminology.load()
    pool = [to_fhir(r, terminology)["entry"] for r, _ in generate(12, 5)]
    windows = [range(n, n + 3) for n in range(CLIENTS)]
    bodies = [orjson.dumps(bundle("transaction", [e for i in w for e in pool[i]])) for w in windows]
    responses = post_at_once(server, bodies)
    assert [r.status_code for r in responses] == [200] * CLIENTS, server.log.read_text()[-3000:]
    created: dict[int, int] = {}
    for window, response in zip(windows, responses, strict=True):
        answers = iter(response.json()["entry"])
        for i in window:
            statuses = {next(answers)["response"]["status"] for _ in pool[i]} - {"200 OK"}
            created[i] = created.get(i, 0) + (statuses == {"201 Created"})
    assert created == dict.fromkeys(range(12), 1)
    reference = reference_client()
    everything = bundle("transaction", [e for entries_ in pool for e in entries_])
    assert reference.post("/fhir", json=everything, headers=WRITE).status_code == 200
    ref_url = str(reference.app.state.api.settings.db_url)  # type: ignore[attr-defined]
    got, expected = dump(db_url), dump(ref_url)
    assert {t: len(v) for t, v in got.items()} == {t: len(v) for t, v in expected.items()}
    assert got["id_sequence"] == expected["id_sequence"]  # no id allocated twice or lost
    assert sorted(map(dumps, export_records(db_url))) == sorted(
        map(dumps, export_records(ref_url)))  # fmt: skip
