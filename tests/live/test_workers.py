"""`mds-adapter serve --workers 2`: two processes on one socket, writing the same database."""

from __future__ import annotations

import time
from pathlib import Path

import httpx2 as httpx

from adapter.fhir import to_fhir
from adapter.fhir.bundle import dumps
from adapter.mds.synth import generate
from adapter.stores.fhir_push import ToPush, push
from adapter.stores.omop_db import init_db
from adapter.terminology import Terminology
from bench.server import served
from tests.db.loading import count
from tests.live.conftest import SERVER_ENV


def test_two_workers_take_concurrent_writes_and_keep_alive_stays_fast(
    db_url: str, tmp_path: Path
) -> None:
    init_db(db_url)
    terminology = Terminology.load()
    items = [ToPush(f"{r.institution}|{r.record_id}", r.record_id, dumps(to_fhir(r, terminology)))
             for r, _ in generate(24, 2)]  # fmt: skip
    with served(db_url, tmp_path, SERVER_ENV, workers=2) as server:
        assert len(server.pids()) >= 3  # the supervisor and its two workers
        outcomes = list(
            push(items, f"{server.base}/fhir", token="tok-write-0123456789", in_flight=8)
        )
        with httpx.Client(base_url=server.base) as client:
            client.get("/fhir/metadata")
            t0 = time.perf_counter()
            for _ in range(20):
                assert client.get("/fhir/metadata").status_code == 200
            seconds = time.perf_counter() - t0
    assert [(o.record_id, o.status, o.http_status) for o in outcomes] == [
        (i.record_id, "accepted", 200) for i in items]  # fmt: skip
    assert count(db_url, "person") == 24
    assert count(db_url, "records") == 24
    # without TCP_NODELAY on the shared socket each keep-alive answer waits ~40 ms for the
    # client's delayed ACK (uvicorn issue #3149): 20 would take ~0.9 s
    assert seconds < 0.4
