"""What a load reads: MDS JSON Lines with tombstones, cut into chunks that commit alone.

A line is a record, a finding (the line is rejected, with its raw text kept for the
quarantine), or a tombstone `{"record_id": "X", "_deleted": true}` (optionally with
`"institution"`) that deletes the record. Tombstones are JSON Lines because deletions travel
with the data they delete: an export of changes from a site is one file (docs/adr/0004).

Chunks are cut at a fixed number of lines and also before a record id that is already in the
chunk, so a record changed twice in one file is applied in order. Boundaries depend only on the
input, never on timing: the re-run of an interrupted load meets the same chunks.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import orjson

from adapter.errors import Finding, Level
from adapter.mds.record import MdsRecord
from adapter.sources.jsonl import parse_line

__all__ = ["Incoming", "Tombstone", "chunks", "read_incoming", "tombstone"]

_TOMBSTONE_KEYS = {"record_id", "institution", "_deleted"}


@dataclass(frozen=True, slots=True)
class Tombstone:
    """A request to delete a record; without `institution` it must name exactly one record."""

    record_id: str
    institution: str | None = None


@dataclass(frozen=True, slots=True)
class Incoming:
    """One unit of input with where it came from and its text (for hashing and quarantine)."""

    location: str
    raw: bytes
    item: MdsRecord | Finding | Tombstone

    @property
    def record_id(self) -> str | None:
        item = self.item
        return item.record_id if not isinstance(item, Finding) else None


def tombstone(raw: bytes, location: str) -> Tombstone | Finding | None:
    """The tombstone on this line, a finding if it is a malformed one, None for other lines."""
    if b'"_deleted"' not in raw:
        return None
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None  # parse_line reports it
    if not isinstance(data, dict) or "_deleted" not in data:
        return None
    record_id, institution = data.get("record_id"), data.get("institution")
    extra = sorted(set(data) - _TOMBSTONE_KEYS)
    if (
        data["_deleted"] is not True
        or not isinstance(record_id, str)
        or not record_id
        or not (institution is None or isinstance(institution, str))
        or extra
    ):
        return Finding(
            code="source.invalid-tombstone",
            level=Level.ERROR,
            message='a deletion is {"record_id": "…", "_deleted": true} with an optional '
            '"institution" and nothing else' + (f"; unexpected keys {extra}" if extra else ""),
            record_id=record_id if isinstance(record_id, str) else None,
            location=location,
            raw=raw.decode("utf-8", "replace"),
        )
    return Tombstone(record_id, institution)


def read_incoming(lines: Iterable[bytes]) -> Iterator[Incoming]:
    """Records, findings and tombstones from the lines of a JSON Lines file (binary mode)."""
    for number, line in enumerate(lines, start=1):
        raw = (line.removeprefix(b"\xef\xbb\xbf") if number == 1 else line).strip()
        if not raw:
            continue
        location = f"line {number}"
        item = tombstone(raw, location)
        yield Incoming(location, raw, item if item is not None else parse_line(raw, location))


def chunks(items: Iterable[Incoming], size: int) -> Iterator[list[Incoming]]:
    """Lists of at most `size` items, cut early before a record id repeats within one."""
    chunk: list[Incoming] = []
    seen: set[str] = set()
    for incoming in items:
        rid = incoming.record_id
        if len(chunk) >= size or (rid is not None and rid in seen):
            yield chunk
            chunk, seen = [], set()
        chunk.append(incoming)
        if rid is not None:
            seen.add(rid)
    if chunk:
        yield chunk
