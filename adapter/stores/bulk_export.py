"""The work of a Bulk Data `$export` job: stored records → NDJSON files, one set per type.

Records are streamed from the record store a page at a time (adapter/stores/export.py,
`stored_records`, one snapshot), each turned into the resources `to_fhir` emits with relative
references (adapter/fhir/served.py), and each resource written as one line to the open file of
its type. A type's file is closed after `max_lines` resources and the next one opened
(`Observation-1.ndjson`, `Observation-2.ndjson`, …), so memory holds one page of records and one
record's resources whatever the size of the store, and no file grows without bound.

An institution's Organization is shared by its records: it is written once (the set of
Organization ids seen is as small as the number of institutions). A Patient-level export
(`Patient/$export`) leaves Organizations out, as they are outside the Patient compartment.

`cancelled()` is asked between records; the caller removes the directory of a cancelled job.

`write_resources` is the same writing for any stream of records (`mds-adapter export --to fhir
--layout bulk` hands it records read from the CDM); `max_lines=None` writes one file per type,
`Patient.ndjson`, never rotated.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Collection, Iterable
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

import orjson
from sqlalchemy.engine import Engine

from adapter.fhir.served import RESOURCE_TYPES, served_resources
from adapter.mds.record import MdsRecord
from adapter.stores.export import PAGE_SIZE, stored_records
from adapter.terminology import Terminology

__all__ = ["MAX_LINES", "Cancelled", "OutputFile", "write_export", "write_resources"]

MAX_LINES = 100_000
"""Resources per NDJSON file before the next file of the type is started."""


class Cancelled(Exception):  # noqa: N818 (a signal, not an error)
    """The job was cancelled while it ran."""


@dataclass(frozen=True, slots=True)
class OutputFile:
    """One written file: its resource type, file name (in the job directory) and line count."""

    type: str
    name: str
    count: int


class _Files:
    """The open file of each type, rotated after `max_lines` lines (never when None)."""

    def __init__(self, directory: Path, stack: ExitStack, max_lines: int | None) -> None:
        self.directory, self.stack = directory, stack
        self.numbered = max_lines is not None  # Type-1.ndjson, Type-2.ndjson, …; else Type.ndjson
        self.max_lines = max_lines if max_lines is not None else sys.maxsize
        self.open: dict[str, tuple[IO[bytes], OutputFile]] = {}
        self.done: list[OutputFile] = []

    def write(self, kind: str, line: bytes) -> None:
        current = self.open.get(kind)
        if current is None or current[1].count >= self.max_lines:
            number = 1 + sum(f.type == kind for f in self.done) + (current is not None)
            if current is not None:
                self.done.append(current[1])
            name = f"{kind}-{number}.ndjson" if self.numbered else f"{kind}.ndjson"
            out: IO[bytes] = self.stack.enter_context((self.directory / name).open("wb"))
            current = (out, OutputFile(kind, name, 0))
        out, info = current
        out.write(line)
        self.open[kind] = (out, OutputFile(kind, info.name, info.count + 1))

    def outputs(self) -> list[OutputFile]:
        found = self.done + [info for _, info in self.open.values()]
        return sorted(found, key=lambda f: f.type)  # stable: a type's files stay in order


def write_export(
    engine: Engine,
    directory: Path,
    terminology: Terminology,
    *,
    types: Collection[str],
    since: datetime | None = None,
    institutions: Collection[str] | None = None,
    patient_level: bool = False,
    max_lines: int = MAX_LINES,
    page_size: int = PAGE_SIZE,
    cancelled: Callable[[], bool] = lambda: False,
    on_record: Callable[[int], None] | None = None,
) -> list[OutputFile]:
    """Write the NDJSON files of the job into `directory` (made here); returns them by type.

    `on_record(n)` runs after the n-th record (progress, heartbeat); raises `Cancelled` when
    `cancelled()` turns true.
    """
    records = stored_records(engine, page_size=page_size, since=since, institutions=institutions)
    return write_resources(records, directory, terminology, types=types,
                           patient_level=patient_level, max_lines=max_lines,
                           cancelled=cancelled, on_record=on_record)  # fmt: skip


def write_resources(
    records: Iterable[MdsRecord],
    directory: Path,
    terminology: Terminology,
    *,
    types: Collection[str] = RESOURCE_TYPES,
    patient_level: bool = False,
    max_lines: int | None = MAX_LINES,
    cancelled: Callable[[], bool] = lambda: False,
    on_record: Callable[[int], None] | None = None,
) -> list[OutputFile]:
    """The records' resources, each a line of its type's file in `directory` (made here)."""
    directory.mkdir(parents=True, exist_ok=True)
    wanted = set(types) - ({"Organization"} if patient_level else set())
    organizations: set[str] = set()
    with ExitStack() as stack:
        files = _Files(directory, stack, max_lines)
        for n, record in enumerate(records, 1):
            if cancelled():
                raise Cancelled
            for r in served_resources(record, terminology):
                kind = r["resourceType"]
                if kind not in wanted:
                    continue
                if kind == "Organization":
                    if r["id"] in organizations:
                        continue
                    organizations.add(r["id"])
                files.write(kind, orjson.dumps(r) + b"\n")
            if on_record is not None:
                on_record(n)
        return files.outputs()
