"""Measure synth and check (and FHIR), each beside the same-run physical limit of its I/O.

    python -m bench synth-check [--n 100000]
    python -m bench fhir [--n 100000]         (by hand: bench/fhir.py)
    python -m bench load [--n 10000]          (SQLite and PostgreSQL: bench/load.py)
    python -m bench admin [--n 10000]         (admin statistics: bench/admin.py)
    python -m bench export [--n 10000]        ($export files and their read-back: bench/export.py)
    python -m bench idea4rc [--n 100000]      (the IDEA4RC normalised table: bench/idea4rc.py)
    python -m bench api [--seconds 20] [--clients 16] [--db postgresql|sqlite] [--workers 1]
                        [--rate 100]
                                              (a real server under load: bench/api.py)

Each stage runs in a fresh child process so its peak RSS is its own. The limit column is what
the same process does on the same data with the work removed: orjson writing the same records
(synth) and orjson parsing the same lines (check). Synth runs at two sizes to show that memory
does not grow with N.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import orjson

__all__ = ["main", "stage"]


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def stage(name: str, n: int, path: Path) -> dict[str, float]:
    """Run one stage in this process and return its figures."""
    if name.startswith("fhir-"):
        from bench.fhir import fhir_stage

        return fhir_stage(name, n, path, _rss_mib)
    if name.startswith("admin-"):
        from bench.admin import admin_stage

        return admin_stage(name, n, path, _rss_mib)
    if name.startswith("idea4rc-"):
        from bench.idea4rc import idea4rc_stage

        return idea4rc_stage(name, n, path, _rss_mib)
    if name.startswith("load-"):
        from bench.load import load_stage

        return load_stage(name, n, path, _rss_mib)
    if name.startswith("export-"):
        from bench.export import export_stage

        return export_stage(name, n, path, _rss_mib)
    from adapter.errors import Finding
    from adapter.mds.rules import check_record
    from adapter.mds.synth import generate
    from adapter.sources.jsonl import dumps, read_jsonl

    if name == "synth":
        t0 = time.perf_counter()
        with path.open("wb") as out:
            for record, _ in generate(n, 1, 0.1):
                out.write(dumps(record) + b"\n")
        work = time.perf_counter() - t0
        rss = _rss_mib()  # before the limit run holds every record in memory
        lines = path.read_bytes().splitlines()
        dicts = [orjson.loads(line) for line in lines]
        t0 = time.perf_counter()
        with path.with_suffix(".limit").open("wb") as out:
            for d in dicts:
                out.write(orjson.dumps(d) + b"\n")
        limit = time.perf_counter() - t0
        return {"seconds": work, "limit_seconds": limit, "rss": rss}
    t0 = time.perf_counter()
    count = 0
    with path.open("rb") as f:
        for item in read_jsonl(f):
            if not isinstance(item, Finding):
                check_record(item)
            count += 1
    work = time.perf_counter() - t0
    rss = _rss_mib()
    t0 = time.perf_counter()
    with path.open("rb") as f:
        for line in f:
            orjson.loads(line)
    limit = time.perf_counter() - t0
    return {"seconds": work, "limit_seconds": limit, "rss": rss, "records": count}


def _child(name: str, n: int, path: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "bench", "_stage", name, str(n), str(path)],
        check=False, capture_output=True,
    )  # fmt: skip
    if out.returncode != 0:
        sys.stderr.write(out.stderr.decode("utf-8", "replace"))
        raise SystemExit(f"bench stage {name} (n={n}) failed with exit code {out.returncode}")
    result: dict[str, float] = orjson.loads(out.stdout)
    return result


Column = tuple[str, int, str]
"""A table column: its title, its width and its alignment (`<` or `>`)."""
GAP: Column = ("", 2, "<")
"""Two spaces before the column that names the limit."""


def _table(note: str, columns: Sequence[Column], rows: Iterable[Sequence[str]]) -> None:
    """The machine line, then the header, a rule and one line per row, every cell aligned."""
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, {note}")  # fmt: skip

    def line(cells: Sequence[str]) -> str:
        return "".join(f"{c:{a}{w}}" for c, (_, w, a) in zip(cells, columns, strict=True))

    head = line([title for title, _, _ in columns])
    print(head)
    print("-" * len(head))
    for row in rows:
        print(line(row))


def _per_s(count: float, seconds: float | None) -> str:
    return f"{count / seconds:,.0f}" if seconds else ""


def synth_check(n: int) -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        small = max(n // 10, 1)
        for size in (small, n):
            path = Path(tmp) / f"synth-{size}.jsonl"
            r = _child("synth", size, path)
            rows.append(("synth --defects 0.1", size, r, "orjson.dumps + write, same records"))
        path = Path(tmp) / f"synth-{n}.jsonl"
        r = _child("check", n, path)
        rows.append(("read + validate + 17 rules", n, r, "orjson.loads, same lines"))
    columns = [("stage", 28, "<"), ("records", 9, ">"), ("s", 8, ">"), ("records/s", 12, ">"),
               ("limit rec/s", 13, ">"), GAP, ("limit", 36, "<"),
               ("peak RSS MiB", 13, ">")]  # fmt: skip
    _table("one process per stage", columns, [
        [name, f"{size}", f"{r['seconds']:.2f}", _per_s(size, r["seconds"]),
         _per_s(size, r["limit_seconds"]), "", limit, f"{r['rss']:.0f}"]
        for name, size, r, limit in rows
    ])  # fmt: skip


def fhir(n: int) -> None:
    from bench.fhir import fhir_rows

    with tempfile.TemporaryDirectory() as tmp:
        rows = fhir_rows(n, Path(tmp), _child)
    columns = [("stage", 24, "<"), ("records", 9, ">"), ("resources", 11, ">"), ("s", 8, ">"),
               ("resources/s", 13, ">"), ("limit res/s", 13, ">"), GAP, ("limit", 36, "<"),
               ("peak RSS MiB", 13, ">")]  # fmt: skip
    _table("one process per stage", columns, [
        [name, f"{size}", f"{r['resources']:,.0f}", f"{r['seconds']:.2f}",
         _per_s(r["resources"], r["seconds"]), _per_s(r["resources"], r["limit_seconds"]), "",
         limit, f"{r['rss']:.0f}"]
        for name, size, r, limit in rows
    ])  # fmt: skip


def idea4rc(n: int) -> None:
    from bench.idea4rc import idea4rc_rows

    with tempfile.TemporaryDirectory() as tmp:
        rows = idea4rc_rows(n, Path(tmp), _child)
    columns = [("stage", 26, "<"), ("records", 9, ">"), ("rows", 11, ">"), ("s", 8, ">"),
               ("records/s", 11, ">"), ("rows/s", 10, ">"), ("limit rows/s", 14, ">"), GAP,
               ("limit", 24, "<"), ("peak RSS MiB", 13, ">")]  # fmt: skip
    _table("one process per stage", columns, [
        [name, f"{size}", f"{r['rows']:,.0f}", f"{r['seconds']:.2f}", _per_s(size, r["seconds"]),
         _per_s(r["rows"], r["seconds"]), _per_s(r["rows"], r["limit_seconds"]), "", limit,
         f"{r['rss']:.0f}"]
        for name, size, r, limit in rows
    ])  # fmt: skip


def load(n: int) -> None:
    from bench.load import load_rows

    with tempfile.TemporaryDirectory() as tmp:
        rows = load_rows(n, Path(tmp), _child)
    columns = [("stage", 21, "<"), ("database", 11, "<"), ("records", 8, ">"), ("s", 7, ">"),
               ("records/s", 11, ">"), ("rows/s", 10, ">"), ("limit rec/s", 13, ">"),
               ("limit rows/s", 14, ">"), GAP, ("limit", 37, "<"),
               ("peak RSS MiB", 13, ">")]  # fmt: skip
    _table("one process per stage, real mapping + rules", columns, [
        [name, kind, f"{size}", f"{r['seconds']:.2f}", _per_s(size, r["seconds"]),
         _per_s(r["rows"], r["seconds"]), _per_s(size, r.get("limit_seconds")),
         _per_s(r["rows"], r.get("limit_seconds")), "", limit, f"{r['rss']:.0f}"]
        for name, kind, size, r, limit in rows
    ])  # fmt: skip


def admin(n: int) -> None:
    from bench.admin import admin_rows

    with tempfile.TemporaryDirectory() as tmp:
        rows = admin_rows(n, Path(tmp), _child)
    columns = [("stage", 21, "<"), ("database", 11, "<"), ("records", 8, ">"), ("s", 7, ">"),
               ("records/s", 11, ">"), ("limit rec/s", 13, ">"), GAP, ("limit", 36, "<"),
               ("peak RSS MiB", 13, ">")]  # fmt: skip
    _table("one process per stage", columns, [
        [name, kind, f"{size}", f"{r['seconds']:.2f}", _per_s(size, r["seconds"]),
         _per_s(size, r["limit_seconds"]), "", limit, f"{r['rss']:.0f}"]
        for name, kind, size, r, limit in rows
    ])  # fmt: skip


def export(n: int) -> None:
    from bench.export import export_rows

    with tempfile.TemporaryDirectory() as tmp:
        rows = export_rows(n, Path(tmp), _child)
    columns = [("stage", 25, "<"), ("records", 8, ">"), ("resources", 10, ">"), ("s", 7, ">"),
               ("records/s", 11, ">"), ("resources/s", 13, ">"), ("limit res/s", 13, ">"), GAP,
               ("limit", 40, "<"), ("peak RSS MiB", 13, ">")]  # fmt: skip
    _table("one process per stage, SQLite record store", columns, [
        [name, f"{size}", f"{r['resources']:,.0f}", f"{r['seconds']:.2f}",
         _per_s(size, r["seconds"]), _per_s(r["resources"], r["seconds"]),
         _per_s(r["resources"], r.get("limit_seconds")), "", limit, f"{r['rss']:.0f}"]
        for name, size, r, limit in rows
    ])  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] == "_stage":
        sys.stdout.write(orjson.dumps(stage(args[1], int(args[2]), Path(args[3]))).decode())
        return
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("what", choices=["synth-check", "fhir", "load", "admin", "export",
                                         "idea4rc", "api"])  # fmt: skip
    parser.add_argument("--n", type=int, default=None, help="100 000 (load, admin, export: 10 000)")
    parser.add_argument("--seconds", type=float, default=20.0, help="api: seconds per phase")
    parser.add_argument("--clients", type=int, default=16, help="api: concurrent clients")
    parser.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--workers", type=int, default=1, help="api: serve --workers")
    parser.add_argument("--rate", type=float, default=100.0, help="api: offered bundles/s")
    ns = parser.parse_args(args)
    if ns.what == "api":
        from bench.api import api

        api(ns.seconds, ns.clients, ns.db, ns.workers, ns.n, ns.rate)
        return
    if ns.n is None:
        ns.n = 10_000 if ns.what in ("load", "admin", "export") else 100_000
    if ns.what == "load":
        load(ns.n)
    elif ns.what == "admin":
        admin(ns.n)
    elif ns.what == "export":
        export(ns.n)
    elif ns.what == "fhir":
        fhir(ns.n)
    elif ns.what == "idea4rc":
        idea4rc(ns.n)
    else:
        synth_check(ns.n)


if __name__ == "__main__":
    main()
