"""OMOP test helpers: a fixed pseudonym, rows as JSON, rows as a database gives them back."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from adapter.omop.rows import OmopRows, Ref

__all__ = ["as_database", "as_json", "pseudonym"]


def pseudonym(value: str) -> str:
    """A stand-in for the store's HMAC: 40 hex characters, never the value itself."""
    return hashlib.sha256(b"test-key:" + value.encode()).hexdigest()[:40]


def _cell(value: Any) -> Any:
    if isinstance(value, Ref):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def as_json(rows: OmopRows) -> dict[str, list[dict[str, Any]]]:
    """Golden-file form: Refs as `table:key`, dates ISO, NULL columns left out."""
    return {
        table: [{k: _cell(v) for k, v in row.items() if v is not None} for row in table_rows]
        for table, table_rows in sorted(rows.items())
        if table_rows
    }


def as_database(rows: OmopRows, start: int = 1000) -> OmopRows:
    """The rows as read back from a database: integer ids, ISO-text dates (SQLite), every
    column present; ids are numbered in reverse so nothing can lean on Ref keys or order."""
    refs = sorted({v for r in (x for t in rows.values() for x in t) for v in r.values()
                   if isinstance(v, Ref)}, reverse=True)  # fmt: skip
    number = {ref: start + i for i, ref in enumerate(refs)}

    def cell(v: Any) -> Any:
        if isinstance(v, Ref):
            return number[v]
        if isinstance(v, dt.date):
            return v.isoformat()
        return v

    return {t: [{k: cell(v) for k, v in r.items()} for r in reversed(rs)] for t, rs in rows.items()}
