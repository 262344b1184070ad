"""FHIR Bulk Data `$export` (async pattern): kick-off, status, manifest, NDJSON files, cancel.

    GET /fhir/$export  (or /fhir/Patient/$export)   Prefer: respond-async  → 202 Content-Location
    GET /fhir/bulk-status/{job}                    → 202 X-Progress + Retry-After, then 200 manifest
    GET /fhir/bulk-files/{job}/{Type-n.ndjson}     → application/fhir+ndjson
    DELETE /fhir/bulk-status/{job}                 → 202, the job and its files are gone

Every route needs `export.read`, and a job is seen only by the client that started it (any
other gets 404, so job ids cannot be probed); the manifest says `requiresAccessToken: true`.
The job runs in a thread of the serving process (adapter/stores/bulk_export.py writes the
files, streaming); its state is a row of `adapter.export_jobs` (adapter/stores/export_jobs.py),
so a poll after a restart gets the manifest of a finished job, or a 500 OperationOutcome saying
the job was interrupted. A failed job is a 500 OperationOutcome naming the exception class
only (the server log has the same line); never a record's content.

Finished jobs are kept `export_retention_hours` (default 24) after they end: the manifest's
answer carries an `Expires` header with that time (Bulk Data IG, complete status). After it,
the job and its files are removed by the next kick-off (of any client) or by a poll of the
job itself, which then answers 404 saying it expired.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlalchemy.exc import SQLAlchemyError
from starlette.responses import FileResponse, JSONResponse, Response

from adapter.api.auth import Client, require
from adapter.api.everything import fhir_base, store_unavailable
from adapter.api.outcomes import ApiError, FhirResponse, issue, operation_outcome
from adapter.api.state import ApiState
from adapter.config import Scope
from adapter.fhir.served import RESOURCE_TYPES
from adapter.stores.bulk_export import Cancelled, write_export
from adapter.stores.export import count_stored
from adapter.stores.export_jobs import (
    ExportJob,
    create_job,
    delete_job,
    end_job,
    ensure_export_jobs,
    expired_jobs,
    expires_at,
    interrupted,
    note_progress,
    read_job,
)

__all__ = [
    "NDJSON",
    "OUTPUT_FORMATS",
    "Exporter",
    "cancel",
    "export_file",
    "kick_off",
    "kick_off_patients",
    "router",
    "status",
]

NDJSON = "application/fhir+ndjson"
OUTPUT_FORMATS = frozenset({NDJSON, "application/ndjson", "ndjson"})
_MAX_JOBS_PER_CLIENT = 2
_FILE = re.compile(r"[A-Za-z]+-[0-9]+\.ndjson")
_LOG = logging.getLogger("adapter.api.bulk")
router = APIRouter(tags=["fhir"])
Reader = Annotated[Client, Depends(require(Scope.EXPORT_READ))]
JobId = Annotated[str, Path(max_length=64)]


@dataclass
class Exporter:
    """The jobs running in this process: a cancel flag and the client of each."""

    instance: str = field(default_factory=lambda: uuid.uuid4().hex)
    live: dict[str, tuple[str, threading.Event]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


_MADE = threading.Lock()


def _exporter(request: Request) -> Exporter:
    with _MADE:
        found: Exporter | None = getattr(request.app.state, "exporter", None)
        if found is None:
            found = request.app.state.exporter = Exporter()
    return found


def _directory(state: ApiState, job_id: str) -> FilePath:
    root = state.settings.export_dir or FilePath(tempfile.gettempdir()) / "mds-adapter-export"
    return root / job_id


def _ready(request: Request) -> tuple[ApiState, Exporter]:
    state: ApiState = request.app.state.api
    exporter = _exporter(request)
    state.ensure(ensure_export_jobs)
    return state, exporter


def _retention(state: ApiState) -> timedelta:
    return timedelta(hours=state.settings.export_retention_hours)


def _remove(state: ApiState, job_id: str) -> None:
    """A finished job's row and files (its retention is over)."""
    with state.engine.begin() as conn:
        delete_job(conn, job_id)
    shutil.rmtree(_directory(state, job_id), ignore_errors=True)


def _sweep(state: ApiState) -> None:
    """Remove every finished job whose retention is over, with its files."""
    with state.engine.connect() as conn:
        gone = expired_jobs(conn, _retention(state))
    for job_id in gone:
        _remove(state, job_id)
        _LOG.info("export job %s expired: removed with its files", job_id)


def _types(given: str | None, patient_level: bool) -> tuple[str, ...]:
    allowed = [t for t in RESOURCE_TYPES if not (patient_level and t == "Organization")]
    if given is None:
        return tuple(allowed)
    wanted = [t.strip() for t in given.split(",") if t.strip()]
    unknown = [t for t in wanted if t not in allowed]
    if unknown or not wanted:
        raise ApiError(400, f"_type: {', '.join(unknown) or 'empty'} is not a type this "
                       f"server exports ({', '.join(allowed)})", expression=["_type"])  # fmt: skip
    return tuple(t for t in allowed if t in wanted)


