"""MDS ⇄ FHIR R4 (IDEA4RC profiles), pure: plain dicts in and out, no I/O, no server.

- `to_fhir(record, terminology, bundle="transaction" | "collection")`: one record as a Bundle.
- `read_fhir(chunks, profiles="warn")`: records (and findings) from Bundles and single
  resources, any order; each input resource is checked against profiles/ first (intake.py).
- `read_ndjson(lines)` / `write_ndjson(bundles, out)`: FHIR NDJSON (one Bundle or resource a line).

The mapping, element by element, is docs/fhir-mapping.md; the choices are ADR 0003.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import orjson

from adapter.errors import Finding, Level
from adapter.fhir.bundle import BundleKind, dumps, to_fhir, write_ndjson
from adapter.fhir.intake import ProfilePolicy
from adapter.fhir.read import read_fhir, read_labelled
from adapter.mds.record import MdsRecord
from adapter.terminology import Terminology

__all__ = [
    "BundleKind",
    "ProfilePolicy",
    "dumps",
    "read_fhir",
    "read_ndjson",
    "to_fhir",
    "write_ndjson",
]


def read_ndjson(
    lines: Iterable[bytes],
    terminology: Terminology | None = None,
    *,
    profiles: ProfilePolicy = "warn",
) -> Iterator[MdsRecord | Finding]:
    """Records and findings from FHIR NDJSON lines (Bundles or resources, mixed patients).

    A line that is not JSON is one finding naming the line; the rest are read as usual, each
    checked against profiles/ first (`profiles`: see adapter/fhir/intake.py). Findings name the
    line (`line 12 (Bundle/<id>): Bundle.entry[3].resource.method`).
    """
    bad: list[Finding] = []

    def chunks() -> Iterator[tuple[str, object]]:
        for number, line in enumerate(lines, start=1):
            raw = line.strip()
            if not raw:
                continue
            try:
                value = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                bad.append(
                    Finding(
                        code="source.invalid-json", level=Level.ERROR,
                        message=f"not valid JSON: {exc}", location=f"line {number}",
                        raw=raw.decode("utf-8", "replace"),
                    )
                )  # fmt: skip
                continue
            yield f"line {number}", value

    for item in read_labelled(chunks(), terminology, profiles=profiles):
        while bad:
            yield bad.pop(0)
        yield item
    yield from bad
