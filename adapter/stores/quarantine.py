"""The quarantine, read back for the admin routes: list, detail, and marking an item resolved.

The quarantine table itself is the record store's (adapter/stores/record_store.py): a row per
distinct rejected input, written by a load or a FHIR batch. An item re-processed successfully
is kept, not deleted, and gets a row in `quarantine_resolved` (when, by which run, under which
audit id): the rejection stays visible in the statistics of its day, and the resolution is
traceable. That table is created on first use (CREATE … IF NOT EXISTS), like the audit, so
databases made before it existed work unchanged.

A listing holds no raw input and no finding values (either may hold patient data): codes,
elements and messages with the values cut out (`summary`). The detail has the raw input.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from adapter.omop.schema import Dialect
from adapter.stores.bulk import dialect_of
from adapter.stores.record_store import adapter_name

__all__ = [
    "QuarantineFilter",
    "QuarantineItem",
    "ensure_quarantine_resolved",
    "finding_codes",
    "list_quarantine",
    "mark_resolved",
    "quarantine_item",
    "redacted",
    "resolved_statements",
    "summary",
]

# The code at the head of each reason of an `api.rejected-entry` finding (adapter/api/ingest.py
# writes "Bundle.entry[i]…: <code> [elements]: message; …").
_CODE_IN_REASON = re.compile(r"(?:^|; )Bundle\.entry\[\d+\][^:;]*: ([a-z]+\.[A-Za-z0-9._-]+)")


def resolved_statements(dialect: Dialect) -> list[str]:
    pg = dialect == "postgresql"
    text, big, when = ("text", "bigint", "timestamptz") if pg else ("TEXT", "INTEGER", "TEXT")
    return [
        f"CREATE TABLE IF NOT EXISTS {adapter_name('quarantine_resolved', dialect)} "
        f"(quarantine_id {big} PRIMARY KEY, resolved_at {when} NOT NULL, "
        f"resolved_run {big} NULL, audit_id {text} NOT NULL)"
    ]


def ensure_quarantine_resolved(engine: Engine) -> None:
    with engine.begin() as conn:
        for sql in resolved_statements(dialect_of(conn)):
            conn.exec_driver_sql(sql)


@dataclass(frozen=True, slots=True)
class QuarantineFilter:
    source: str | None = None
    institution: str | None = None
    run_id: int | None = None
    resolved: bool | None = None  # None: both


@dataclass(frozen=True, slots=True)
class QuarantineItem:
    quarantine_id: int
    run_id: int
    source: str
    location: str
    institution: str | None
    record_id: str | None
    raw: str
    findings: list[dict[str, Any]]
    resolved_at: datetime | None
    resolved_run: int | None

    def listing(self) -> dict[str, Any]:
        """What a list shows: no raw input, no finding values."""
        return {
            "id": self.quarantine_id, "run_id": self.run_id, "source": self.source,
            "location": self.location, "institution": self.institution,
            "record_id": self.record_id, "codes": finding_codes(self.findings),
            "findings": [summary(f) for f in self.findings],
            "resolved_at": None if self.resolved_at is None else self.resolved_at.isoformat(),
            "resolved_run": self.resolved_run,
        }  # fmt: skip

    def detail(self) -> dict[str, Any]:
        """The listing plus the raw input and the findings as stored (admin only)."""
        return {**self.listing(), "raw": self.raw, "findings": self.findings}


def redacted(message: str, values: Sequence[Any]) -> str:
    """The message with each value it names cut out, however it was written (`str`, `repr`,
    or ` (value …)`): the quarantine list and the API's OperationOutcomes say which element
    was wrong, never what the submitted value was."""
    for value in values:
        text = str(value)
        if value is not None and len(text) > 1:
            message = message.replace(f" (value {value!r})", "")
            message = message.replace(repr(value), "…").replace(text, "…")
    return message


def summary(finding: Mapping[str, Any]) -> dict[str, Any]:
    """A stored finding without its values: code, level, location, elements, message."""
    values = finding.get("values") or []
    return {
        "code": finding.get("code"),
        "level": finding.get("level"),
        "location": finding.get("location"),
        "elements": list(finding.get("elements") or []),
        "message": redacted(str(finding.get("message", "")), values),
    }


def finding_codes(findings: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every finding code, with the rule codes inside an `api.rejected-entry` reason list."""
    codes: list[str] = []
    for f in findings:
        for code in (str(f.get("code")), *_CODE_IN_REASON.findall(str(f.get("message", "")))):
            if code not in codes:
                codes.append(code)
    return codes


def _when(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def _select(dialect: Dialect) -> str:
    q, r = adapter_name("quarantine", dialect), adapter_name("quarantine_resolved", dialect)
    return (
        "SELECT q.quarantine_id, q.run_id, q.source, q.location, q.institution, q.record_id, "
        f"q.raw, q.findings, r.resolved_at, r.resolved_run FROM {q} q "
        f"LEFT JOIN {r} r ON r.quarantine_id = q.quarantine_id"
    )


def _item(row: Sequence[Any]) -> QuarantineItem:
    return QuarantineItem(
        int(row[0]), int(row[1]), str(row[2]), str(row[3]), row[4], row[5], str(row[6]),
        list(orjson.loads(row[7])), _when(row[8]), None if row[9] is None else int(row[9]),
    )  # fmt: skip


def list_quarantine(
    conn: Connection, where: QuarantineFilter, *, limit: int, before: int | None = None
) -> list[QuarantineItem]:
    """Newest first (highest id first); `before` is the cursor: ids below it."""
    clauses: list[str] = []
    params: dict[str, Any] = {"limit": limit}
    wanted: dict[str, Any] = {"q.source": where.source, "q.institution": where.institution,
                              "q.run_id": where.run_id, "before": before}  # fmt: skip
    for column, value in wanted.items():
        if value is None:
            continue
        name = column.replace("q.", "")
        clauses.append(f"q.quarantine_id < :{name}" if column == "before" else
                       f"{column} = :{name}")  # fmt: skip
        params[name] = value
    if where.resolved is not None:
        clauses.append(f"r.quarantine_id IS {'NOT ' if where.resolved else ''}NULL")
    sql = _select(dialect_of(conn))
    if clauses:
        sql += " WHERE " + " AND ".join(clauses)
    sql += " ORDER BY q.quarantine_id DESC LIMIT :limit"
    return [_item(r) for r in conn.execute(sa.text(sql), params)]


def quarantine_item(conn: Connection, quarantine_id: int) -> QuarantineItem | None:
    sql = _select(dialect_of(conn)) + " WHERE q.quarantine_id = :id"
    row = conn.execute(sa.text(sql), {"id": quarantine_id}).first()
    return None if row is None else _item(row)


def mark_resolved(
    conn: Connection, quarantine_id: int, at: datetime, run_id: int | None, audit_id: str
) -> None:
    """Record the resolution (once: a second success keeps the first)."""
    dialect = dialect_of(conn)
    conn.execute(
        sa.text(
            f"INSERT INTO {adapter_name('quarantine_resolved', dialect)} (quarantine_id, "
            "resolved_at, resolved_run, audit_id) VALUES (:id, :at, :run, :audit) "
            "ON CONFLICT (quarantine_id) DO NOTHING"
        ),
        {
            "id": quarantine_id,
            "at": at if dialect == "postgresql" else at.isoformat(),
            "run": run_id,
            "audit": audit_id,
        },
    )
