"""Bulk Data export stages of the bench: the record store → NDJSON files, and reading them back.

    python -m bench export [--n 10000]

SQLite only (the export reads the record store a page at a time; the database is not where the
time goes). Each stage runs in its own child process (peak RSS is its own; the database URL
comes in MDS_BENCH_DB_URL) beside the same-run physical limit:

- export (`write_export`, what a `$export` job runs): the limit is reading the same
  `record_json` pages with a bare SELECT plus writing the same NDJSON bytes to one file.
- export at n/10: for the RSS column; memory must not grow with the store.
- pull read (the export's files regrouped per Patient through a SQLite file, then the FHIR
  reader: what `mds-adapter pull` does after the download): the limit is orjson parsing the
  same lines.

The parent loads generated records through the real mapping (untimed) into fresh databases.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["export_rows", "export_stage"]

KEY = "bench-key-0123456789abcdef"
Row = tuple[str, int, dict[str, float], str]


def _export(path: Path) -> tuple[float, float]:
    from adapter.fhir.served import RESOURCE_TYPES
    from adapter.stores.bulk_export import write_export
    from adapter.stores.omop_db import connect
    from adapter.terminology import Terminology

    terminology = Terminology.load()
    engine = connect(os.environ["MDS_BENCH_DB_URL"])
    try:
        t0 = time.perf_counter()
        files = write_export(engine, path, terminology, types=RESOURCE_TYPES)
        seconds = time.perf_counter() - t0
    finally:
        engine.dispose()
    return seconds, float(sum(f.count for f in files))


def _limit(path: Path) -> float:
    import sqlalchemy as sa

    from adapter.stores.omop_db import connect

    data = b"".join(p.read_bytes() for p in sorted(path.glob("*.ndjson")))
    engine = connect(os.environ["MDS_BENCH_DB_URL"])
    try:
        t0 = time.perf_counter()
        with engine.connect() as conn:
            after = 0
            query = sa.text("SELECT record_no, record_json FROM adapter_records WHERE "
                            "record_no > :after ORDER BY record_no LIMIT 500")  # fmt: skip
            while page := conn.execute(query, {"after": after}).all():
                after = int(page[-1][0])
        (path / "limit.out").write_bytes(data)
        return time.perf_counter() - t0
    finally:
        engine.dispose()


def export_stage(name: str, n: int, path: Path, rss: Callable[[], float]) -> dict[str, float]:
    """One stage in this process: `export-write`, `export-rss` or `export-read` of `path`."""
    if name in ("export-write", "export-rss"):
        seconds, resources = _export(path)
        out = {"seconds": seconds, "resources": resources, "rss": rss()}
        if name == "export-write":
            out["limit_seconds"] = _limit(path)
        return out
    import orjson

    from adapter.errors import Finding
    from adapter.fhir.read import read_labelled
    from adapter.stores.fhir_pull import patient_chunks
    from adapter.terminology import Terminology

    terminology = Terminology.load()
    files = sorted(path.glob("*-[0-9]*.ndjson"))
    t0 = time.perf_counter()
    found = read_labelled(patient_chunks(files, path), terminology, profiles="off")
    records = sum(not isinstance(x, Finding) for x in found)
    seconds = time.perf_counter() - t0
    peak = rss()
    t0 = time.perf_counter()
    resources = 0
    for p in files:
        with p.open("rb") as f:
            for line in f:
                orjson.loads(line)
                resources += 1
    return {"seconds": seconds, "limit_seconds": time.perf_counter() - t0, "rss": peak,
            "resources": float(resources), "records": float(records)}  # fmt: skip


def _loaded(n: int, tmp: Path) -> str:
    from adapter.mds.synth import generate
    from adapter.sources.jsonl import dumps
    from adapter.stores.incoming import Incoming
    from adapter.stores.load import load_records
    from adapter.stores.omop_db import bundled_vocabulary, init_db, load_vocabulary
    from adapter.stores.pseudonym import Pseudonymiser

    url = f"sqlite:///{tmp / f'bench-export-{uuid.uuid4().hex[:8]}.sqlite'}"
    init_db(url)
    load_vocabulary(url, bundled_vocabulary())
    items = (Incoming(f"record {i}", dumps(r), r) for i, (r, _) in enumerate(generate(n, 1)))
    load_records(url, items, pseudonym=Pseudonymiser(KEY), source="bench")
    return url


def export_rows(n: int, tmp: Path, child: Any) -> list[Row]:
    """Export at n (with its limit) and at n/10 (RSS), then the pull-side read of the n files."""
    rows: list[Row] = []
    for size in (max(n // 10, 1), n):
        os.environ["MDS_BENCH_DB_URL"] = _loaded(size, tmp)
        out = tmp / f"export-{size}"
        if size == n:
            r = child("export-write", size, out)
            rows.append(
                ("export (write_export)", size, r, "SELECT record_json + write, same bytes")
            )
            r = child("export-read", size, out)
            rows.append(("pull read (FHIR reader)", size, r, "orjson.loads, same lines"))
        else:
            r = child("export-rss", size, out)
            rows.append(("export (RSS)", size, r, ""))
    return rows
