"""MDS ⇄ FHIR R4 (IDEA4RC profiles), pure: plain dicts in and out, no I/O, no server.

- `to_fhir(record, terminology, bundle="transaction" | "collection")`: one record as a Bundle.
- `read_fhir(chunks)`: records (and findings) from Bundles and single resources, any order.
- `read_ndjson(lines)` / `write_ndjson(bundles, out)`: FHIR NDJSON (one Bundle or resource a line).

The mapping, element by element, is docs/fhir-mapping.md; the choices are ADR 0003.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import orjson

from adapter.errors import Finding, Level
from adapter.fhir.bundle import BundleKind, dumps, to_fhir, write_ndjson
from adapter.fhir.read import read_fhir
from adapter.mds.record import MdsRecord
from adapter.terminology import Terminology

__all__ = ["BundleKind", "dumps", "read_fhir", "read_ndjson", "to_fhir", "write_ndjson"]


def read_ndjson(
    lines: Iterable[bytes], terminology: Terminology | None = None
) -> Iterator[MdsRecord | Finding]:
    """Records and findings from FHIR NDJSON lines (Bundles or resources, mixed patients).

    A line that is not JSON is one finding naming the line; the rest are read as usual.
    """
    bad: list[Finding] = []

    def chunks() -> Iterator[dict[str, object]]:
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
            yield value

    for item in read_fhir(chunks(), terminology):
        while bad:
            yield bad.pop(0)
        yield item
    yield from bad
