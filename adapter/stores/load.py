"""Load MDS records into the OMOP database through the record store, chunk by chunk.

    report = load_records(url, read_incoming(file), pseudonym=p, source="site-a.jsonl")

Each chunk is one transaction holding the records' store rows, crosswalk rows, id sequence
and CDM rows, so a load killed at any point leaves whole chunks and a re-run finishes the job
with the same ids (docs/adr/0004). Per record:

- unchanged (same content hash and mapping fingerprint): nothing is mapped or written;
- new or changed: the rules and `to_omop` run; error findings send the input to the
  quarantine (a changed record's previous version stays); otherwise the record's old CDM rows
  are deleted and the new ones inserted, every `Ref` resolved through the crosswalk (old refs
  keep their id, new ones get the next id of their table);
- tombstone: its CDM rows are deleted and the store row becomes a tombstone.

All of it is decided in the chunk's transaction under the record store lock, so concurrent
loads of the same records (the API's writers) end in one set of rows; with `track=True` the
report says what became of each item (`LoadReport.outcomes`, by location): what the API
answers per entry. `create_only` locations leave an existing record as it is (FHIR
conditional create).

Concepts the mapping resolves by code (the tumour's ICDO3 concept) are looked up in the
database's own vocabulary tables, batched per chunk (adapter/stores/concepts.py); codes that
stay unmapped (concept 0) are counted in the report and the run.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapter.errors import Finding, Level
from adapter.mds.record import MdsRecord
from adapter.mds.rules import RuleConfig, check_record
from adapter.omop.rows import OmopRows, Ref
from adapter.omop.schema import Dialect, qualified_name, table
from adapter.sources.jsonl import dumps
from adapter.stores.bulk import KEYLESS_OWNERS, dialect_of, insert, owner_column
from adapter.stores.concepts import DbResolver, condition_codes
from adapter.stores.incoming import Incoming, Tombstone, chunks, quarantine_row
from adapter.stores.load_report import LoadReport, Outcome
from adapter.stores.omop_db import Target, engine_for
from adapter.stores.pseudonym import Pseudonymiser
from adapter.stores.record_store import (
    RECORD_NO,
    CrosswalkEntry,
    Stored,
    adapter_name,
    allocate,
    crosswalk,
    lock,
    stored,
)
from adapter.stores.runs import (
    finish_run,
    mapping_fingerprint,
    start_run,
    vocabulary_version,
    write_cdm_source,
)
from adapter.stores.worklist import Collector

__all__ = [
    "CHUNK_SIZE",
    "LoadReport",
    "Outcome",
    "ToOmop",
    "default_to_omop",
    "delete_rows",
    "load_records",
]

CHUNK_SIZE = 500
UNMAPPED = "omop.unmapped-code"
ToOmop = Callable[..., tuple[OmopRows, list[Finding]]]
"""`to_omop(record, terminology, *, pseudonym=...)`, as adapter.omop provides it."""


def default_to_omop() -> ToOmop:
    """The real mapping, imported late so the store works (and is tested) without it."""
    from adapter import omop

    found: ToOmop = omop.to_omop  # type: ignore[attr-defined,unused-ignore]
    return found


@dataclass(frozen=True, slots=True)
class _Run:
    run_id: int
    source: str
    mapping: str
    pseudonym: Pseudonymiser
    terminology: Any
    to_omop: ToOmop
    rules: RuleConfig | None
    resolve: DbResolver
    unmapped: Counter[str]
    worklist: Collector  # the unmapped-code worklist (adapter/stores/worklist.py)
    create_only: frozenset[str] = frozenset()


@dataclass(slots=True)
class _Mapped:
    location: str
    record: MdsRecord
    line: bytes
    content_hash: str
    previous: Stored | None
    rows: OmopRows


def _refs(rows: OmopRows) -> list[Ref]:
    """Every Ref of a record, in a stable order (so ids are allocated deterministically)."""
    found = {v for table_rows in rows.values() for row in table_rows for v in row.values()
             if isinstance(v, Ref)}  # fmt: skip
    return sorted(found)


def delete_rows(conn: Connection, entries: Sequence[CrosswalkEntry]) -> None:
    """Delete the CDM rows these crosswalk ids own, including key-less rows hung on them."""
    dialect = dialect_of(conn)
    ids: dict[str, list[int]] = {}
    for e in entries:
        ids.setdefault(e.table_name, []).append(e.id)
    targets = [(name, owner_column(table(name, dialect))[0], owned)
               for name, owned in ids.items()]  # fmt: skip
    targets += [(name, column, ids[owner]) for name, (column, owner) in KEYLESS_OWNERS.items()
                if owner in ids]  # fmt: skip
    for name, column, owned in targets:
        t = table(name, dialect)
        conn.execute(
            sa.text(
                f"DELETE FROM {qualified_name(t.name, t.part, dialect)} WHERE {column} IN :ids"
            ).bindparams(sa.bindparam("ids", expanding=True)),
            {"ids": owned},
        )


@cache
def _column_index(name: str, dialect: Dialect) -> dict[str, int]:
    """Column → position in the table's rows; raises for a table the store cannot own."""
    t = table(name, dialect)
    owner_column(t)  # raises for a table whose rows the store could not find again
    return {c: i for i, c in enumerate(t.column_names)}


