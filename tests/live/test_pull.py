"""`mds-adapter pull` against a real `mds-adapter serve` process, on each database.

50 generated records go in over POST /fhir; pull reads them back through Bulk Data $export
(the server offers it) and through --patient ($everything), and the JSON Lines written must
be exactly the generator's records, in order.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx2 as httpx
import orjson
import pytest
from typer.testing import CliRunner

from adapter.cli import app
from adapter.fhir import to_fhir
from adapter.mds.record import MdsRecord
from adapter.mds.synth import generate
from adapter.sources.jsonl import dumps
from adapter.stores.fhir_pull import Puller, PullError, pull_records
from adapter.terminology import Terminology
from tests.api.conftest import WRITE, bundle
from tests.live.conftest import SERVER_ENV
from tests.live.server import LiveServer, free_port, live_server

runner = CliRunner()
TERMINOLOGY = Terminology.load()


@pytest.fixture
def loaded(server: LiveServer) -> tuple[LiveServer, list[MdsRecord], list[str]]:
    """The server with 50 generated records posted, 10 per transaction; and their Patient ids."""
    records = [r for r, _ in generate(50, seed=41)]
    patients: list[str] = []
    for start in range(0, 50, 10):
        items: list[dict[str, Any]] = []
        for r in records[start : start + 10]:
            items += to_fhir(r, TERMINOLOGY)["entry"]
        body = orjson.dumps(bundle("transaction", items))
        response = httpx.post(server.fhir, content=body, headers=WRITE, timeout=60)
        assert response.status_code == 200, response.text
        patients += [e["resource"]["id"] for e in items
                     if e["resource"]["resourceType"] == "Patient"]  # fmt: skip
    return server, records, patients


def pull(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["pull", *args])
    return result.exit_code, result.stdout, result.stderr


def jsonl(records: list[MdsRecord]) -> bytes:
    return b"".join(dumps(r) + b"\n" for r in records)


def test_pull_via_bulk_export_and_via_everything(
    loaded: tuple[LiveServer, list[MdsRecord], list[str]], tmp_path: Path
) -> None:
    server, records, patients = loaded
    out = tmp_path / "bulk.jsonl"
    code, stdout, stderr = pull(
        "--from", server.fhir, "--token", "tok-read-0123456789", "-o", str(out)
    )
    assert (code, stdout) == (0, ""), stderr
    assert f"50 records read from {server.fhir}: 50 written to {out} (jsonl), 0 rejected" in stderr
    assert out.read_bytes() == jsonl(records)
    fhir = tmp_path / "bulk.ndjson"
    code, _, stderr = pull("--from", server.fhir, "--token", "tok-read-0123456789", "-o", str(fhir),
                           "--to", "fhir", "--bundle", "collection")  # fmt: skip
    assert code == 0, stderr
    assert fhir.read_bytes() == b"".join(
        orjson.dumps(to_fhir(r, TERMINOLOGY, "collection")) + b"\n" for r in records)  # fmt: skip
    out = tmp_path / "everything.jsonl"
    ids = [x for p in patients for x in ("--patient", p)]
    code, stdout, stderr = pull("--from", server.fhir, *ids, "-o", str(out), "--json")
    assert code == 2 and "401 Unauthorized: a bearer token is required" in stderr
    runner.env = {"MDS_ADAPTER_PULL_TOKEN": "tok-read-0123456789"}
    try:
        code, stdout, stderr = pull("--from", server.fhir, *ids, "-o", str(out), "--json")
    finally:
        runner.env = {}
    assert code == 0, stderr
    assert [orjson.loads(x) for x in stdout.splitlines()] == [
        {"type": "summary", "read": 50, "written": 50, "rejected": 0, "warnings": 0,
         "to": "jsonl"}]  # fmt: skip
    assert out.read_bytes() == jsonl(records)


def test_pull_failures_are_one_line(server: LiveServer, tmp_path: Path) -> None:
    out = str(tmp_path / "x.jsonl")
    code, _, stderr = pull("--from", server.fhir, "--token", "tok-write-0123456789", "-o", out)
    assert code == 2
    assert stderr == (f"error: GET {server.fhir}/$export: 403 Forbidden: this token lacks the "
                      "scope export.read\n")  # fmt: skip
    unknown = "00000000-0000-5000-8000-000000000000"
    code, _, stderr = pull("--from", server.fhir, "--token", "tok-read-0123456789",
                           "--patient", unknown, "-o", out)  # fmt: skip
    assert code == 2
    assert stderr == (f"error: GET {server.fhir}/Patient/{unknown}/$everything: 404 Not Found: "
                      "no such Patient\n")  # fmt: skip


def test_an_unreachable_server_is_retried_then_one_line(tmp_path: Path) -> None:
    base = f"http://127.0.0.1:{free_port()}/fhir"
    started = time.monotonic()
    with (
        Puller(base, "tok-read-0123456789", retries=2, backoff=0.01) as puller,
        pytest.raises(PullError) as caught,
    ):
        list(pull_records(base, puller=puller))
    assert str(caught.value).startswith(f"GET {base}/metadata: ConnectError: ")
    assert time.monotonic() - started < 5


def test_5xx_is_retried_a_bounded_number_of_times(tmp_path: Path) -> None:
    """A server whose database is down: $export answers 503 every time."""
    down = "postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=1"
    with live_server(down, tmp_path, SERVER_ENV, healthy=False) as bare:
        with (
            Puller(bare.fhir, "tok-read-0123456789", retries=2, backoff=0.01) as puller,
            pytest.raises(PullError) as caught,
        ):
            list(pull_records(bare.fhir, puller=puller))
        log = [orjson.loads(x) for x in bare.log.read_text().splitlines() if x.startswith("{")]
    assert str(caught.value) == (
        f"GET {bare.fhir}/$export: 503 Service Unavailable: the record store is not available "
        "(database down or not initialised)")  # fmt: skip
    assert [(x["path"], x["status"]) for x in log if x["path"] != "/health"] == [
        ("/fhir/metadata", 200), *[("/fhir/$export", 503)] * 3]  # fmt: skip
