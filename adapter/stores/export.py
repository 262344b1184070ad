"""Read MDS records back out of the OMOP database: CDM rows → `from_omop` → MdsRecord.

The CDM holds pseudonyms only, so what ties rows to a record is the crosswalk in the adapter
part: for a page of live records (in record_no order, i.e. the order they were first loaded),
the crosswalk names every id each record owns; the rows are read table by table with those ids
(key-less tables through their owner's ids) and handed to `from_omop` with the record id from
the store. The mapping relies only on id equality, so database integers serve as well as Refs.

`stored_records(..., since=t)` keeps the records written by a run that was still running or
finished at or after `t` (a record's row names the run that last wrote it; runs log their start
and end, adapter/stores/runs.py): Bulk Data `$export`'s `_since`, erring on the side of
including a record rather than missing one.

The whole export reads one snapshot (REPEATABLE READ on PostgreSQL; SQLite reads in one
transaction), so a load running meanwhile never shows half a record.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapter.errors import Finding
from adapter.mds.record import MdsRecord
from adapter.omop.rows import SHARED_TABLES, OmopRows
from adapter.omop.schema import table
from adapter.stores.bulk import (
    KEYLESS_OWNERS,
    any_of,
    dialect_of,
    owner_column,
    read_where,
    text_list,
)
from adapter.stores.omop_db import Target, engine_for
from adapter.stores.record_store import adapter_name, crosswalk
from adapter.stores.runs import RUNNING

__all__ = [
    "PAGE_SIZE",
    "FromOmop",
    "add_shared_rows",
    "count_stored",
    "default_from_omop",
    "export_records",
    "snapshot",
    "stored_records",
    "with_institution",
]

PAGE_SIZE = 500
FromOmop = Callable[..., MdsRecord | Finding]
"""`from_omop(rows, terminology, record_id=...)`, as adapter.omop provides it."""


def default_from_omop() -> FromOmop:
    """The real mapping, imported late so the store works (and is tested) without it."""
    from adapter import omop

    found: FromOmop = omop.from_omop  # type: ignore[attr-defined,unused-ignore]
    return found


def _live(
    conn: Connection, since: datetime | None, institutions: Collection[str] | None = None
) -> tuple[str, dict[str, Any]]:
    """The WHERE clause of live records (written since `since`, of `institutions` when given)
    and its parameters."""
    dialect = dialect_of(conn)
    clause, params = "deleted = :no", {"no": False}
    if institutions is not None:
        clause += f" AND {any_of(dialect, 'institution', 'institutions')}"
        params["institutions"] = text_list(dialect, sorted(institutions))
    if since is None:
        return clause, params
    runs = adapter_name("runs", dialect)
    at = since.astimezone(UTC)
    clause += (f" AND run_id IN (SELECT run_id FROM {runs} WHERE finished_at >= :since "
               "OR details LIKE :running)")  # fmt: skip
    return clause, {**params, "since": at if dialect == "postgresql" else at.isoformat(),
                    "running": RUNNING}  # fmt: skip


def _pages(
    conn: Connection,
    size: int,
    columns: str,
    since: datetime | None = None,
    institutions: Collection[str] | None = None,
) -> Iterator[list[Any]]:
    """Live records in record_no order, `size` at a time (keyset pagination)."""
    name = adapter_name("records", dialect_of(conn))
    where, params = _live(conn, since, institutions)
    query = sa.text(
        f"SELECT record_no, {columns} FROM {name} WHERE {where} AND record_no > :after "
        "ORDER BY record_no LIMIT :size"
    )
    after = 0
    while page := list(conn.execute(query, {**params, "after": after, "size": size})):
        yield page
        after = int(page[-1][0])


def count_stored(
    conn: Connection, since: datetime | None = None, institutions: Collection[str] | None = None
) -> int:
    """How many live records `stored_records` would give."""
    where, params = _live(conn, since, institutions)
    name = adapter_name("records", dialect_of(conn))
    return int(conn.execute(sa.text(f"SELECT count(*) FROM {name} WHERE {where}"),
                            params).scalar_one())  # fmt: skip


def _rows_of(conn: Connection, record_nos: list[int]) -> dict[int, OmopRows]:
    """The CDM rows of each record, found through its crosswalk ids."""
    dialect = dialect_of(conn)
    owner: dict[tuple[str, int], int] = {}
    ids: dict[str, list[int]] = {}
    for e in crosswalk(conn, record_nos):
        if e.table_name in SHARED_TABLES:  # a record of an older layout owned its care site
            continue
        owner[(e.table_name, e.id)] = e.record_no
        ids.setdefault(e.table_name, []).append(e.id)
    out: dict[int, OmopRows] = {no: {} for no in record_nos}
    lookups = [(name, owner_column(table(name, dialect))[0], name) for name in ids]
    lookups += [(name, column, owning) for name, (column, owning) in KEYLESS_OWNERS.items()
                if owning in ids]  # fmt: skip
    for name, column, owning in lookups:
        for row in read_where(conn, name, column, ids[owning]):
            out[owner[(owning, row[column])]].setdefault(name, []).append(row)
    add_shared_rows(conn, out)
    return out


def add_shared_rows(conn: Connection, out: dict[int, OmopRows]) -> None:
    """Each owner's (record's or person's) CARE_SITE and LOCATION: shared rows, found through
    the PERSON.care_site_id of the person rows `out` already holds, one query per table."""
    users: dict[Any, list[int]] = {}
    for no, rows in out.items():
        for person in rows.get("person", ()):
            if person.get("care_site_id") is not None:
                users.setdefault(person["care_site_id"], []).append(no)
    places: dict[Any, list[int]] = {}
    for site in read_where(conn, "care_site", "care_site_id", sorted(users)):
        for no in users[site["care_site_id"]]:
            out[no].setdefault("care_site", []).append(site)
        if site.get("location_id") is not None:
            places.setdefault(site["location_id"], []).extend(users[site["care_site_id"]])
    for place in read_where(conn, "location", "location_id", sorted(places)):
        for no in places[place["location_id"]]:
            out[no].setdefault("location", []).append(place)


@contextmanager
def snapshot(target: Target) -> Iterator[Connection]:
    """One transaction that sees one state of the database for a whole export: REPEATABLE READ
    on PostgreSQL (a load committing meanwhile stays invisible); SQLite's transaction holds
    its lock, so nothing commits meanwhile."""
    with engine_for(target) as engine:
        pg = engine.dialect.name == "postgresql"
        options: dict[str, Any] = {"isolation_level": "REPEATABLE READ"} if pg else {}
        with engine.connect().execution_options(**options) as conn, conn.begin():
            yield conn


def export_records(
    target: Target,
    *,
    terminology: Any = None,
    from_omop: FromOmop | None = None,
    page_size: int = PAGE_SIZE,
) -> Iterator[MdsRecord | Finding]:
    """Every live record, rebuilt from the CDM, in first-load order; a Finding when one cannot."""
    if terminology is None:
        from adapter.terminology.service import Terminology

        terminology = Terminology.load()
    read = from_omop or default_from_omop()
    with snapshot(target) as conn:
        for page in _pages(conn, page_size, "record_id, institution"):
            rows = _rows_of(conn, [int(r[0]) for r in page])
            for record_no, record_id, institution in page:
                found = read(rows[int(record_no)], terminology, record_id=record_id)
                yield with_institution(found, institution)


def with_institution(found: MdsRecord | Finding, institution: str) -> MdsRecord | Finding:
    """The store, not the CDM, knows the institution (the CDM must not hold its name)."""
    if isinstance(found, Finding) or found.institution is not None or not institution:
        return found
    return found.model_copy(update={"institution": institution})


def stored_records(
    target: Target,
    *,
    page_size: int = PAGE_SIZE,
    since: datetime | None = None,
    institutions: Collection[str] | None = None,
) -> Iterator[MdsRecord]:
    """Every live record as the store kept it (its canonical JSON), in first-load order; only
    those of `institutions` when given."""
    with snapshot(target) as conn:
        for page in _pages(conn, page_size, "record_json", since, institutions):
            for _, document in page:
                yield MdsRecord.model_validate_json(document)
