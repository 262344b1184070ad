"""Bulk Data $export on SQLite and PostgreSQL: kick-off, polling, manifest, files, cancel.

The counts in the manifest must be what `to_fhir` emits for the posted records (an
institution's Organization once), and the NDJSON files must read back to those records.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from adapter.api.bulk import NDJSON
from adapter.errors import Finding
from adapter.fhir import read_ndjson
from adapter.fhir.bundle import resources
from adapter.fhir.read import read_labelled
from adapter.fhir.served import RESOURCE_TYPES
from adapter.mds.record import MdsRecord
from adapter.mds.synth import generate
from adapter.stores.bulk import dialect_of
from adapter.stores.bulk_export import OutputFile, write_export
from adapter.stores.export_jobs import STALE_SECONDS
from adapter.stores.fhir_pull import patient_chunks
from adapter.stores.record_store import adapter_name
from tests.api.conftest import READ
from tests.api.test_everything import TERMINOLOGY, outcome, post

ASYNC = {**READ, "Prefer": "respond-async", "Accept": "application/fhir+json"}
OTHER = {"Authorization": "Bearer tok-read-0123456789-2"}


@pytest.fixture
def exporting(
    db_url: str, tmp_path: Path, make_client: Callable[..., TestClient]
) -> Callable[[], TestClient]:
    """Apps over one initialised database and one export directory (a restart: call again)."""
    from adapter.stores.omop_db import init_db

    init_db(db_url)
    return lambda: make_client(db_url, export_dir=tmp_path / "exports")


def expected_counts(records: list[MdsRecord], types: set[str] | None = None) -> dict[str, int]:
    seen: dict[str, str] = {}
    for r in records:
        for x in resources(r, TERMINOLOGY):
            seen.setdefault(x["id"], x["resourceType"])
    found = Counter(seen.values())
    return {t: n for t, n in found.items() if types is None or t in types}


def finished(client: TestClient, location: str, headers: dict[str, str] = READ) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        response = client.get(location, headers=headers)
        if response.status_code == 200:
            body: dict[str, Any] = response.json()
            return body
        assert response.status_code == 202, response.text
        assert response.headers["retry-after"] == "1"
        assert response.headers["x-progress"].endswith(" records")
        time.sleep(0.05)
    raise AssertionError("the export did not finish in 60 s")


def kick_off(client: TestClient, query: str = "") -> str:
    response = client.get(f"/fhir/$export{query}", headers=ASYNC)
    assert response.status_code == 202, response.text
    location: str = response.headers["content-location"]
    assert location.startswith("http://testserver/fhir/bulk-status/")
    return location


def download(
    client: TestClient, manifest: dict[str, Any], headers: dict[str, str] = READ
) -> list[bytes]:
    lines: list[bytes] = []
    for output in manifest["output"]:
        response = client.get(output["url"], headers=headers)
        assert response.status_code == 200
        assert response.headers["content-type"] == NDJSON
        got = response.content.splitlines()
        assert len(got) == output["count"]
        assert {x.split(b'"resourceType":"')[1].split(b'"')[0] for x in got} == {
            output["type"].encode()}  # fmt: skip
        lines += got
    return lines


def test_export_end_to_end(exporting: Callable[[], TestClient], tmp_path: Path) -> None:
    client = exporting()
    records = [r for r, _ in generate(8, seed=31)]
    post(client, records)
    location = kick_off(client, "?_outputFormat=application/fhir%2Bndjson")
    manifest = finished(client, location)
    assert manifest["requiresAccessToken"] is True
    assert manifest["error"] == []
    assert manifest["request"] == (
        "http://testserver/fhir/$export?_outputFormat=application/fhir%2Bndjson")  # fmt: skip
    counts = {o["type"]: o["count"] for o in manifest["output"]}
    assert counts == expected_counts(records)
    back = list(read_ndjson(download(client, manifest), TERMINOLOGY))
    assert [x for x in back if isinstance(x, Finding)] == []
    assert back == records
    # the job outlives the process: a new app over the same database answers the same
    again = exporting()
    assert again.get(location, headers=READ).json() == manifest
    assert len(download(again, manifest)) == sum(counts.values())


def test_type_filter_and_since(exporting: Callable[[], TestClient]) -> None:
    client = exporting()
    records = [r for r, _ in generate(6, seed=32)]
    post(client, records[:3])
    between = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    post(client, records[3:])
    manifest = finished(client, kick_off(client, "?_type=Patient,Condition"))
    assert {o["type"]: o["count"] for o in manifest["output"]} == expected_counts(
        records, {"Patient", "Condition"})  # fmt: skip
    manifest = finished(client, kick_off(client, f"?_since={between}"))
    assert {o["type"]: o["count"] for o in manifest["output"]} == expected_counts(records[3:])
    assert list(read_ndjson(download(client, manifest), TERMINOLOGY)) == records[3:]


def test_kick_off_is_checked(exporting: Callable[[], TestClient]) -> None:
    client = exporting()
    outcome(client.get("/fhir/$export", headers={**ASYNC, "Prefer": "return=minimal"}), 400,
            "$export is asynchronous: send Prefer: respond-async")  # fmt: skip
    outcome(client.get("/fhir/$export", headers={**ASYNC, "Accept": "text/csv"}), 400,
            "send Accept: application/fhir+json")  # fmt: skip
    outcome(client.get("/fhir/$export?_outputFormat=text/csv", headers=ASYNC), 400,
            "_outputFormat: only application/fhir+ndjson is written")  # fmt: skip
    response = client.get("/fhir/$export?_type=Patient,Basic", headers=ASYNC)
    outcome(response, 400, response.json()["issue"][0]["diagnostics"])
    assert response.json()["issue"][0]["diagnostics"].startswith(
        "_type: Basic is not a type this server exports (Condition, ")  # fmt: skip
    no_organization = ("_type: Organization is not a type this server exports (Condition, "
                       "Encounter, EpisodeOfCare, MedicationAdministration, Observation, "
                       "Patient, Procedure)")  # fmt: skip
    outcome(client.get("/fhir/Patient/$export?_type=Organization", headers=ASYNC), 400,
            no_organization)  # fmt: skip
    bad_since = "_since must be a FHIR instant with a time zone (e.g. 2025-01-01T00:00:00Z)"
    outcome(client.get("/fhir/$export?_since=yesterday", headers=ASYNC), 400, bad_since)
    outcome(client.get("/fhir/$export", headers={**ASYNC, **OTHER, "Authorization": ""}), 401,
            "a bearer token is required")  # fmt: skip
    writer = {"Authorization": "Bearer tok-write-0123456789"}
    outcome(client.get("/fhir/$export", headers={**ASYNC, **writer}),
            403, "this token lacks the scope export.read")  # fmt: skip


def test_only_the_starter_sees_a_job_and_delete_removes_it(
    exporting: Callable[[], TestClient], tmp_path: Path
) -> None:
    client = exporting()
    post(client, [r for r, _ in generate(3, seed=33)])
    location = kick_off(client, "?_type=Patient")
    manifest = finished(client, location)
    url = manifest["output"][0]["url"]
    outcome(client.get(location, headers=OTHER), 404, "no such export job")
    outcome(client.get(url, headers=OTHER), 404, "no such export job")
    outcome(client.delete(location, headers=OTHER), 404, "no such export job")
    outcome(client.get(url), 401, "a bearer token is required")
    writer = {"Authorization": "Bearer tok-write-0123456789"}
    for response in (client.get(location, headers=writer), client.get(url, headers=writer),
                     client.delete(location, headers=writer)):  # fmt: skip
        outcome(response, 403, "this token lacks the scope export.read")
    assert client.get(url, headers=READ).status_code == 200
    job = location.rsplit("/", 1)[1]
    assert (tmp_path / "exports" / job / "Patient-1.ndjson").is_file()
    assert client.delete(location, headers=READ).status_code == 202
    assert not (tmp_path / "exports" / job).exists()
    outcome(client.get(location, headers=READ), 404, "no such export job")
    outcome(client.get(url, headers=READ), 404, "no such export job")


def test_patient_level_export_leaves_organizations_out(
    exporting: Callable[[], TestClient],
) -> None:
    client = exporting()
    records = [r for r, _ in generate(3, seed=34)]
    post(client, records)
    response = client.get("/fhir/Patient/$export", headers=ASYNC)
    assert response.status_code == 202
    manifest = finished(client, response.headers["content-location"])
    expected = expected_counts(records)
    del expected["Organization"]
    assert {o["type"]: o["count"] for o in manifest["output"]} == expected


def test_large_types_are_split_into_files_of_max_lines(
    exporting: Callable[[], TestClient], tmp_path: Path
) -> None:
    client = exporting()
    records = [r for r, _ in generate(5, seed=35)]
    post(client, records)
    state = client.app.state.api  # type: ignore[attr-defined]
    files = write_export(state.engine, tmp_path / "split", TERMINOLOGY, types=RESOURCE_TYPES,
                         max_lines=7)  # fmt: skip
    by_type: dict[str, list[OutputFile]] = {}
    for f in files:
        by_type.setdefault(f.type, []).append(f)
    expected = expected_counts(records)
    assert set(by_type) == set(expected)
    for kind, found in by_type.items():
        full, rest = divmod(expected[kind], 7)
        assert [(f.name, f.count) for f in found] == [
            (f"{kind}-{i}.ndjson", 7 if i <= full else rest)
            for i in range(1, full + (rest > 0) + 1)]  # fmt: skip
    lines = [x for f in files for x in (tmp_path / "split" / f.name).read_bytes().splitlines()]
    assert list(read_ndjson(lines, TERMINOLOGY)) == records


def test_generated_records_emit_only_the_declared_types() -> None:
    emitted = {x["resourceType"] for r, _ in generate(200, seed=36)
               for x in resources(r, TERMINOLOGY)}  # fmt: skip
    assert emitted == set(RESOURCE_TYPES)


def test_a_job_whose_process_died_is_reported_interrupted(
    exporting: Callable[[], TestClient],
) -> None:
    client = exporting()
    location = kick_off(client, "?_type=Patient")
    finished(client, location)
    job = location.rsplit("/", 1)[1]
    state = client.app.state.api  # type: ignore[attr-defined]
    stale = (datetime.now(UTC) - timedelta(seconds=STALE_SECONDS + 1)).isoformat()
    with state.engine.begin() as conn:  # what a server killed mid-export leaves behind
        conn.execute(sa.text(f"UPDATE {adapter_name('export_jobs', dialect_of(conn))} SET "
                             "status = 'running', heartbeat = :at, instance = 'gone' "
                             "WHERE job_id = :id"), {"at": stale, "id": job})  # fmt: skip
    restarted = exporting()
    outcome(restarted.get(location, headers=READ), 500,
            "the export was interrupted (the server stopped); start a new one")  # fmt: skip
    outcome(restarted.get(location, headers=READ), 500,
            "the export was interrupted (the server stopped); start a new one")  # fmt: skip


def test_pull_regroups_export_files_per_patient_and_reports_what_it_cannot_place(
    exporting: Callable[[], TestClient], tmp_path: Path
) -> None:
    client = exporting()
    records = [r for r, _ in generate(4, seed=37)]
    post(client, records)
    state = client.app.state.api  # type: ignore[attr-defined]
    out = tmp_path / "files"
    files = [out / f.name for f in write_export(state.engine, out, TERMINOLOGY,
                                                types=RESOURCE_TYPES)]  # fmt: skip
    patients = out / "Patient-1.ndjson"
    lines = patients.read_bytes().splitlines()
    gone = orjson.loads(lines[1])["id"]
    patients.write_bytes(b"\n".join([lines[0], b"{not json", *lines[2:]]) + b"\n")
    chunks = list(patient_chunks(files, tmp_path))
    kept = [f"Patient/{orjson.loads(x)['id']}" for x in (lines[0], *lines[2:])]
    assert [label for label, _ in chunks[:4]] == ["Patient-1.ndjson line 2", *kept]
    back = list(read_labelled(chunks, TERMINOLOGY))
    assert [x for x in back if not isinstance(x, Finding)] == [records[0], *records[2:]]
    findings = [x for x in back if isinstance(x, Finding)]
    assert findings[0].code == "fhir.not-a-resource"
    unplaced = {(f.code, f.message.rsplit(": ", 1)[1]) for f in findings[1:]}
    assert unplaced == {("fhir.unplaced-resource", f"its patient {gone} is not in the input")}
    assert len(findings) - 1 == sum(
        1 for x in resources(records[1], TERMINOLOGY)
        if x["resourceType"] not in ("Patient", "Organization"))  # fmt: skip


def _age(client: TestClient, job: str, hours: float) -> datetime:
    """Move a finished job's end `hours` into the past (what time does to it); the new end."""
    state = client.app.state.api  # type: ignore[attr-defined]
    ended = datetime.now(UTC) - timedelta(hours=hours)
    with state.engine.begin() as conn:
        conn.execute(sa.text(f"UPDATE {adapter_name('export_jobs', dialect_of(conn))} "
                             "SET heartbeat = :at WHERE job_id = :id"),
                     {"at": ended.isoformat(), "id": job})  # fmt: skip
    return ended