def _since(given: str | None) -> datetime | None:
    if given is None:
        return None
    try:
        found = datetime.fromisoformat(given)
    except ValueError:
        found = None
    if found is None or found.tzinfo is None:
        raise ApiError(400, "_since must be a FHIR instant with a time zone "
                       "(e.g. 2025-01-01T00:00:00Z)", expression=["_since"])  # fmt: skip
    return found


def _check_headers(request: Request, output_format: str | None) -> None:
    prefer = [p.strip().lower() for p in request.headers.get("prefer", "").split(",")]
    if "respond-async" not in prefer:
        raise ApiError(400, "$export is asynchronous: send Prefer: respond-async",
                       expression=["Prefer"])  # fmt: skip
    accept = [a.split(";")[0].strip().lower() for a in request.headers.get("accept", "").split(",")]
    if "application/fhir+json" not in accept:
        raise ApiError(400, "send Accept: application/fhir+json", expression=["Accept"])
    if output_format is not None and output_format not in OUTPUT_FORMATS:
        raise ApiError(400, f"_outputFormat: only {NDJSON} is written",
                       expression=["_outputFormat"])  # fmt: skip


def _run(
    state: ApiState,
    exporter: Exporter,
    job: ExportJob,
    since: datetime | None,
    institutions: frozenset[str] | None,
) -> None:
    """The job's thread: write the files, then record how it ended."""
    cancel = exporter.live[job.job_id][1]
    directory = _directory(state, job.job_id)
    last, written = time.monotonic(), 0

    def beat(n: int) -> None:
        nonlocal last, written
        written = n
        if time.monotonic() - last >= 1.0:
            last = time.monotonic()
            with state.engine.begin() as conn:
                note_progress(conn, job.job_id, done=n)

    try:
        files = write_export(state.engine, directory, state.terminology, types=job.types,
                             since=since, institutions=institutions,
                             patient_level=job.kind == "patient",
                             cancelled=cancel.is_set, on_record=beat)  # fmt: skip
        if cancel.is_set():
            raise Cancelled
        with state.engine.begin() as conn:
            note_progress(conn, job.job_id, done=written)
            end_job(conn, job.job_id, "completed",
                    output=[{"type": f.type, "name": f.name, "count": f.count}
                            for f in files])  # fmt: skip
    except Cancelled:
        shutil.rmtree(directory, ignore_errors=True)
    except Exception as exc:  # the job's last resort: the class name, never a record
        _LOG.error("export job %s failed: %s", job.job_id, type(exc).__name__)
        shutil.rmtree(directory, ignore_errors=True)
        try:
            with state.engine.begin() as conn:
                end_job(
                    conn,
                    job.job_id,
                    "failed",
                    error=f"the export failed ({type(exc).__name__}); see the server log",
                )
        except SQLAlchemyError:
            _LOG.error("export job %s: its failure could not be recorded", job.job_id)
    finally:
        with exporter.lock:
            exporter.live.pop(job.job_id, None)


def _start(request: Request, client: Client, kind: str, types: tuple[str, ...],
           since: datetime | None) -> Response:  # fmt: skip
    state, exporter = _ready(request)
    _sweep(state)
    with exporter.lock:
        if sum(c == client.id for c, _ in exporter.live.values()) >= _MAX_JOBS_PER_CLIENT:
            raise ApiError(429, f"{_MAX_JOBS_PER_CLIENT} exports of this client are running; "
                           "wait for one to finish", code="throttled",
                           headers={"Retry-After": "10"})  # fmt: skip
        now = datetime.now(UTC).isoformat()
        with state.engine.begin() as conn:
            total = count_stored(conn, since, client.institutions)
            job = ExportJob(uuid.uuid4().hex, client.id, kind, str(request.url), types,
                            since.isoformat() if since else None, "running", now, now,
                            exporter.instance, total)  # fmt: skip
            create_job(conn, job)
        exporter.live[job.job_id] = (client.id, threading.Event())
    threading.Thread(target=_run, args=(state, exporter, job, since, client.institutions),
                     daemon=True,
                     name=f"export-{job.job_id[:8]}").start()  # fmt: skip
    location = f"{fhir_base(request)}/bulk-status/{job.job_id}"
    body = operation_outcome([issue("informational", f"export started: poll {location}",
                                    severity="information")])  # fmt: skip
    return FhirResponse(body, status_code=202, headers={"Content-Location": location})


def _kick_off(
    request: Request, client: Client, kind: str, output: str | None, type_: str | None,
    since: str | None,
) -> Response:  # fmt: skip
    _check_headers(request, output)
    types, after = _types(type_, kind == "patient"), _since(since)
    try:
        return _start(request, client, kind, types, after)
    except SQLAlchemyError as exc:
        raise store_unavailable() from exc


