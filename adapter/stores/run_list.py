"""The run log read back (`GET /admin/runs`): what ran, with which versions, and its counts.

Runs are written by adapter/stores/runs.py (loads and FHIR batches) and adapter/stores/omop_db.py
(db init, vocabulary loads). The details JSON is passed through as written: software, map and
vocabulary versions, counts, status; it holds file names and codes, never record content.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapter.omop.schema import qualified_name
from adapter.stores.bulk import dialect_of

__all__ = ["list_runs", "read_run"]

_COLUMNS = "run_id, command, started_at, finished_at, software_version, details"


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _run(row: Sequence[Any]) -> dict[str, Any]:
    details: dict[str, Any] = json.loads(row[5]) if row[5] else {}
    return {
        "id": int(row[0]),
        "command": str(row[1]),
        "started_at": _iso(row[2]),
        "finished_at": _iso(row[3]) if details.get("status") != "running" else None,
        "software_version": str(row[4]),
        "status": details.get("status", "finished"),
        "source": details.get("source"),
        "maps": details.get("maps"),
        "maps_label": details.get("maps_label"),
        "vocabulary_version": details.get("vocabulary_version"),
        "counts": details.get("counts"),
        "rows": details.get("rows"),
        "details": details,
    }


def list_runs(
    conn: Connection, *, limit: int, before: int | None = None, command: str | None = None
) -> list[dict[str, Any]]:
    """Newest first; `before` is the cursor (run ids below it)."""
    name = qualified_name("runs", "adapter", dialect_of(conn))
    clauses: list[str] = []
    params: dict[str, Any] = {"limit": limit}
    if before is not None:
        clauses.append("run_id < :before")
        params["before"] = before
    if command is not None:
        clauses.append("command = :command")
        params["command"] = command
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    sql = f"SELECT {_COLUMNS} FROM {name}{where} ORDER BY run_id DESC LIMIT :limit"
    return [_run(r) for r in conn.execute(sa.text(sql), params)]


def read_run(conn: Connection, run_id: int) -> dict[str, Any] | None:
    name = qualified_name("runs", "adapter", dialect_of(conn))
    row = conn.execute(
        sa.text(f"SELECT {_COLUMNS} FROM {name} WHERE run_id = :id"), {"id": run_id}
    ).first()
    return None if row is None else _run(row)
