"""FHIR stages of the bench: records → FHIR NDJSON, FHIR NDJSON → records, the validator alone.

    python -m bench fhir [--n 100000]

Like synth-check, each stage runs in its own child process (peak RSS is its own) and is shown
beside the same-run physical limit: orjson serialising the same Bundles (write) or parsing the
same lines (read, validate), timed per line so that only that work is counted. The limit runs
stream too (one line at a time), so the RSS column is the stage's. 100 k records make a
~1.7 GB NDJSON file and take minutes: this is run by hand, not in CI.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson

__all__ = ["fhir_rows", "fhir_stage"]


def fhir_stage(name: str, n: int, path: Path, rss: Any) -> dict[str, float]:
    """One FHIR stage in this process: `path` is the MDS JSON Lines (write) or the NDJSON."""
    from adapter.errors import Finding
    from adapter.fhir import read_ndjson, to_fhir
    from adapter.fhir.validate import validate_bundle
    from adapter.sources.jsonl import read_jsonl
    from adapter.terminology import Terminology

    t = Terminology.load()
    resources = 0
    if name == "fhir-write":
        out_path = path.with_suffix(".ndjson")
        t0 = time.perf_counter()
        with path.open("rb") as f, out_path.open("wb") as out:
            for record in read_jsonl(f):
                if isinstance(record, Finding):
                    continue
                bundle = to_fhir(record, t)
                resources += len(bundle["entry"])
                out.write(orjson.dumps(bundle) + b"\n")
        work = time.perf_counter() - t0
        peak = rss()
        limit = 0.0
        with out_path.open("rb") as f, path.with_suffix(".limit").open("wb") as out:
            for line in f:
                bundle = orjson.loads(line)
                t0 = time.perf_counter()
                out.write(orjson.dumps(bundle) + b"\n")
                limit += time.perf_counter() - t0
        return {"seconds": work, "limit_seconds": limit, "rss": peak, "resources": resources}
    t0 = time.perf_counter()
    with path.open("rb") as f:
        if name == "fhir-read":
            for _ in read_ndjson(f, t, profiles="off"):
                pass
        else:  # fhir-validate
            for line in f:
                bundle = orjson.loads(line)
                resources += len(bundle["entry"])
                validate_bundle(bundle)
    work = time.perf_counter() - t0
    peak = rss()
    limit = 0.0
    with path.open("rb") as f:
        for line in f:
            t0 = time.perf_counter()
            orjson.loads(line)
            limit += time.perf_counter() - t0
    return {"seconds": work, "limit_seconds": limit, "rss": peak, "resources": resources}


def fhir_rows(n: int, tmp: Path, child: Any) -> list[tuple[str, int, dict[str, float], str]]:
    """Run synth (input), then the three FHIR stages, each in a child process."""
    records = tmp / f"records-{n}.jsonl"
    child("synth", n, records)
    write = child("fhir-write", n, records)
    ndjson = records.with_suffix(".ndjson")
    read = child("fhir-read", n, ndjson)
    check = child("fhir-validate", n, ndjson)
    resources = int(write["resources"])
    for r in (read, check):
        r["resources"] = resources
    return [
        ("records → FHIR NDJSON", n, write, "orjson.dumps + write, same Bundles"),
        ("FHIR NDJSON → records", n, read, "orjson.loads, same lines"),
        ("validate (profiles/)", n, check, "orjson.loads, same lines"),
    ]
