"""Helpers for the record-store tests: input files, loads with the fake mapping, table dumps."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import orjson

from adapter.mds.record import MdsRecord
from adapter.mds.synth import generate
from adapter.omop.losses import as_exported
from adapter.omop.schema import Part, qualified_name, tables
from adapter.sources.jsonl import dumps, read_jsonl
from adapter.stores.incoming import read_incoming
from adapter.stores.load import LoadReport, load_records
from adapter.stores.pseudonym import Pseudonymiser
from tests.db import fake_omop
from tests.db.helpers import dialect_of, rows

__all__ = [
    "ADAPTER_TABLES",
    "KEY",
    "VOLATILE",
    "count",
    "dump",
    "exported_lines",
    "fake_load",
    "projected",
    "write_lines",
]

KEY = "test-key-0123456789abcdef"
ADAPTER_TABLES = ("records", "crosswalk", "id_sequence", "quarantine")
VOLATILE = {
    "records": {"run_id"},
    "quarantine": {"run_id", "quarantine_id"},
    "cdm_source": {"source_description"},
}
"""Columns that name the run (or a PostgreSQL identity value spent by a rolled-back chunk):
they differ between an interrupted-then-resumed load and a clean one, by design."""


def exported_lines(path: Path) -> bytes:
    """What `export --from cdm` should write for the MDS JSON Lines at `path`: each record with
    the CDM's declared losses applied (docs/omop-loss.md), in the same order."""
    with path.open("rb") as f:
        records = [r for r in read_jsonl(f) if isinstance(r, MdsRecord)]
    return b"".join(dumps(as_exported(r)) + b"\n" for r in records)


def projected(n: int, seed: int = 7) -> list[MdsRecord]:
    return [fake_omop.project(r) for r, _ in generate(n, seed)]


def write_lines(path: Path, items: Iterable[MdsRecord | dict[str, Any] | bytes]) -> Path:
    with path.open("wb") as out:
        for item in items:
            if isinstance(item, MdsRecord):
                out.write(dumps(item))
            elif isinstance(item, bytes):
                out.write(item)
            else:
                out.write(orjson.dumps(item))
            out.write(b"\n")
    return path


def fake_load(
    url: str, path: Path, *, key: str = KEY, chunk_size: int = 7, **kw: Any
) -> LoadReport:
    with path.open("rb") as f:
        return load_records(
            url,
            read_incoming(f),
            pseudonym=Pseudonymiser(key),
            source=path.name,
            to_omop=fake_omop.to_omop,
            rules=None,
            chunk_size=chunk_size,
            **kw,
        )


def _name(t: str, url: str) -> str:
    part: Part = "adapter" if t in ADAPTER_TABLES else "cdm"
    return qualified_name(t, part, "postgresql" if dialect_of(url) == "postgresql" else "sqlite")


def count(url: str, t: str, where: str = "") -> int:
    return int(rows(url, f"SELECT count(*) FROM {_name(t, url)} {where}")[0][0])


def dump(url: str, skip: Sequence[str] = ()) -> dict[str, list[tuple[Any, ...]]]:
    """Every CDM table and record-store table, rows sorted, VOLATILE columns left out."""
    dialect = "postgresql" if dialect_of(url) == "postgresql" else "sqlite"
    names = [t.name for t in tables(dialect) if t.part == "cdm"] + list(ADAPTER_TABLES)
    out: dict[str, list[tuple[Any, ...]]] = {}
    for t in names:
        if t in skip:
            continue
        found = rows(url, f"SELECT * FROM {_name(t, url)}")
        columns = [c[0] for c in _columns(url, t)]
        keep = [i for i, c in enumerate(columns) if c not in VOLATILE.get(t, set())]
        out[t] = sorted((tuple(r[i] for i in keep) for r in found), key=repr)
    return out


def _columns(url: str, t: str) -> list[tuple[Any, ...]]:
    if dialect_of(url) == "postgresql":
        schema = "adapter" if t in ADAPTER_TABLES else "cdm"
        return rows(
            url,
            "SELECT column_name FROM information_schema.columns WHERE table_schema = "
            f"'{schema}' AND table_name = '{t}' ORDER BY ordinal_position",
        )
    return [(r[1],) for r in rows(url, f"PRAGMA table_info({_name(t, url)})")]