def _map(run: _Run, incoming: Incoming, record: MdsRecord) -> tuple[OmopRows, list[Finding]]:
    findings = check_record(record, run.rules) if run.rules is not None else []
    errors = [f for f in findings if f.level is Level.ERROR]
    if errors:
        return {}, errors
    rows, mapped = run.to_omop(record, run.terminology, pseudonym=run.pseudonym,
                               resolve=run.resolve)  # fmt: skip
    errors = [f for f in mapped if f.level is Level.ERROR]
    if not errors:
        run.unmapped.update("-".join(str(v or "") for v in f.values) for f in mapped
                            if f.code == UNMAPPED)  # fmt: skip
        run.worklist.note(record, mapped)
    return rows, errors


def _chunk(conn: Connection, run: _Run, chunk: list[Incoming], report: LoadReport) -> None:
    """One chunk in the caller's transaction (see the module docstring for the cases)."""
    lock(conn)
    run.resolve.prefetch(conn, condition_codes(i.item for i in chunk
                                               if isinstance(i.item, MdsRecord)))  # fmt: skip
    known: dict[tuple[str, str], Stored] = {}
    for s in stored(conn, {i.record_id for i in chunk if i.record_id is not None}):
        known[(s.institution, s.record_id)] = s
    mapped: list[_Mapped] = []
    gone: list[Stored] = []
    quarantine: list[dict[str, Any]] = []
    for incoming in chunk:
        item = incoming.item
        if isinstance(item, Finding):
            quarantine.append(quarantine_row(run.run_id, run.source, incoming, [item]))
            report.note(incoming.location, "rejected")
        elif isinstance(item, Tombstone):
            live = [s for s in known.values() if s.record_id == item.record_id and not s.deleted
                    and item.institution in (None, s.institution)]  # fmt: skip
            if len(live) > 1:
                ambiguous = Finding(
                    code="store.ambiguous-delete",
                    level=Level.ERROR,
                    message=f"record {item.record_id} exists at "
                    f"{', '.join(sorted(s.institution for s in live))}: name the institution",
                    record_id=item.record_id,
                    location=incoming.location,
                )
                quarantine.append(quarantine_row(run.run_id, run.source, incoming, [ambiguous]))
            gone += live if len(live) == 1 else []
            if len(live) == 1:
                report.note(incoming.location, "deleted", live[0].version + 1)
            else:
                report.note(incoming.location, "rejected" if live else "not-found")
            continue
        else:
            line = dumps(item)
            digest = hashlib.sha256(line).hexdigest()
            previous = known.get((item.institution or "", item.record_id))
            if (
                previous is not None
                and not previous.deleted
                and (incoming.location in run.create_only
                     or (previous.content_hash == digest and previous.mapping == run.mapping))
            ):  # fmt: skip
                report.unchanged += 1
                report.note(incoming.location, "unchanged", previous.version)
                continue
            rows, errors = _map(run, incoming, item)
            if errors:
                quarantine.append(quarantine_row(run.run_id, run.source, incoming, errors))
                report.note(incoming.location, "rejected")
            else:
                mapped.append(_Mapped(incoming.location, item, line, digest, previous, rows))
    report.rejected += len(quarantine)
    report.rejected_ids += [q["record_id"] or q["location"] for q in quarantine]
    run.worklist.flush(conn)
    _write(conn, run, mapped, gone, quarantine, report)