def test_a_finished_export_expires_with_its_files(
    exporting: Callable[[], TestClient], tmp_path: Path
) -> None:
    client = exporting()
    post(client, [r for r, _ in generate(3, seed=32)])
    location = kick_off(client, "?_type=Patient")
    finished(client, location)
    job = location.rsplit("/", 1)[1]
    answer = client.get(location, headers=READ)
    expires = datetime.strptime(answer.headers["expires"], "%a, %d %b %Y %H:%M:%S GMT")
    expected = datetime.now(UTC).replace(tzinfo=None) + timedelta(hours=24)  # the default
    assert abs((expires - expected).total_seconds()) < 60
    assert (tmp_path / "exports" / job).is_dir()

    _age(client, job, 23)  # within the 24 hours: still served
    assert client.get(location, headers=READ).status_code == 200
    ended = _age(client, job, 25)
    outcome(client.get(location, headers=READ), 404, "this export expired at "
            f"{(ended + timedelta(hours=24)).isoformat(timespec='seconds')} with its files; "
            "start a new one")  # fmt: skip
    assert not (tmp_path / "exports" / job).exists()
    outcome(client.get(location, headers=READ), 404, "no such export job")


def test_a_kick_off_removes_every_expired_job(
    exporting: Callable[[], TestClient], tmp_path: Path
) -> None:
    client = exporting()
    post(client, [r for r, _ in generate(2, seed=33)])
    old = kick_off(client, "?_type=Patient")
    finished(client, old)
    kept = kick_off(client, "?_type=Condition")
    finished(client, kept)
    _age(client, old.rsplit("/", 1)[1], 25)
    finished(client, kick_off(client, "?_type=Observation"))  # the sweep runs here
    jobs = sorted(p.name for p in (tmp_path / "exports").iterdir())
    assert old.rsplit("/", 1)[1] not in jobs and kept.rsplit("/", 1)[1] in jobs
    assert len(jobs) == 2
    state = client.app.state.api  # type: ignore[attr-defined]
    with state.engine.connect() as conn:
        ids = [r[0] for r in conn.execute(sa.text(
            f"SELECT job_id FROM {adapter_name('export_jobs', dialect_of(conn))}"))]  # fmt: skip
    assert sorted(ids) == jobs
