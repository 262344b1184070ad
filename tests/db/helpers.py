"""Small helpers shared by the database tests: where a table lives, and reflection."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from adapter.omop.schema import Table
from adapter.stores.omop_db import connect

__all__ = ["dialect_of", "inspector", "rows", "schema_of"]


def dialect_of(url: str) -> str:
    return "postgresql" if url.startswith("postgresql") else "sqlite"


def schema_of(t: Table, url: str) -> str | None:
    return t.part if dialect_of(url) == "postgresql" else None


@contextmanager
def inspector(url: str) -> Iterator[sa.Inspector]:
    engine = connect(url)
    try:
        with engine.connect() as conn:
            yield sa.inspect(conn)
    finally:
        engine.dispose()


def rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    engine = connect(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql))]
    finally:
        engine.dispose()
