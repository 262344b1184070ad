"""Admin statistics over a loaded store: completeness, the missing list, daily counts.

    python -m bench admin [--n 10000]

n generated records (a tenth defective, so the quarantine is not empty) are loaded into a
SQLite and a PostgreSQL database (untimed); then, in a child process per database, the store
functions behind `GET /admin/stats/completeness`, `/admin/stats/missing` (every page) and
`/admin/stats/daily` run over them. The same-run limit is reading the same record JSON
(`SELECT record_json`) and parsing it with orjson: what is left when the aggregation is removed.
`daily` reads no JSON (two GROUP BY queries over records and quarantine): the same limit is
printed beside it for scale only. Peak RSS is taken before the limit run.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

__all__ = ["admin_rows", "admin_stage"]

Row = tuple[str, str, int, dict[str, float], str]


def admin_stage(name: str, n: int, path: Path, rss: Callable[[], float]) -> dict[str, float]:
    """`admin-<what>` over the database in MDS_BENCH_DB_URL; `path` is unused."""
    import orjson
    import sqlalchemy as sa

    from adapter.stores.omop_db import connect
    from adapter.stores.record_store import adapter_name
    from adapter.stores.stats import (
        completeness,
        core_elements,
        daily,
        missing,
        read_daily_rows,
        stored_records,
    )

    engine = connect(os.environ["MDS_BENCH_DB_URL"])
    core = core_elements()
    try:
        with engine.connect() as conn:
            t0 = time.perf_counter()
            if name == "admin-completeness":
                with closing(stored_records(conn)) as records:
                    count = float(sum(x["records"] for x in completeness(records, core)))
            elif name == "admin-missing":
                with closing(stored_records(conn)) as records:
                    count = float(sum(1 for _ in missing(records, core)))
            else:
                found = daily(*read_daily_rows(conn))
                count = float(sum(d["received"] for d in found))
            work = time.perf_counter() - t0
            peak = rss()
            t0 = time.perf_counter()
            table = adapter_name("records", "postgresql" if conn.dialect.name != "sqlite"
                                 else "sqlite")  # fmt: skip
            query = sa.text(f"SELECT record_json FROM {table} WHERE NOT deleted")
            for (doc,) in conn.execution_options(stream_results=True).execute(query):
                orjson.loads(doc)
            limit = time.perf_counter() - t0
    finally:
        engine.dispose()
    return {"seconds": work, "limit_seconds": limit, "rss": peak, "items": count}


def admin_rows(n: int, tmp: Path, child: Any) -> list[Row]:
    """Each admin stage per database, over n loaded records (a tenth rejected)."""
    from adapter.mds.synth import generate
    from adapter.sources.jsonl import dumps
    from adapter.stores.incoming import read_incoming
    from adapter.stores.load import load_records
    from adapter.stores.pseudonym import Pseudonymiser
    from bench.load import KEY, database

    path = tmp / f"admin-{n}.jsonl"
    with path.open("wb") as out:
        for record, _ in generate(n, 1, 0.1):
            out.write(dumps(record) + b"\n")
    rows: list[Row] = []
    for kind in ("sqlite", "postgresql"):
        with database(kind, tmp) as url:
            with path.open("rb") as f:
                load_records(url, read_incoming(f), pseudonym=Pseudonymiser(KEY),
                             source=path.name)  # fmt: skip
            os.environ["MDS_BENCH_DB_URL"] = url
            for stage, label in (("admin-completeness", "completeness"),
                                 ("admin-missing", "missing (all pages)"),
                                 ("admin-daily", "daily")):  # fmt: skip
                r = child(stage, n, path)
                limit = "SELECT record_json + orjson.loads"
                rows.append((label, kind, n, r, limit))
    return rows
