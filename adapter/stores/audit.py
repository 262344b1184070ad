"""The audit log (adapter `audit`): who wrote what, when, and how it ended.

One row per write request of the HTTP API, whatever its outcome; the row is also the
submission's receipt (`GET /admin/receipts/{id}`), so what a client was told and what the
operator can look up later are the same record. A row holds the client name, the action, the
counts and the OperationOutcome issues (codes and FHIRPath locations, no submitted values): no
patient data, so the audit can be kept longer than the data it describes.

The table is created on first use (`ensure_audit`, CREATE … IF NOT EXISTS) rather than by
`db init`, so databases made before the API existed work unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from adapter.omop.schema import Dialect
from adapter.stores.bulk import Statement, dialect_of, run_sql
from adapter.stores.record_store import adapter_name, lock

__all__ = [
    "AuditEntry",
    "audit_statements",
    "audits_statement",
    "ensure_audit",
    "read_audit",
    "write_audit",
    "write_audits",
]


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audited write; `at` is an aware datetime (UTC), `outcome` an OperationOutcome."""

    audit_id: str
    at: datetime
    client: str
    action: str
    status: int
    run_id: int | None = None
    counts: Mapping[str, int] = field(default_factory=dict)
    outcome: Mapping[str, Any] = field(default_factory=dict)


def audit_statements(dialect: Dialect) -> list[str]:
    """CREATE … IF NOT EXISTS for the audit table and its index on time."""
    pg = dialect == "postgresql"
    text, big, when = ("text", "bigint", "timestamptz") if pg else ("TEXT", "INTEGER", "TEXT")
    name = adapter_name("audit", dialect)
    prefix = "" if pg else "adapter_"
    return [
        f"CREATE TABLE IF NOT EXISTS {name} (audit_id {text} PRIMARY KEY, at {when} NOT NULL, "
        f"client {text} NOT NULL, action {text} NOT NULL, status {big} NOT NULL, "
        f"run_id {big} NULL, counts {text} NOT NULL, outcome {text} NOT NULL)",
        f"CREATE INDEX IF NOT EXISTS {prefix}audit_at ON {name} (at)",
    ]


def ensure_audit(engine: Engine) -> None:
    """Create the audit table if it is not there (needs the `adapter` schema: `db init`).

    Under the record store lock: two PostgreSQL sessions running the same CREATE … IF NOT
    EXISTS at once can both miss the table and one then fails on the catalogue's unique index
    (the first requests after a server starts run in parallel)."""
    with engine.begin() as conn:
        lock(conn)
        for sql in audit_statements(dialect_of(conn)):
            conn.exec_driver_sql(sql)


def write_audit(conn: Connection, entry: AuditEntry) -> None:
    """Insert one entry in the caller's transaction."""
    write_audits(conn, [entry])


def write_audits(conn: Connection, entries: Sequence[AuditEntry]) -> None:
    """Insert entries in the caller's transaction (one executemany)."""
    if entries:
        run_sql(conn, *audits_statement(dialect_of(conn), entries))


def audits_statement(dialect: Dialect, entries: Sequence[AuditEntry]) -> Statement:
    """`write_audits` as a statement to send with others."""
    return (
        f"INSERT INTO {adapter_name('audit', dialect)} (audit_id, at, client, action, "
        "status, run_id, counts, outcome) VALUES (:id, :at, :client, :action, :status, "
        ":run, :counts, :outcome)",
        [
            {
                "id": entry.audit_id,
                "at": entry.at if dialect == "postgresql" else entry.at.isoformat(),
                "client": entry.client,
                "action": entry.action,
                "status": entry.status,
                "run": entry.run_id,
                "counts": orjson.dumps(dict(entry.counts)).decode(),
                "outcome": orjson.dumps(dict(entry.outcome)).decode(),
            }
            for entry in entries
        ],
    )


def read_audit(conn: Connection, audit_id: str) -> AuditEntry | None:
    """The entry with this id, or None."""
    row = conn.execute(
        sa.text(
            "SELECT audit_id, at, client, action, status, run_id, counts, outcome "
            f"FROM {adapter_name('audit', dialect_of(conn))} WHERE audit_id = :id"
        ),
        {"id": audit_id},
    ).first()
    if row is None:
        return None
    at = row[1] if isinstance(row[1], datetime) else datetime.fromisoformat(str(row[1]))
    return AuditEntry(
        str(row[0]), at, str(row[2]), str(row[3]), int(row[4]),
        None if row[5] is None else int(row[5]), orjson.loads(row[6]), orjson.loads(row[7]),
    )  # fmt: skip
