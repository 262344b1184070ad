"""MDS JSON Lines: one record per line, keys are element names (../shared/mds/README.md).

Forgiving of the file (blank lines, a byte-order mark, CRLF), strict about the data: every good
line yields a record, every bad line one finding naming the line, record id and elements.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO, Any

import orjson
from pydantic import ValidationError

from adapter.errors import Finding, Level
from adapter.mds.record import MdsRecord
from adapter.sources.problems import invalid_record

__all__ = [
    "dumps",
    "parse_line",
    "read_jsonl",
    "write_jsonl",
]


def _record_id(raw: bytes) -> str | None:
    try:
        data: Any = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    rid = data.get("record_id") if isinstance(data, dict) else None
    return rid if isinstance(rid, str) else None


def _unreadable(raw: bytes, location: str) -> Finding | None:
    """A finding when the line is not a JSON object at all (then validation is moot)."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return Finding(
            code="source.invalid-json",
            level=Level.ERROR,
            message=f"not valid JSON: {exc}",
            location=location,
            raw=raw.decode("utf-8", "replace"),
        )
    if not isinstance(data, dict):
        return Finding(
            code="source.not-an-object",
            level=Level.ERROR,
            message=f"expected a JSON object (one MDS record), got {type(data).__name__}",
            location=location,
            raw=raw.decode("utf-8", "replace"),
        )
    return None


def parse_line(raw: bytes, location: str) -> MdsRecord | Finding:
    """One JSON object as a record, or the finding that rejects it."""
    try:
        return MdsRecord.model_validate_json(raw)
    except ValidationError as exc:
        return _unreadable(raw, location) or invalid_record(
            exc, location=location, record_id=_record_id(raw), raw=raw.decode("utf-8", "replace")
        )


def read_jsonl(lines: Iterable[bytes]) -> Iterator[MdsRecord | Finding]:
    """Records and findings from the lines of a JSON Lines file opened in binary mode."""
    for number, line in enumerate(lines, start=1):
        raw = line.removeprefix(b"\xef\xbb\xbf") if number == 1 else line
        raw = raw.strip()
        if raw:
            yield parse_line(raw, f"line {number}")


def dumps(record: MdsRecord) -> bytes:
    """A record as one compact JSON line (no newline), absent elements left out."""
    return record.__pydantic_serializer__.to_json(record, exclude_none=True)


def write_jsonl(records: Iterable[MdsRecord], out: IO[bytes]) -> int:
    count = 0
    for record in records:
        out.write(dumps(record) + b"\n")
        count += 1
    return count