def _write(
    conn: Connection,
    run: _Run,
    mapped: list[_Mapped],
    gone: list[Stored],
    quarantine: list[dict[str, Any]],
    report: LoadReport,
) -> None:
    dialect = dialect_of(conn)
    olds = [m.previous.record_no for m in mapped if m.previous is not None]
    olds += [s.record_no for s in gone]
    entries = crosswalk(conn, olds)
    delete_rows(conn, entries)
    ids = {(e.record_no, e.table_name, e.ref_key): e.id for e in entries}
    need: dict[str, int] = {RECORD_NO: sum(m.previous is None for m in mapped)}
    plan: list[tuple[_Mapped, list[Ref]]] = []
    for m in mapped:
        refs = _refs(m.rows)
        plan.append((m, refs))
        for ref in refs:
            if m.previous is None or (m.previous.record_no, ref.table, ref.key) not in ids:
                need[ref.table] = need.get(ref.table, 0) + 1
    next_id = allocate(conn, need)
    new_xwalk: list[tuple[int, str, str, int]] = []
    out: dict[str, list[tuple[Any, ...]]] = {}
    new_records: list[tuple[Any, ...]] = []
    changed: list[dict[str, Any]] = []
    for m, refs in plan:
        if m.previous is None:
            record_no = next_id[RECORD_NO]
            next_id[RECORD_NO] += 1
        else:
            record_no = m.previous.record_no
        resolved: dict[Ref, int] = {}
        for ref in refs:
            key = (record_no, ref.table, ref.key)
            if key not in ids:
                ids[key] = next_id[ref.table]
                next_id[ref.table] += 1
                new_xwalk.append((*key, ids[key]))
            resolved[ref] = ids[key]
        for name, table_rows in m.rows.items():
            index = _column_index(name, dialect)
            target = out.setdefault(name, [])
            for row in table_rows:
                # Only the row's own cells are visited (a CDM row sets ~8 of ~20 columns):
                # this loop runs ~36 times per record and was the load's hot spot.
                cells: list[Any] = [None] * len(index)
                try:
                    for column, v in row.items():
                        cells[index[column]] = resolved[v] if v.__class__ is Ref else v
                except KeyError:
                    unknown = sorted(set(row) - set(index))
                    raise ValueError(f"to_omop wrote unknown {name} columns {unknown}") from None
                target.append(tuple(cells))
        document = m.line.decode()
        if m.previous is None:
            report.loaded += 1
            report.note(m.location, "created", 1)
            new_records.append((record_no, m.record.institution or "", m.record.record_id, 1,
                                m.content_hash, run.mapping, document, run.source, run.run_id,
                                False))  # fmt: skip
        else:
            report.updated += 1
            same = m.previous.content_hash == m.content_hash and not m.previous.deleted
            report.note(m.location, "created" if m.previous.deleted else "updated",
                        m.previous.version + (0 if same else 1))  # fmt: skip
            changed.append({"no": record_no, "version": m.previous.version + (0 if same else 1),
                            "hash": m.content_hash, "mapping": run.mapping, "json": document,
                            "source": run.source, "run": run.run_id, "deleted": False})  # fmt: skip
    for s in gone:
        report.deleted += 1
        changed.append({"no": s.record_no, "version": s.version + 1, "hash": None,
                        "mapping": s.mapping, "json": None, "source": run.source,
                        "run": run.run_id, "deleted": True})  # fmt: skip
    for name, values in out.items():
        t = table(name, dialect)
        report.rows += insert(conn, qualified_name(t.name, t.part, dialect), t.column_names, values)
    insert(conn, adapter_name("crosswalk", dialect),
           ("record_no", "table_name", "ref_key", "id"), new_xwalk)  # fmt: skip
    insert(conn, adapter_name("records", dialect),
           ("record_no", "institution", "record_id", "version", "content_hash", "mapping",
            "record_json", "source", "run_id", "deleted"), new_records)  # fmt: skip
    if changed:
        conn.execute(
            sa.text(
                f"UPDATE {adapter_name('records', dialect)} SET version = :version, "
                "content_hash = :hash, mapping = :mapping, record_json = :json, "
                "source = :source, run_id = :run, deleted = :deleted WHERE record_no = :no"
            ),
            changed,
        )
    if quarantine:
        conn.execute(
            sa.text(
                f"INSERT INTO {adapter_name('quarantine', dialect)} (run_id, source, location, "
                "institution, record_id, raw, raw_hash, findings) VALUES (:run_id, :source, "
                ":location, :institution, :record_id, :raw, :raw_hash, :findings) "
                "ON CONFLICT (source, location, raw_hash) DO NOTHING"
            ),
            quarantine,
        )


