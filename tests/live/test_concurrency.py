"""Ten clients post the same Bundle at once to a real server: one set of rows, one 201 each.

The reference is the same Bundle posted once into a fresh database of the same kind: after the
concurrent posts every CDM and record-store table must hold exactly its rows (ids included),
every response must be 200 with each record created by exactly one of them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx2 as httpx
import orjson
import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import WRITE, bundle, entries
from tests.db.loading import count, dump
from tests.live.server import LiveServer

CLIENTS = 10


def post_at_once(server: LiveServer, body: bytes) -> list[httpx.Response]:
    """CLIENTS posts released together by a barrier, each on its own connection."""
    barrier = threading.Barrier(CLIENTS)
    found: list[httpx.Response | BaseException] = [RuntimeError("not run")] * CLIENTS

    def post(n: int) -> None:
        with httpx.Client(timeout=120.0) as client:
            barrier.wait()
            try:
                found[n] = client.post(server.fhir, content=body, headers=WRITE)
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
