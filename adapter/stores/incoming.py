"""What a load reads: MDS JSON Lines with tombstones, cut into chunks that commit alone.

A line is a record, a finding (the line is rejected, with its raw text kept for the
quarantine), or a tombstone `{"record_id": "X", "_deleted": true}` (optionally with
`"institution"`) that deletes the record. Tombstones are JSON Lines because deletions travel
with the data they delete: an export of changes from a site is one file (docs/adr/0004).

Chunks are cut at a fixed number of lines and also before a record id that is already in the
chunk, so a record changed twice in one file is applied in order. Boundaries depend only on the
input, never on timing: the re-run of an interrupted load meets the same chunks.

FHIR input (NDJSON of Bundles or resources, or one Bundle in a .json file) is told apart by
content as `convert` does (adapter/sources/formats.py) and read by adapter.fhir; each record
becomes an item whose raw text is its canonical MDS JSON line (the FHIR resources of a record
are spread over a Bundle, so there is no single line to keep), each error finding a rejected
item with the input the reader kept. FHIR has no tombstones: deletions stay JSON Lines. The
IDEA4RC normalised table (adapter/sources/idea4rc_table.py) is read the same way as FHIR: one
canonical MDS line per record, rejected records with the rows the reader kept.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import IO, Any, Literal

import orjson

from adapter.errors import Finding, Level
from adapter.mds.record import MdsRecord
from adapter.sources.formats import guess_format, read
from adapter.sources.jsonl import dumps, parse_line

__all__ = [
    "Incoming",
    "InputKind",
    "Tombstone",
    "chunks",
    "input_kind",
    "quarantine_row",
    "read_fhir_incoming",
    "read_incoming",
    "tombstone",
]

InputKind = Literal["jsonl", "fhir-ndjson", "fhir-json", "idea4rc-table"]

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
    institution: str | None = None
    """For a rejected item (a Finding) whose institution is known, e.g. a FHIR batch group."""

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


def input_kind(path: str | PurePath, head: bytes) -> InputKind | None:
    """What a load reads from this file: MDS JSON Lines, FHIR or the IDEA4RC normalised table;
    None for other formats.

    By content like `convert` (a first object with `resourceType` is FHIR); a name without a
    known extension is read as JSON Lines, as `load` always did.
    """
    fmt = guess_format(path, head)
    if fmt is None:
        fmt = guess_format("input.jsonl", head)
    if fmt in ("jsonl", "fhir-ndjson", "fhir-json", "idea4rc-table"):
        return fmt
    return None


def read_fhir_incoming(
    stream: IO[bytes],
    kind: Literal["fhir-ndjson", "fhir-json", "idea4rc-table"],
    *,
    profiles: Literal["warn", "reject", "off"] = "warn",
    on_warning: Callable[[Finding], None] | None = None,
) -> Iterator[Incoming]:
    """Records and error findings of a FHIR file (or an IDEA4RC table, read the same way) as
    load items; warnings and infos go to `on_warning`.

    A warning (a resource or element with no MDS home, a profile deviation under "warn") does
    not reject a record, so it is reported, not quarantined.
    """
    for number, item in enumerate(read(kind, stream, profiles=profiles), start=1):
        if isinstance(item, MdsRecord):
            yield Incoming(f"record {item.record_id}", dumps(item), item)
        elif item.level is Level.ERROR:
            raw = item.raw.encode() if item.raw else orjson.dumps(item.to_json())
            yield Incoming(item.location or f"finding {number}", raw, item)
        elif on_warning is not None:
            on_warning(item)


def quarantine_row(
    run_id: int, source: str, incoming: Incoming, findings: Sequence[Finding]
) -> dict[str, Any]:
    """The quarantine row of rejected input: its raw text, where it was, and every reason."""
    item = incoming.item
    record_id = findings[0].record_id if findings else None
    institution = item.institution if not isinstance(item, Finding) else incoming.institution
    if isinstance(item, MdsRecord | Tombstone):
        record_id = item.record_id
    return {
        "run_id": run_id,
        "source": source,
        "location": incoming.location,
        "institution": institution,
        "record_id": record_id,
        "raw": incoming.raw.decode("utf-8", "replace"),
        "raw_hash": hashlib.sha256(incoming.raw).hexdigest(),
        "findings": orjson.dumps([f.to_json() for f in findings]).decode(),
    }
