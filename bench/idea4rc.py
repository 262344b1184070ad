"""IDEA4RC normalised table stages of the bench: records → table, table → records.

    python -m bench idea4rc [--n 100000]

Each stage runs in its own child process (peak RSS is its own) beside the same-run physical
limit: the csv module writing the same rows (write, timed per row so only that work counts)
or parsing the same file (read). The write stage includes reading the MDS JSON Lines it
writes from. Both stages stream, so RSS should not grow with N.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Any

__all__ = ["idea4rc_rows", "idea4rc_stage"]


def idea4rc_stage(name: str, n: int, path: Path, rss: Any) -> dict[str, float]:
    """One stage in this process: `path` is the MDS JSON Lines (write) or the table (read)."""
    from adapter.errors import Finding
    from adapter.sources.idea4rc_table import read_idea4rc_table, write_idea4rc_table
    from adapter.sources.jsonl import read_jsonl
    from adapter.terminology import Terminology

    t = Terminology.load()
    if name == "idea4rc-write":
        table = path.with_suffix(".idea4rc.csv")
        t0 = time.perf_counter()
        with path.open("rb") as f, table.open("w", encoding="utf-8", newline="") as out:
            records = (r for r in read_jsonl(f) if not isinstance(r, Finding))
            count = write_idea4rc_table(records, out, t)
        work = time.perf_counter() - t0
        peak = rss()
        limit, rows = 0.0, 0
        with (
            table.open(encoding="utf-8", newline="") as f,
            path.with_suffix(".limit").open("w", encoding="utf-8", newline="") as out,
        ):
            writer = csv.writer(out, delimiter=";", lineterminator="\n")
            for row in csv.reader(f, delimiter=";"):
                t0 = time.perf_counter()
                writer.writerow(row)
                limit += time.perf_counter() - t0
                rows += 1
        return {"seconds": work, "limit_seconds": limit, "rss": peak, "records": count,
                "rows": rows - 1}  # fmt: skip
    t0 = time.perf_counter()
    count = 0
    with path.open(encoding="utf-8", newline="") as f:
        for item in read_idea4rc_table(f, t):
            count += not isinstance(item, Finding)
    work = time.perf_counter() - t0
    peak = rss()
    t0 = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as f:
        rows = sum(1 for _ in csv.reader(f, delimiter=";")) - 1
    limit = time.perf_counter() - t0
    return {"seconds": work, "limit_seconds": limit, "rss": peak, "records": count, "rows": rows}


def idea4rc_rows(n: int, tmp: Path, child: Any) -> list[tuple[str, int, dict[str, float], str]]:
    """Run synth (input), then write and read the table, each in a child process, at N/10
    and N (memory must not grow with N)."""
    out = []
    for size in (max(n // 10, 1), n):
        records = tmp / f"records-{size}.jsonl"
        child("synth", size, records)
        write = child("idea4rc-write", size, records)
        read = child("idea4rc-read", size, records.with_suffix(".idea4rc.csv"))
        out.append(("records → IDEA4RC table", size, write, "csv.writer, same rows"))
        out.append(("IDEA4RC table → records", size, read, "csv.reader, same file"))
    return out
