"""Load stages of the bench: MDS JSON Lines → OMOP into SQLite and PostgreSQL, then a re-load.

    python -m bench load [--n 10000]

Each stage runs in its own child process (peak RSS is its own; the database URL comes in
MDS_BENCH_DB_URL) and is shown beside the same-run physical limit:

- first load: orjson parsing the same input lines, plus writing the same CDM rows into the
  same tables (same indices) with the loader's own bulk primitive (`adapter.stores.bulk.insert`:
  COPY on PostgreSQL, executemany on SQLite). The rows are read back from the loaded database,
  the tables emptied (untimed), and the rows written again (timed), in one transaction.
- re-load (every record unchanged): orjson parsing the same lines; nothing is written.

Peak RSS is taken before the limit run (which holds every row in memory). The first load also
runs at 1 k and 50 k records for the RSS column: memory must not grow with the input. The
parent creates and drops its own PostgreSQL databases (127.0.0.1:5432, user postgres).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

__all__ = ["KEY", "database", "load_rows", "load_stage"]

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3"
KEY = "bench-key-0123456789abcdef"
Row = tuple[str, str, int, dict[str, float], str]


def load_stage(name: str, n: int, path: Path, rss: Callable[[], float]) -> dict[str, float]:
    """One stage in this process: `load-first`, `load-again` or `load-rss` of `path`."""
    from adapter.stores.incoming import read_incoming
    from adapter.stores.load import load_records
    from adapter.stores.pseudonym import Pseudonymiser

    url = os.environ["MDS_BENCH_DB_URL"]
    t0 = time.perf_counter()
    with path.open("rb") as f:
        report = load_records(url, read_incoming(f), pseudonym=Pseudonymiser(KEY),
                              source=path.name)  # fmt: skip
    work = time.perf_counter() - t0
    peak = rss()
    out = {"seconds": work, "rss": peak, "rows": float(report.rows),
           "loaded": float(report.loaded + report.updated), "rejected": float(report.rejected),
           "unchanged": float(report.unchanged)}  # fmt: skip
    if name == "load-rss":
        return out
    limit = 0.0
    with path.open("rb") as f:
        for line in f:
            t0 = time.perf_counter()
            orjson.loads(line)
            limit += time.perf_counter() - t0
    if name == "load-first":
        limit += _rewrite_rows(url)
    return {**out, "limit_seconds": limit}


def _rewrite_rows(url: str) -> float:
    """Seconds to bulk-write every CDM row of the database again (see the module docstring)."""
    import sqlalchemy as sa

    from adapter.omop.schema import qualified_name, tables
    from adapter.stores.bulk import dialect_of, insert
    from adapter.stores.omop_db import connect

    engine = connect(url)
    seconds = 0.0
    try:
        with engine.begin() as conn:
            dialect = dialect_of(conn)
            for t in tables(dialect):
                if t.part != "cdm" or t.name == "cdm_source":
                    continue
                name = qualified_name(t.name, t.part, dialect)
                found = [tuple(r) for r in conn.execute(sa.text(f"SELECT * FROM {name}"))]
                if not found:
                    continue
                conn.execute(sa.text(f"DELETE FROM {name}"))
                t0 = time.perf_counter()
                insert(conn, name, t.column_names, found)
                seconds += time.perf_counter() - t0
    finally:
        engine.dispose()
    return seconds


@contextmanager
def database(kind: str, tmp: Path) -> Iterator[str]:
    """A new, empty, initialised database of this kind; a PostgreSQL one is dropped after."""
    from adapter.stores.omop_db import bundled_vocabulary, init_db, load_vocabulary

    if kind == "sqlite":
        url = f"sqlite:///{tmp / f'bench-{uuid.uuid4().hex[:8]}.sqlite'}"
        init_db(url)
        load_vocabulary(url, bundled_vocabulary())
        yield url
        return
    import psycopg

    name = f"mds_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        init_db(url)
        load_vocabulary(url, bundled_vocabulary())
        yield url
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _input(n: int, tmp: Path) -> Path:
    from adapter.mds.synth import generate
    from adapter.sources.jsonl import dumps

    path = tmp / f"records-{n}.jsonl"
    with path.open("wb") as out:
        for record, _ in generate(n, 1):
            out.write(dumps(record) + b"\n")
    return path


def load_rows(n: int, tmp: Path, child: Any) -> list[Row]:
    """First load and re-load at n, then first loads at 1 k and 50 k for RSS, per database."""
    rows: list[Row] = []
    inputs = {size: _input(size, tmp) for size in sorted({n, 1_000, 50_000})}
    for kind in ("sqlite", "postgresql"):
        with database(kind, tmp) as url:
            os.environ["MDS_BENCH_DB_URL"] = url
            first = child("load-first", n, inputs[n])
            rows.append(("first load", kind, n, first, "orjson.loads + bulk write, same rows"))
            again = child("load-again", n, inputs[n])
            rows.append(("re-load (unchanged)", kind, n, again, "orjson.loads, same lines"))
        for size in (1_000, 50_000):
            with database(kind, tmp) as url:
                os.environ["MDS_BENCH_DB_URL"] = url
                r = child("load-rss", size, inputs[size])
                rows.append(("first load (RSS)", kind, size, r, ""))
    return rows