OutputFormat = Annotated[str | None, Query(alias="_outputFormat", max_length=100)]
Types = Annotated[str | None, Query(alias="_type", max_length=1000)]
Since = Annotated[str | None, Query(alias="_since", max_length=64)]


@router.get("/fhir/$export", status_code=202, response_class=FhirResponse)
def kick_off(request: Request, client: Reader, output_format: OutputFormat = None,
             type_: Types = None, since: Since = None) -> Response:  # fmt: skip
    """System-level export of every stored record's resources (see the module docstring)."""
    return _kick_off(request, client, "system", output_format, type_, since)


@router.get("/fhir/Patient/$export", status_code=202, response_class=FhirResponse)
def kick_off_patients(request: Request, client: Reader, output_format: OutputFormat = None,
                      type_: Types = None, since: Since = None) -> Response:  # fmt: skip
    """Patient-level export: the same, without Organizations (outside the Patient compartment)."""
    return _kick_off(request, client, "patient", output_format, type_, since)


def _own_job(request: Request, client: Client, job_id: str) -> tuple[ApiState, Exporter, ExportJob]:
    try:
        state, exporter = _ready(request)
        with state.engine.connect() as conn:
            job = read_job(conn, job_id)
    except SQLAlchemyError as exc:
        raise store_unavailable() from exc
    if job is None or job.client != client.id:
        raise ApiError(404, "no such export job", expression=["job_id"])
    ends = expires_at(job, _retention(state))
    if ends is not None and ends < datetime.now(UTC):
        try:
            _remove(state, job.job_id)
        except SQLAlchemyError as exc:
            raise store_unavailable() from exc
        raise ApiError(404, f"this export expired at {ends.isoformat(timespec='seconds')} "
                       "with its files; start a new one", expression=["job_id"])  # fmt: skip
    return state, exporter, job


def _manifest(request: Request, job: ExportJob) -> dict[str, Any]:
    files = f"{fhir_base(request)}/bulk-files/{job.job_id}"
    return {
        "transactionTime": job.transaction_time,
        "request": job.request,
        "requiresAccessToken": True,
        "output": [
            {"type": o["type"], "url": f"{files}/{o['name']}", "count": o["count"]}
            for o in job.output
        ],
        "error": [],
    }


@router.get("/fhir/bulk-status/{job_id}", response_class=JSONResponse)
def status(request: Request, job_id: JobId, client: Reader) -> Response:
    """202 while running, 200 with the manifest when done, 500 OperationOutcome if it failed."""
    state, exporter, job = _own_job(request, client, job_id)
    if job.status == "running":
        gone = job.job_id not in exporter.live and (job.instance == exporter.instance
                                                    or interrupted(job))  # fmt: skip
        if not gone:
            progress = {"X-Progress": f"{job.done} of {job.total} records", "Retry-After": "1"}
            return Response(status_code=202, headers=progress)
        with state.engine.begin() as conn:
            end_job(conn, job.job_id, "failed", error="the export was interrupted (the server "
                    "stopped); start a new one", if_running=True)  # fmt: skip
            job = read_job(conn, job.job_id) or job
    if job.status == "failed":
        raise ApiError(500, job.error or "the export failed", code="exception")
    ends = expires_at(job, _retention(state))
    headers = {"Expires": format_datetime(ends, usegmt=True)} if ends is not None else None
    return JSONResponse(_manifest(request, job), headers=headers)


@router.delete("/fhir/bulk-status/{job_id}", status_code=202, response_class=FhirResponse)
def cancel(request: Request, job_id: JobId, client: Reader) -> Response:
    """Cancel a running job, or remove a finished one; its files go too."""
    state, exporter, job = _own_job(request, client, job_id)
    with exporter.lock:
        running = exporter.live.get(job.job_id)
        if running is not None:
            running[1].set()
    with state.engine.begin() as conn:
        delete_job(conn, job.job_id)
    shutil.rmtree(_directory(state, job.job_id), ignore_errors=True)
    body = operation_outcome([issue("informational", "export job deleted",
                                    severity="information")])  # fmt: skip
    return FhirResponse(body, status_code=202)


@router.get("/fhir/bulk-files/{job_id}/{name}", response_class=FileResponse)
def export_file(
    request: Request, job_id: JobId, name: Annotated[str, Path(max_length=100)], client: Reader
) -> Response:
    """One NDJSON file of a completed job (the manifest's `output[].url`)."""
    state, _, job = _own_job(request, client, job_id)
    if (
        job.status != "completed"
        or not _FILE.fullmatch(name)
        or name not in {o["name"] for o in job.output}
    ):
        raise ApiError(404, "no such export file", expression=["name"])
    path = _directory(state, job.job_id) / name
    if not path.is_file():
        raise ApiError(404, "the export file is gone (the export directory was cleaned); "
                       "start a new export", expression=["name"])  # fmt: skip
    return FileResponse(path, media_type=NDJSON)
