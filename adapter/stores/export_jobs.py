"""Bulk Data export jobs (adapter `export_jobs`): what was asked, by whom, how far, what came out.

The job's state lives in the database, not in the serving process, so a status poll after a
restart still gets an answer: a finished job's manifest (its files stay in the export
directory), or, for a job that was running when its process died, "interrupted". A running job
writes a heartbeat as it goes; one whose process is gone stops beating, and
`interrupted(job, now)` says so after `STALE_SECONDS`.

Rows hold the client name, the request URL (types, `_since`), counts and file names: no
patient data. Times are ISO 8601 text in UTC on both databases. The table is made on first use
(CREATE … IF NOT EXISTS), as the audit table is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from adapter.omop.schema import Dialect
from adapter.stores.bulk import dialect_of
from adapter.stores.record_store import adapter_name

__all__ = [
    "STALE_SECONDS",
    "ExportJob",
    "JobStatus",
    "create_job",
    "delete_job",
    "end_job",
    "ensure_export_jobs",
    "expired_jobs",
    "expires_at",
    "export_job_statements",
    "interrupted",
    "note_progress",
    "read_job",
]

STALE_SECONDS = 60.0
"""A running job whose heartbeat is older than this is taken to be dead."""

JobStatus = Literal["running", "completed", "failed"]
_COLUMNS = ("job_id", "client", "kind", "request", "types", "since", "status",
            "transaction_time", "heartbeat", "instance", "total", "done", "output",
            "error")  # fmt: skip


@dataclass(frozen=True, slots=True)
class ExportJob:
    """One job. `output` is the manifest's output list; `instance` names the serving process."""

    job_id: str
    client: str
    kind: str  # system | patient
    request: str
    types: tuple[str, ...]
    since: str | None
    status: JobStatus
    transaction_time: str
    heartbeat: str
    instance: str
    total: int = 0
    done: int = 0
    output: tuple[dict[str, Any], ...] = field(default=())
    error: str | None = None


def export_job_statements(dialect: Dialect) -> list[str]:
    """CREATE … IF NOT EXISTS for the job table."""
    pg = dialect == "postgresql"
    text, big = ("text", "bigint") if pg else ("TEXT", "INTEGER")
    columns = ", ".join(
        f"{c} {big if c in ('total', 'done') else text}"
        f"{' PRIMARY KEY' if c == 'job_id' else '' if c in ('since', 'error') else ' NOT NULL'}"
        for c in _COLUMNS
    )
    return [f"CREATE TABLE IF NOT EXISTS {adapter_name('export_jobs', dialect)} ({columns})"]


def ensure_export_jobs(engine: Engine) -> None:
    """Create the job table if it is not there (needs the `adapter` schema: `db init`)."""
    with engine.begin() as conn:
        for sql in export_job_statements(dialect_of(conn)):
            conn.exec_driver_sql(sql)


def _name(conn: Connection) -> str:
    return adapter_name("export_jobs", dialect_of(conn))


def _now() -> str:
    return datetime.now(UTC).isoformat()


def create_job(conn: Connection, job: ExportJob) -> None:
    values = {c: getattr(job, c) for c in _COLUMNS}
    values["types"] = orjson.dumps(list(job.types)).decode()
    values["output"] = orjson.dumps(list(job.output)).decode()
    conn.execute(sa.text(f"INSERT INTO {_name(conn)} ({', '.join(_COLUMNS)}) VALUES "
                         f"({', '.join(':' + c for c in _COLUMNS)})"), values)  # fmt: skip


def read_job(conn: Connection, job_id: str) -> ExportJob | None:
    row = conn.execute(
        sa.text(f"SELECT {', '.join(_COLUMNS)} FROM {_name(conn)} WHERE job_id = :id"),
        {"id": job_id},
    ).first()
    if row is None:
        return None
    values = dict(zip(_COLUMNS, row, strict=True))
    values["types"] = tuple(orjson.loads(values["types"]))
    values["output"] = tuple(orjson.loads(values["output"]))
    values["total"], values["done"] = int(values["total"]), int(values["done"])
    return ExportJob(**values)


def note_progress(conn: Connection, job_id: str, *, done: int, total: int | None = None) -> None:
    """The heartbeat of a running job, with how many records it has written."""
    extra = ", total = :total" if total is not None else ""
    conn.execute(sa.text(f"UPDATE {_name(conn)} SET done = :done, heartbeat = :at{extra} "
                         "WHERE job_id = :id AND status = 'running'"),
                 {"id": job_id, "done": done, "at": _now(), "total": total})  # fmt: skip


def end_job(
    conn: Connection,
    job_id: str,
    status: JobStatus,
    *,
    output: list[dict[str, Any]] | None = None,
    error: str | None = None,
    if_running: bool = False,
) -> None:
    """A job's last state: completed with its output files, or failed with the reason.

    `if_running` changes only a job still running (an "interrupted" verdict must not overwrite
    a job that completed meanwhile)."""
    only = " AND status = 'running'" if if_running else ""
    conn.execute(sa.text(f"UPDATE {_name(conn)} SET status = :status, output = :output, "
                         f"error = :error, heartbeat = :at WHERE job_id = :id{only}"),
                 {"id": job_id, "status": status, "output": orjson.dumps(output or []).decode(),
                  "error": error, "at": _now()})  # fmt: skip


def delete_job(conn: Connection, job_id: str) -> None:
    conn.execute(sa.text(f"DELETE FROM {_name(conn)} WHERE job_id = :id"), {"id": job_id})


def expires_at(job: ExportJob, retention: timedelta) -> datetime | None:
    """When a finished job (and its files) may be removed: its end plus `retention`; None for
    a running job. The end is the last heartbeat, which `end_job` writes."""
    if job.status == "running":
        return None
    return datetime.fromisoformat(job.heartbeat) + retention


def expired_jobs(conn: Connection, retention: timedelta, at: datetime | None = None) -> list[str]:
    """The ids of jobs that ended longer than `retention` ago, and of "running" jobs whose
    process died that long ago (few rows: the table holds jobs, not records, and every kick-off
    removes what this returns)."""
    now = at or datetime.now(UTC)
    rows = conn.execute(sa.text(f"SELECT job_id, heartbeat FROM {_name(conn)}"))
    # a running job beats every second: one silent for the whole retention died long ago
    return sorted(r[0] for r in rows if datetime.fromisoformat(r[1]) + retention < now)


def interrupted(job: ExportJob, at: datetime | None = None) -> bool:
    """A running job that has stopped beating: its process is gone."""
    if job.status != "running":
        return False
    beat = datetime.fromisoformat(job.heartbeat)
    return (at or datetime.now(UTC)) - beat > timedelta(seconds=STALE_SECONDS)
