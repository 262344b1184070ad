"""MDS records from the CDM rows themselves, person by person: what `export --from cdm` reads.

`export_records` finds a record's rows through the crosswalk, so it sees what the record store
says each record owns. Here the CDM is the source of truth: persons are read in person_id order,
`page_size` at a time, and each table of `PERSON_TABLES` gives the rows of a page's persons in
one query (`person_id IN …`); EPISODE_EVENT comes through the page's episode ids, CARE_SITE
through the persons' care_site_id and LOCATION through those care sites' location_id. So a care
site shared by many persons (one per institution) is read once a page and handed to each of
them, whichever record (if any) owns it, and rows no record owns (another ETL's) are read too.
Memory holds one page. Rows are ordered by their key, so the output does not depend on where a
database happens to keep them.

Who each person is: the CDM holds pseudonyms only. When the record store exists (a database
loaded by this adapter), the crosswalk names the record of each person id and the record's clear
id and institution are put back, as `export_records` does. `pseudonymous=True` uses the CDM
alone, the form a de-identified CDM gives: person_source_value as the record id (the person_id
when it is empty) and no institution. A person the store does not know is read that way too,
with a warning.

A person whose rows do not make a valid record is one error Finding that names its person_id;
the reading goes on with the next person.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapter.errors import Finding, Level
from adapter.mds.record import MdsRecord
from adapter.omop.rows import OmopRows
from adapter.omop.schema import qualified_name, table
from adapter.stores.bulk import dialect_of, read_where
from adapter.stores.export import (
    PAGE_SIZE,
    FromOmop,
    add_shared_rows,
    default_from_omop,
    with_institution,
)
from adapter.stores.record_store import adapter_name

__all__ = ["PERSON_TABLES", "count_persons", "person_records"]

PERSON_TABLES = (
    "observation_period", "condition_occurrence", "procedure_occurrence", "measurement",
    "observation", "death", "episode", "condition_era",
)  # fmt: skip
"""The tables besides PERSON whose rows the mapping writes with a person_id (a test holds this
against what `to_omop` writes, so a table the mapping starts using is not silently left out)."""

_Clear = tuple[str, str]
"""(record_id, institution) as the record store keeps them."""


def count_persons(conn: Connection) -> int:
    """How many persons `person_records` reads (a progress bar's total)."""
    name = qualified_name("person", "cdm", dialect_of(conn))
    return int(conn.execute(sa.text(f"SELECT count(*) FROM {name}")).scalar_one())


def person_records(
    conn: Connection,
    terminology: Any = None,
    *,
    from_omop: FromOmop | None = None,
    pseudonymous: bool = False,
    page_size: int = PAGE_SIZE,
) -> Iterator[MdsRecord | Finding]:
    """Each person's record (or an error Finding), in person_id order, with warnings before
    the records they concern. Read inside `export.snapshot` for one state of the database."""
    if terminology is None:
        from adapter.terminology.service import Terminology

        terminology = Terminology.load()
    read = from_omop or default_from_omop()
    clear_ids = not pseudonymous and _has_store(conn)
    for page in _pages(conn, page_size):
        persons = {p["person_id"]: p for p in read_where(conn, "person", "person_id", page)}
        rows = _rows_of(conn, persons)
        clear = _clear(conn, page) if clear_ids else {}
        for person_id in page:
            known = clear.get(person_id)
            if clear_ids and known is None:
                yield Finding("export.not-in-store", Level.WARNING,
                              "the record store does not know this person: exported with its "
                              "person_source_value and no institution",
                              location=f"person_id {person_id}")  # fmt: skip
            yield _record(read, terminology, persons[person_id], rows[person_id], known)


def _record(
    read: FromOmop, terminology: Any, person: dict[str, Any], rows: OmopRows, known: _Clear | None
) -> MdsRecord | Finding:
    person_id = person["person_id"]
    record_id = known[0] if known else person.get("person_source_value") or str(person_id)
    try:
        found = read(rows, terminology, record_id=record_id)
    except Exception as exc:  # a mapping that trips over odd rows must not end the export
        found = Finding("omop.unreadable", Level.ERROR,
                        f"the rows could not be read: {type(exc).__name__}: {exc}")  # fmt: skip
    if isinstance(found, Finding):
        return replace(found, location=f"person_id {person_id}", record_id=record_id)
    if known is not None:
        return with_institution(found, known[1])
    if found.institution is not None:  # only what the CDM holds, and it must not hold this
        return found.model_copy(update={"institution": None})
    return found


def _pages(conn: Connection, size: int) -> Iterator[list[int]]:
    """Person ids in order, `size` at a time (keyset pagination)."""
    name = qualified_name("person", "cdm", dialect_of(conn))
    first = sa.text(f"SELECT person_id FROM {name} ORDER BY person_id LIMIT :size")
    after = sa.text(
        f"SELECT person_id FROM {name} WHERE person_id > :after ORDER BY person_id LIMIT :size"
    )
    page = [int(r[0]) for r in conn.execute(first, {"size": size})]
    while page:
        yield page
        page = [int(r[0]) for r in conn.execute(after, {"after": page[-1], "size": size})]


def _rows_of(conn: Connection, persons: dict[int, dict[str, Any]]) -> dict[int, OmopRows]:
    """The rows of each person: one query per table for the whole page."""
    out: dict[int, OmopRows] = {p: {"person": [row]} for p, row in persons.items()}
    for name in PERSON_TABLES:
        _hand_out(out, name, read_where(conn, name, "person_id", list(persons)),
                  lambda row: [row["person_id"]])  # fmt: skip
    owner = {e["episode_id"]: p for p, rows in out.items() for e in rows.get("episode", ())}
    _hand_out(out, "episode_event", read_where(conn, "episode_event", "episode_id", list(owner)),
              lambda row: [owner[row["episode_id"]]])  # fmt: skip
    add_shared_rows(conn, out)
    return out


def _hand_out(
    out: dict[int, OmopRows],
    name: str,
    rows: Iterable[dict[str, Any]],
    persons_of: Callable[[dict[str, Any]], list[int]],
) -> None:
    """Give each row to its persons (a shared row is the same dict for each), in key order."""
    for row in sorted(rows, key=_sort_key(name)):
        for p in persons_of(row):
            out[p].setdefault(name, []).append(row)


def _sort_key(name: str) -> Callable[[dict[str, Any]], Any]:
    """A row's id; a key-less row's values (NULLs first), so equal rows need no tiebreak."""
    key = table(name, "sqlite").primary_key
    if len(key) == 1:
        return lambda row: row[key[0]]
    return lambda row: tuple((v is not None, v) for v in row.values())


def _has_store(conn: Connection) -> bool:
    """Whether the adapter's record store is there (a CDM loaded by this adapter)."""
    if dialect_of(conn) == "postgresql":
        return sa.inspect(conn).has_table("records", schema="adapter")
    return sa.inspect(conn).has_table(adapter_name("records", "sqlite"))


def _clear(conn: Connection, person_ids: Sequence[int]) -> dict[int, _Clear]:
    """The clear record id and institution of each person the store has a live record of."""
    dialect = dialect_of(conn)
    query = sa.text(
        "SELECT c.id, r.record_id, r.institution "
        f"FROM {adapter_name('crosswalk', dialect)} c "
        f"JOIN {adapter_name('records', dialect)} r ON r.record_no = c.record_no "
        "WHERE c.table_name = :person AND r.deleted = :no AND c.id IN :ids"
    ).bindparams(sa.bindparam("ids", expanding=True))
    found = conn.execute(query, {"person": "person", "no": False, "ids": list(person_ids)})
    return {int(r[0]): (r[1], r[2]) for r in found}