def load_records(
    target: Target,
    items: Iterable[Incoming],
    *,
    pseudonym: Pseudonymiser,
    source: str,
    terminology: Any = None,
    to_omop: ToOmop | None = None,
    rules: RuleConfig | None = RuleConfig(),  # noqa: B008 (frozen, shared on purpose)
    chunk_size: int = CHUNK_SIZE,
    on_chunk: Callable[[int, LoadReport], None] | None = None,
    track: bool = False,
    create_only: Iterable[str] = (),
) -> LoadReport:
    """Load `items` (see adapter.stores.incoming) in chunk transactions; returns the counts.

    `rules=None` skips the eligibility rules (the mapping's own error findings still reject).
    `on_chunk(n, report)` runs after chunk n has committed: progress bars, and the tests that
    kill a load between chunks. `track` and `create_only`: see the module docstring.
    """
    if terminology is None:
        from adapter.terminology.service import Terminology

        terminology = Terminology.load()
    maps: dict[str, str] = dict(getattr(terminology, "versions", {}))
    maps_digest = hashlib.sha256(orjson.dumps(maps, option=orjson.OPT_SORT_KEYS)).hexdigest()
    maps_label = f"sha256:{maps_digest[:12]} ({len(maps)} maps)"
    started = time.perf_counter()
    with engine_for(target) as engine:
        with engine.begin() as conn:
            run_id = start_run(conn, "load", {"source": source})
        report = LoadReport(run_id, outcomes={} if track else None)
        run = _Run(run_id, source, mapping_fingerprint(maps, pseudonym.fingerprint), pseudonym,
                   terminology, to_omop or default_to_omop(), rules, DbResolver(terminology),
                   report.unmapped, Collector(terminology, pseudonym),
                   frozenset(create_only))  # fmt: skip
        for number, chunk in enumerate(chunks(items, chunk_size), start=1):
            with engine.begin() as conn:
                _chunk(conn, run, chunk, report)
            if on_chunk is not None:
                on_chunk(number, report)
        report.seconds = time.perf_counter() - started
        with engine.begin() as conn:
            lock(conn)  # CDM_SOURCE is deleted and written again: one writer at a time
            details = {"source": source, "maps": maps, "maps_label": maps_label,
                       "vocabulary_version": vocabulary_version(conn),
                       "counts": report.counts(), "rows": report.rows,
                       "unmapped": report.unmapped.total(),
                       "unmapped_codes": dict(report.unmapped.most_common(100))}  # fmt: skip
            if report.changed_cdm or _cdm_source_empty(conn):
                write_cdm_source(conn, run_id, maps_label, report.counts())
            finish_run(conn, run_id, details)
    return report


def _cdm_source_empty(conn: Connection) -> bool:
    name = qualified_name("cdm_source", "cdm", dialect_of(conn))
    return int(conn.execute(sa.text(f"SELECT count(*) FROM {name}")).scalar_one()) == 0
