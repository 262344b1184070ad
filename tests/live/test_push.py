"""`mds-adapter push` against a real `mds-adapter serve` process, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import httpx2 as httpx
import orjson
from typer.testing import CliRunner

from adapter.cli import app
from adapter.fhir import to_fhir
from adapter.fhir.bundle import dumps
from adapter.mds.record import MdsRecord
from adapter.mds.synth import generate
from adapter.stores.fhir_push import ToPush, push
from adapter.stores.omop_db import init_db
from adapter.stores.retry import RetryPolicy
from tests.db.loading import count, write_lines
from tests.live.conftest import SERVER_ENV
from tests.live.server import LiveServer, live_server

RUNNER = CliRunner()
DOWN = "postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=1"
"""A database nothing listens for: serve starts (with a warning) and answers 503 meanwhile."""
ISSUE_WHEN_DOWN = (
    "the database is busy or not reachable; no record of this Bundle was written: retry"
)


def _push(server: LiveServer, path: Path, state: Path, *options: str) -> tuple[int, list[Any]]:
    result = RUNNER.invoke(app, ["push", str(path), "--to", server.fhir, "--state", str(state),
                                 "--json", *options])  # fmt: skip
    return result.exit_code, [orjson.loads(line) for line in result.stdout.splitlines()]


def _summary(lines: list[Any]) -> dict[str, int]:
    found = [x for x in lines if x["type"] == "summary"]
    assert len(found) == 1
    return {k: v for k, v in found[0].items() if k != "type"}


def test_push_30_then_a_rerun_sends_nothing_then_only_the_changed_record(
    server: LiveServer, db_url: str, tmp_path: Path
) -> None:
    records = [r for r, _ in generate(30, 1)]
    source, state = write_lines(tmp_path / "in.jsonl", records), tmp_path / "state.jsonl"
    code, lines = _push(server, source, state, "--token", "tok-write-0123456789")
    assert code == 0
    assert _summary(lines) == {"sent": 30, "accepted": 30, "rejected": 0, "failed": 0,
                               "skipped": 0, "invalid": 0}  # fmt: skip
    bundles = [x for x in lines if x["type"] == "bundle"]
    assert [b["record_id"] for b in bundles] == [r.record_id for r in records]
    assert {(b["status"], b["http_status"], b["attempts"]) for b in bundles} == {
        ("accepted", 200, 1)}  # fmt: skip
    assert len({b["receipt"] for b in bundles}) == 30
    assert count(db_url, "person") == 30
    receipt = httpx.get(f"{server.base}/admin/receipts/{bundles[0]['receipt']}",
                        headers={"Authorization": "Bearer tok-admin-0123456789"})  # fmt: skip
    assert receipt.status_code == 200
    assert len(state.read_bytes().splitlines()) == 30

    code, lines = _push(server, source, state, "--token", "tok-write-0123456789")
    assert (code, _summary(lines)["sent"], _summary(lines)["skipped"]) == (0, 0, 30)

    i = next(i for i, r in enumerate(records) if r.vital_status == "alive")
    changed = records[i]
    later = changed.date_of_last_contact + dt.timedelta(days=1)  # type: ignore[operator]
    records[i] = MdsRecord(**{**changed.__dict__, "date_of_last_contact": later})
    write_lines(source, records)
    code, lines = _push(server, source, state, "--token", "tok-write-0123456789")
    assert code == 0, [x for x in lines if x.get("attempts")]
    assert [(b["record_id"], b["status"]) for b in lines if b.get("attempts")] == [
        (changed.record_id, "accepted")]  # fmt: skip
    assert _summary(lines) == {"sent": 1, "accepted": 1, "rejected": 0, "failed": 0,
                               "skipped": 29, "invalid": 0}  # fmt: skip
    assert count(db_url, "person") == 30
    assert count(db_url, "records", f"WHERE record_id = '{changed.record_id}' AND version = 2") == 1


def test_a_record_the_api_rejects_is_reported_with_its_rule_and_the_others_go_in(
    server: LiveServer, db_url: str, tmp_path: Path
) -> None:
    source = write_lines(tmp_path / "in.jsonl", [r for r, _ in generate(30, 3, 0.1)])
    code, lines = _push(server, source, tmp_path / "state.jsonl", "--token", "tok-write-0123456789")
    assert code == 1
    rejected = [b for b in lines if b.get("status") == "rejected"]
    assert [(b["record_id"], b["http_status"]) for b in rejected] == [("SYN-000005-SFYD", 422)]
    assert rejected[0]["receipt"]
    assert any(i.startswith("Bundle.entry[1].resource: rule.R12 ") for i in rejected[0]["issues"])
    assert _summary(lines)["accepted"] == 29
    assert count(db_url, "person") == 29


def test_a_wrong_token_stops_the_push_with_exit_2(server: LiveServer, tmp_path: Path) -> None:
    source = write_lines(tmp_path / "in.jsonl", [r for r, _ in generate(3, 1)])
    state = tmp_path / "state.jsonl"
    refusals = [
        ("nope", "answered 401: the bearer token is not valid"),
        ("tok-none-0123456789", "answered 403: this token lacks the scope bundle.write"),
    ]
    for token, message in refusals:
        result = RUNNER.invoke(
            app,
            ["push", str(source), "--to", server.fhir, "--state", str(state)],
            env={"MDS_ADAPTER_PUSH_TOKEN": token},
        )
        assert result.exit_code == 2
        assert result.stderr == f"error: {server.fhir} {message}\n"
        assert not state.exists()


def test_a_body_over_the_server_limit_is_final_not_retried(db_url: str, tmp_path: Path) -> None:
    init_db(db_url)
    records = [r for r, _ in generate(6, 1)]
    sizes = {r.record_id: len(dumps(to_fhir(r, _terminology()))) for r in records}
    limit = sorted(sizes.values())[2]  # the three smallest fit
    assert len(set(sizes.values())) == 6
    env = {**SERVER_ENV, "MDS_ADAPTER_MAX_BODY_BYTES": str(limit)}
    with live_server(db_url, tmp_path, env) as server:
        source = write_lines(tmp_path / "in.jsonl", records)
        code, lines = _push(
            server, source, tmp_path / "state.jsonl", "--token", "tok-write-0123456789"
        )
    assert code == 1
    got = {b["record_id"]: (b["status"], b["http_status"], b["attempts"]) for b in lines
           if b["type"] == "bundle"}  # fmt: skip
    assert got == {k: ("accepted", 200, 1) if size <= limit else ("rejected", 413, 1)
                   for k, size in sizes.items()}  # fmt: skip
    too_large = [b["issues"] for b in lines if b.get("http_status") == 413]
    assert too_large == [[f"the request body exceeds {limit} bytes"]] * 3
    assert server.log.read_text().count('"status":413') == 3  # each sent once


def test_503_is_retried_with_back_off_then_reported_failed(tmp_path: Path) -> None:
    """A server whose database is down answers 503 (transient) to every bundle."""
    record = next(r for r, _ in generate(1, 1))
    waits: list[float] = []
    policy = RetryPolicy(attempts=3, base=0.02)
    item = ToPush(f"{record.institution}|{record.record_id}", record.record_id,
                  dumps(to_fhir(record, _terminology())))  # fmt: skip
    with live_server(DOWN, tmp_path, SERVER_ENV, healthy=False) as server:
        [outcome] = push(
            [item], server.fhir, token="tok-write-0123456789", policy=policy, sleep=waits.append
        )
    assert (outcome.status, outcome.http_status, outcome.attempts) == ("failed", 503, 3)
    assert outcome.issues == [ISSUE_WHEN_DOWN]
    assert waits == [2.0, 2.0]  # the server's Retry-After, honoured over the policy's back-off
    assert server.log.read_text().count('"path":"/fhir","status":503') == 3  # not /health


def test_a_refused_connection_is_retried_then_failed(tmp_path: Path) -> None:
    from tests.live.server import free_port

    waits: list[float] = []
    url = f"http://127.0.0.1:{free_port()}/fhir"  # nothing listens there
    [outcome] = push([ToPush("X|1", "1", b"{}")], url, policy=RetryPolicy(attempts=4, base=0.01),
                     sleep=waits.append)  # fmt: skip
    assert (outcome.status, outcome.http_status, outcome.attempts) == ("failed", None, 4)
    assert outcome.issues[0].startswith("ConnectError")
    assert len(waits) == 3


def _terminology() -> Any:
    from adapter.terminology import Terminology

    return Terminology.load()
