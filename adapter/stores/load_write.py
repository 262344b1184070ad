"""The write half of a load chunk: crosswalk ids, CDM rows, record store rows, quarantine.

Split from adapter/stores/load.py, which decides per record what to write (under the record
store lock) and calls `write_chunk` with the result, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapter.mds.record import MdsRecord
from adapter.omop.rows import SHARED_TABLES, OmopRows, Ref
from adapter.omop.schema import Dialect, qualified_name, table
from adapter.stores.bulk import (
    KEYLESS_OWNERS,
    dialect_of,
    insert_tables,
    owner_column,
    read_where,
)
from adapter.stores.load_report import LoadReport
from adapter.stores.record_store import (
    RECORD_NO,
    CrosswalkEntry,
    Stored,
    adapter_name,
    allocate,
    crosswalk,
)

__all__ = ["SHARED_OWNER", "Mapped", "Part", "RunInfo", "delete_rows", "write_chunk"]

SHARED_OWNER = 0
"""The crosswalk's record_no for rows no record owns (rows.SHARED_TABLES: one CARE_SITE per
institution, one LOCATION per country). Records are numbered from 1."""


class RunInfo(Protocol):
    """What the written rows name of their load run (adapter.stores.load's run)."""

    @property
    def run_id(self) -> int: ...
    @property
    def source(self) -> str: ...
    @property
    def mapping(self) -> str: ...


@dataclass(slots=True)
class Mapped:
    """A record to write: where it came from, its canonical line and hash, its rows."""

    location: str
    record: MdsRecord
    line: bytes
    content_hash: str
    previous: Stored | None
    rows: OmopRows


@dataclass(slots=True)
class Part:
    """What one load run decided for (part of) a chunk: the records to write, the records to
    delete, the quarantine rows; counts and outcomes go to its own report. Several runs' parts
    are written by one `write_chunk` (the API's group commit)."""

    run: RunInfo
    report: LoadReport
    mapped: list[Mapped]
    gone: list[Stored]
    quarantine: list[dict[str, Any]]


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


def _shared(
    conn: Connection, parts: Sequence[Part]
) -> tuple[dict[tuple[int, str, str], int], set[tuple[str, int]]]:
    """The crosswalk ids of the shared rows these parts name, and which of those ids have
    their row in the CDM now (a shared row no person used any more was dropped; its id stays
    in the crosswalk, so a record coming back gets the same one)."""
    keys = {(ref.table, ref.key) for part in parts for m in part.mapped
            for name in SHARED_TABLES for row in m.rows.get(name, ())
            for ref in row.values() if ref.__class__ is Ref and ref.table == name}  # fmt: skip
    if not keys:
        return {}, set()
    found: dict[tuple[int, str, str], int] = {}
    for e in crosswalk(conn, [SHARED_OWNER]):
        if (e.table_name, e.ref_key) in keys:
            found[(SHARED_OWNER, e.table_name, e.ref_key)] = e.id
    present: set[tuple[str, int]] = set()
    for name in sorted(SHARED_TABLES):
        ids = [i for (_, t, _), i in found.items() if t == name]
        column = owner_column(table(name, dialect_of(conn)))[0]
        present |= {(name, int(row[column])) for row in read_where(conn, name, column, ids)}
    return found, present


def _new_shared(name: str, rows: list[dict[str, Any]], resolved: dict[Ref, int],
                present: set[tuple[str, int]],
                located: dict[int, int]) -> list[dict[str, Any]]:  # fmt: skip
    """The shared rows not in the CDM yet; `present` grows with those this chunk writes. A
    care site's location, when this record gives one, goes to `located` (care_site_id →
    location_id): the store fills it in where the care site has none yet."""
    column = owner_column(table(name, "sqlite"))[0]
    out = []
    for row in rows:
        key = (name, resolved[row[column]])
        if name == "care_site" and row.get("location_id") is not None:
            located.setdefault(key[1], resolved[row["location_id"]])
        if key not in present:
            present.add(key)
            out.append(row)
    return out


def _fill_locations(conn: Connection, located: dict[int, int]) -> None:
    """A care site first written without a country gets the first one a record gives."""
    if not located:
        return
    dialect = dialect_of(conn)
    t = table("care_site", dialect)
    conn.execute(
        sa.text(f"UPDATE {qualified_name(t.name, t.part, dialect)} SET location_id = :location "
                "WHERE care_site_id = :site AND location_id IS NULL"),
        [{"site": site, "location": place} for site, place in sorted(located.items())],
    )  # fmt: skip


def _drop_unused_shared(conn: Connection, care_sites: bool) -> None:
    """Delete the shared rows nothing points at any more: care sites no person uses (after a
    record was deleted, moved institution, or a new pseudonym key re-keyed the care sites:
    `care_sites`, since that reads PERSON), and locations no care site uses (a country written
    by a record whose institution's care site has another). Their crosswalk entries stay (ids
    are never reused)."""
    dialect = dialect_of(conn)
    xwalk = adapter_name("crosswalk", dialect)
    jobs = [("care_site", "care_site_id", "person")] if care_sites else []
    jobs.append(("location", "location_id", "care_site"))
    for name, column, user in jobs:
        shared, using = table(name, dialect), table(user, dialect)
        target = qualified_name(shared.name, shared.part, dialect)
        users = qualified_name(using.name, using.part, dialect)
        conn.execute(sa.text(
            f"DELETE FROM {target} WHERE {column} IN (SELECT id FROM {xwalk} "
            f"WHERE record_no = {SHARED_OWNER} AND table_name = '{name}') AND {column} NOT IN "
            f"(SELECT {column} FROM {users} WHERE {column} IS NOT NULL)"
        ))  # fmt: skip


def write_chunk(conn: Connection, parts: Sequence[Part]) -> None:
    """Write the parts in the caller's transaction, under the record store lock: the old rows
    of changed and deleted records out, ids for new refs, every table's rows in one batch."""
    dialect = dialect_of(conn)
    olds = [m.previous.record_no for p in parts for m in p.mapped if m.previous is not None]
    olds += [s.record_no for p in parts for s in p.gone]
    entries = crosswalk(conn, olds)
    delete_rows(conn, entries)
    ids = {(e.record_no, e.table_name, e.ref_key): e.id for e in entries}
    shared_ids, present = _shared(conn, parts)
    ids.update(shared_ids)
    located: dict[int, int] = {}
    need: dict[str, int] = {RECORD_NO: sum(m.previous is None for p in parts for m in p.mapped)}
    plan: list[tuple[Part, Mapped, list[Ref]]] = []
    wanted: set[tuple[int, str, str]] = set()
    for part in parts:
        for m in part.mapped:
            refs = _refs(m.rows)
            plan.append((part, m, refs))
            for ref in refs:
                if ref.table in SHARED_TABLES:
                    key = (SHARED_OWNER, ref.table, ref.key)
                    if key not in ids and key not in wanted:
                        wanted.add(key)
                        need[ref.table] = need.get(ref.table, 0) + 1
                elif m.previous is None or (m.previous.record_no, ref.table, ref.key) not in ids:
                    need[ref.table] = need.get(ref.table, 0) + 1
    next_id = allocate(conn, need)
    new_xwalk: list[tuple[int, str, str, int]] = []
    out: dict[str, list[tuple[Any, ...]]] = {}
    new_records: list[tuple[Any, ...]] = []
    changed: list[dict[str, Any]] = []
    for part, m, refs in plan:
        run, report = part.run, part.report
        if m.previous is None:
            record_no = next_id[RECORD_NO]
            next_id[RECORD_NO] += 1
        else:
            record_no = m.previous.record_no
        resolved: dict[Ref, int] = {}
        for ref in refs:
            owner = SHARED_OWNER if ref.table in SHARED_TABLES else record_no
            key = (owner, ref.table, ref.key)
            if key not in ids:
                ids[key] = next_id[ref.table]
                next_id[ref.table] += 1
                new_xwalk.append((*key, ids[key]))
            resolved[ref] = ids[key]
        for name, table_rows in m.rows.items():
            index = _column_index(name, dialect)
            target = out.setdefault(name, [])
            if name in SHARED_TABLES:
                table_rows = _new_shared(name, table_rows, resolved, present, located)
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
            report.rows += len(table_rows)
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
    for part in parts:
        part.report.deleted += len(part.gone)
        changed += [{"no": s.record_no, "version": s.version + 1, "hash": None,
                     "mapping": s.mapping, "json": None, "source": part.run.source,
                     "run": part.run.run_id, "deleted": True} for s in part.gone]  # fmt: skip
    batches: list[tuple[str, Sequence[str], Sequence[Sequence[Any]]]] = []
    for name, values in out.items():
        t = table(name, dialect)
        batches.append((qualified_name(t.name, t.part, dialect), t.column_names, values))
    batches.append((adapter_name("crosswalk", dialect),
                    ("record_no", "table_name", "ref_key", "id"), new_xwalk))  # fmt: skip
    batches.append((adapter_name("records", dialect),
                    ("record_no", "institution", "record_id", "version", "content_hash",
                     "mapping", "record_json", "source", "run_id", "deleted"),
                    new_records))  # fmt: skip
    insert_tables(conn, batches)
    _fill_locations(conn, located)
    if olds or out.get("location"):
        _drop_unused_shared(conn, care_sites=bool(olds))
    if changed:
        conn.execute(
            sa.text(
                f"UPDATE {adapter_name('records', dialect)} SET version = :version, "
                "content_hash = :hash, mapping = :mapping, record_json = :json, "
                "source = :source, run_id = :run, deleted = :deleted WHERE record_no = :no"
            ),
            changed,
        )
    quarantine = [q for part in parts for q in part.quarantine]
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
