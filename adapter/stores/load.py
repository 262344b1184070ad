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
loads of the same records (the API's writers) end in one set of rows (the mapping runs before
the lock on what the committed state says is new or changed; under the lock the state is
read again and decides); with `track=True` the
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
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapter.errors import Finding, Level
from adapter.mds.record import MdsRecord
from adapter.mds.rules import RuleConfig, check_record
from adapter.omop.rows import OmopRows
from adapter.omop.schema import Dialect, qualified_name
from adapter.sources.jsonl import dumps
from adapter.stores.bulk import Statement, dialect_of, run_many
from adapter.stores.concepts import DbResolver, resolved_codes
from adapter.stores.incoming import Incoming, Tombstone, chunks, quarantine_row
from adapter.stores.load_report import LoadReport, Outcome
from adapter.stores.load_write import Mapped, Part, delete_rows, write_chunk
from adapter.stores.omop_db import Target, engine_for
from adapter.stores.pseudonym import Pseudonymiser
from adapter.stores.record_store import (
    Stored,
    lock,
    stored,
    stored_rows,
    stored_statement,
)
from adapter.stores.runs import (
    finish_run,
    interrupt_run,
    mapping_fingerprint,
    mark_stale_runs,
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
UNMAPPED = ("omop.unmapped-code", "omop.concept-not-in-vocabulary")
"""Findings of a code written without its concept: the first is a map's gap (the worklist
takes it), the second the loaded vocabulary's (a full Athena load fills it)."""
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


def _map(run: _Run, record: MdsRecord) -> tuple[OmopRows, list[Finding], list[Finding]]:
    """The rules and `to_omop`: rows, error findings, and the mapping's findings to note."""
    findings = check_record(record, run.rules) if run.rules is not None else []
    errors = [f for f in findings if f.level is Level.ERROR]
    if errors:
        return {}, errors, []
    rows, mapped = run.to_omop(record, run.terminology, pseudonym=run.pseudonym,
                               resolve=run.resolve)  # fmt: skip
    errors = [f for f in mapped if f.level is Level.ERROR]
    return rows, errors, [] if errors else mapped


def _noted(run: _Run, record: MdsRecord, mapped: list[Finding]) -> None:
    """Count a written record's unmapped codes (run and worklist)."""
    run.unmapped.update("-".join(str(v or "") for v in f.values) for f in mapped
                        if f.code in UNMAPPED)  # fmt: skip
    run.worklist.note(record, mapped)


def _is_unchanged(run: _Run, location: str, previous: Stored | None, digest: str) -> bool:
    return (
        previous is not None
        and not previous.deleted
        and (location in run.create_only
             or (previous.content_hash == digest and previous.mapping == run.mapping))
    )  # fmt: skip


def _known(conn: Connection, chunk: Sequence[Incoming]) -> dict[tuple[str, str], Stored]:
    return _by_key(stored(conn, {i.record_id for i in chunk if i.record_id is not None}))


def _known_statement(dialect: Dialect, chunk: Sequence[Incoming]) -> Statement:
    """`_known` as a statement to send with others; `_by_key(stored_rows(rows))` reads it."""
    return stored_statement(dialect, [i.record_id for i in chunk if i.record_id is not None])


def _by_key(found: Iterable[Stored]) -> dict[tuple[str, str], Stored]:
    return {(s.institution, s.record_id): s for s in found}


def _committed_state(
    conn: Connection, resolve: DbResolver, chunk: Sequence[Incoming]
) -> dict[tuple[str, str], Stored]:
    """Before the lock: the concepts the chunk's records will ask for (into `resolve`) and
    the committed state of its records, in one round trip on PostgreSQL (bulk.run_many)."""
    codes = resolved_codes(i.item for i in chunk if isinstance(i.item, MdsRecord))
    *concepts, committed = run_many(conn, [*resolve.prefetch_statements(conn, codes),
                                           _known_statement(dialect_of(conn), chunk)])  # fmt: skip
    resolve.prefetched(concepts)
    return _by_key(stored_rows(committed))


_Early = tuple[bytes, str, OmopRows, list[Finding], list[Finding]]
"""A record mapped before the lock: its line, content hash, rows, errors, findings to note."""


def _premap(conn: Connection, run: _Run, chunk: list[Incoming]) -> dict[str, _Early]:
    """Map, before the lock, the records the store's committed state says need it.

    Nothing here is decided: the chunk reads the stored state again under the lock, maps what
    this guess missed and drops what it mapped in vain, so writers serialise only on the
    decisions, the id allocation and the inserts."""
    return _map_needed(run, chunk, _committed_state(conn, run.resolve, chunk))


def _map_needed(
    run: _Run, chunk: list[Incoming], known: dict[tuple[str, str], Stored]
) -> dict[str, _Early]:
    """`_premap` once the concepts are fetched and the stored state read."""
    out: dict[str, _Early] = {}
    for incoming in chunk:
        item = incoming.item
        if not isinstance(item, MdsRecord):
            continue
        line, digest = _line(item)
        previous = known.get((item.institution or "", item.record_id))
        if not _is_unchanged(run, incoming.location, previous, digest):
            out[incoming.location] = (line, digest, *_map(run, item))
    return out


def _line(record: MdsRecord) -> tuple[bytes, str]:
    line = dumps(record)
    return line, hashlib.sha256(line).hexdigest()


def _chunk(conn: Connection, run: _Run, chunk: list[Incoming], report: LoadReport) -> None:
    """One chunk in the caller's transaction (see the module docstring for the cases)."""
    premapped = _premap(conn, run, chunk)
    lock(conn)
    part = _decide(run, chunk, report, premapped, _known(conn, chunk))
    run.worklist.flush(conn)
    write_chunk(conn, [part])


def _decide(
    run: _Run,
    chunk: list[Incoming],
    report: LoadReport,
    premapped: dict[str, _Early],
    known: dict[tuple[str, str], Stored],
) -> Part:
    """The chunk's decisions on the stored state `known` (read under the lock): what to write,
    delete and quarantine. Maps what `premapped` lacks; notes unmapped codes in the worklist."""
    mapped: list[Mapped] = []
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
            early = premapped.get(incoming.location)
            line, digest = (early[0], early[1]) if early else _line(item)
            previous = known.get((item.institution or "", item.record_id))
            if previous is not None and _is_unchanged(run, incoming.location, previous, digest):
                report.unchanged += 1
                report.note(incoming.location, "unchanged", previous.version)
                continue
            rows, errors, noted = (early[2], early[3], early[4]) if early else _map(run, item)
            if not errors:
                _noted(run, item, noted)
            if errors:
                quarantine.append(quarantine_row(run.run_id, run.source, incoming, errors))
                report.note(incoming.location, "rejected")
            else:
                mapped.append(Mapped(incoming.location, item, line, digest, previous, rows))
    report.rejected += len(quarantine)
    report.rejected_ids += [q["record_id"] or q["location"] for q in quarantine]
    return Part(run, report, mapped, gone, quarantine)


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
    terminology, maps, maps_label = _maps(terminology)
    started = time.perf_counter()
    with engine_for(target) as engine:
        with engine.begin() as conn:
            mark_stale_runs(conn)
            run_id = start_run(conn, "load", {"source": source})
        report = LoadReport(run_id, outcomes={} if track else None)
        run = _new_run(report, source, maps, pseudonym, terminology, to_omop, rules, create_only)
        try:
            for number, chunk in enumerate(chunks(items, chunk_size), start=1):
                with engine.begin() as conn:
                    _chunk(conn, run, chunk, report)
                if on_chunk is not None:
                    on_chunk(number, report)
        except BaseException as exc:  # Ctrl-C, SIGTERM (SystemExit), a failing chunk
            _interrupted(engine, run_id, source, maps, maps_label, report, exc)
            raise
        report.seconds = time.perf_counter() - started
        with engine.begin() as conn:
            lock(conn)  # CDM_SOURCE is deleted and written again: one writer at a time
            details = _details(source, maps, maps_label, vocabulary_version(conn), report)
            if report.changed_cdm or _cdm_source_empty(conn):
                write_cdm_source(conn, run_id, maps_label, report.counts())
            finish_run(conn, run_id, details)
    return report


def _interrupted(engine: Any, run_id: int, source: str, maps: dict[str, str], label: str,
                 report: LoadReport, exc: BaseException) -> None:  # fmt: skip
    """Say in the run row that the load stopped, with what it had committed by then; a
    database that is gone too leaves the run "running" (the next load marks it stale)."""
    details = {**_details(source, maps, label, "", report), "stopped_by": type(exc).__name__}
    try:
        with engine.begin() as conn:
            interrupt_run(conn, run_id, details)
    except Exception:
        return


def _maps(terminology: Any) -> tuple[Any, dict[str, str], str]:
    """The terminology (loaded when None), its map versions and their short label."""
    if terminology is None:
        from adapter.terminology.service import Terminology

        terminology = Terminology.load()
    maps: dict[str, str] = dict(getattr(terminology, "versions", {}))
    digest = hashlib.sha256(orjson.dumps(maps, option=orjson.OPT_SORT_KEYS)).hexdigest()
    return terminology, maps, f"sha256:{digest[:12]} ({len(maps)} maps)"


def _new_run(
    report: LoadReport,
    source: str,
    maps: dict[str, str],
    pseudonym: Pseudonymiser,
    terminology: Any,
    to_omop: ToOmop | None,
    rules: RuleConfig | None,
    create_only: Iterable[str],
) -> _Run:
    return _Run(report.run_id, source, mapping_fingerprint(maps, pseudonym.fingerprint),
                pseudonym, terminology, to_omop or default_to_omop(), rules,
                DbResolver(terminology), report.unmapped, Collector(terminology, pseudonym),
                frozenset(create_only))  # fmt: skip


def _details(
    source: str, maps: dict[str, str], label: str, vocabulary: str, report: LoadReport
) -> dict[str, Any]:
    """The run row's details at its end."""
    return {"source": source, "maps": maps, "maps_label": label,
            "vocabulary_version": vocabulary, "counts": report.counts(), "rows": report.rows,
            "unmapped": report.unmapped.total(),
            "unmapped_codes": dict(report.unmapped.most_common(100))}  # fmt: skip


def _cdm_source_empty(conn: Connection) -> bool:
    name = qualified_name("cdm_source", "cdm", dialect_of(conn))
    return int(conn.execute(sa.text(f"SELECT count(*) FROM {name}")).scalar_one()) == 0
