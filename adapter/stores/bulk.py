"""Rows in and out of the database in bulk: COPY on PostgreSQL, executemany on SQLite.

Both paths take the raw driver connection of the SQLAlchemy connection they are given, so they
run inside the caller's transaction (a chunk of a load is one transaction: records, crosswalk
and CDM rows commit together or not at all). The speeds behind the choice are in the ecosystem
notes (1c, 5): psycopg COPY ≈ 180k rows/s against ≈ 30k for SQLAlchemy executemany; the stdlib
sqlite3 executemany ≈ 120k rows/s, 2× SQLAlchemy's.

Values: the mapping hands Python values (int, str, date, datetime, float, Decimal). SQLite gets
dates and datetimes as ISO text (as the vocabulary loader stores them, docs/adr/0002); reading
back turns each column into the Python type of its Field_Level datatype on both databases, so
what export reads from SQLite equals what it reads from PostgreSQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Any, cast

import orjson
import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapter.omop.schema import Dialect, Table, field_level, qualified_name, table

__all__ = [
    "KEYLESS_OWNERS",
    "Statement",
    "any_of",
    "dialect_of",
    "insert",
    "insert_tables",
    "owner_column",
    "read_where",
    "recordset_json",
    "run_many",
    "run_sql",
    "sqlite_value",
    "text_list",
    "typed_value",
]

KEYLESS_OWNERS: Mapping[str, tuple[str, str]] = {
    "death": ("person_id", "person"),
    "episode_event": ("episode_id", "episode"),
}
"""CDM tables without a primary key that a record may own: the column whose value is the id of
the owning row, and that row's table. A record's rows in these tables are found (to replace,
delete or export them) through the owner's ids. fact_relationship is left out on purpose: its
fact_id_1 means a different table per domain_concept_id_1, so it cannot be owned this simply."""


def dialect_of(conn: Connection) -> Dialect:
    return "postgresql" if conn.dialect.name == "postgresql" else "sqlite"


Params = Mapping[str, Any] | Sequence[Mapping[str, Any]]
Statement = tuple[str, Params]
"""SQL with `:name` parameters and its parameters (a sequence of sets: an executemany)."""


_NAMED = re.compile(r"(?<![:\w]):(\w+)")


@cache
def _pyformat(sql: str) -> str:
    """`:name` parameters as psycopg's `%(name)s` (a `::type` cast is left alone). Like
    SQLAlchemy's text(), it does not parse SQL: a `:word` inside a string literal or comment
    is taken for a parameter too, so the statements given here have none."""
    return _NAMED.sub(r"%(\1)s", sql.replace("%", "%%"))


def run_sql(conn: Connection, sql: str, params: Params) -> sa.CursorResult[*tuple[Any, ...]]:
    """Execute `sql` with `:name` parameters on the driver directly, in the caller's
    transaction; a sequence of parameter sets is an executemany.

    For the API writer's fixed statements: SQLAlchemy's `text()` parses the statement and
    processes every parameter on each call (~80 µs of a ~200 µs round trip); the driver needs
    neither. PostgreSQL gets `%(name)s` (converted once per text), SQLite takes `:name` as is.
    """
    text = _pyformat(sql) if dialect_of(conn) == "postgresql" else sql
    if isinstance(params, Mapping):
        return conn.exec_driver_sql(text, dict(params))
    return conn.exec_driver_sql(text, list(params))


def run_many(conn: Connection, statements: Sequence[Statement]) -> list[list[Sequence[Any]]]:
    """Run the statements in order in the caller's transaction; the rows of each (none for a
    statement that returns none).

    On PostgreSQL they go in one psycopg pipeline: one round trip for all of them, and the
    server runs them in order (a statement after `pg_advisory_xact_lock` starts once the lock
    is granted, with a snapshot taken then). SQLite runs them one by one (no round trips)."""
    if dialect_of(conn) != "postgresql":
        found: list[list[Sequence[Any]]] = []
        for sql, params in statements:
            result = run_sql(conn, sql, params)
            found.append(list(result) if result.returns_rows else [])
        return found
    pg = cast(psycopg.Connection[Any], conn.connection.driver_connection)
    cursors: list[psycopg.Cursor[Any]] = []
    with _as_sqlalchemy_errors(statements[0][0] if statements else ""):
        with pg.pipeline():
            for sql, params in statements:
                cursor = pg.cursor()
                cursors.append(cursor)
                if isinstance(params, Mapping):
                    cursor.execute(_pyformat(sql).encode(), dict(params))
                else:
                    cursor.executemany(_pyformat(sql).encode(), list(params))
        out = [cursor.fetchall() if cursor.description is not None else [] for cursor in cursors]
    for cursor in cursors:
        cursor.close()
    return out


@contextmanager
def _as_sqlalchemy_errors(statement: str) -> Iterator[None]:
    """psycopg's errors, raised by what talks to the driver directly, as the SQLAlchemy errors
    the rest of the code (and the API's 503 for a lost database) expects."""
    try:
        yield
    except psycopg.Error as exc:
        raise sa.exc.DBAPIError.instance(statement, None, exc, psycopg.Error) from exc


def any_of(dialect: Dialect, column: str, name: str) -> str:
    """`column` is one of the values of the parameter `name` (a list of text), with the same
    statement text whatever their number: PostgreSQL binds an array, SQLite a JSON array."""
    if dialect == "postgresql":
        return f"{column} = ANY(CAST(:{name} AS text[]))"
    return f"{column} IN (SELECT value FROM json_each(:{name}))"


def text_list(dialect: Dialect, values: Sequence[str]) -> Any:
    """The parameter value `any_of` expects for `values`."""
    return list(values) if dialect == "postgresql" else orjson.dumps(list(values)).decode()


def owner_column(t: Table) -> tuple[str, str]:
    """(column, table of the ids in it) by which a record's rows of `t` are found."""
    if len(t.primary_key) == 1:
        return t.primary_key[0], t.name
    if t.name in KEYLESS_OWNERS:
        return KEYLESS_OWNERS[t.name]
    raise ValueError(f"the record store cannot own rows of {t.name}: it has no single-column key")


def sqlite_value(value: Any) -> Any:
    """What the stdlib sqlite3 driver should store (its date adapters are deprecated)."""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


@cache
def _datatypes(table_name: str) -> dict[str, str]:
    return {f.name: f.datatype for f in field_level() if f.table == table_name}


def typed_value(datatype: str, value: Any) -> Any:
    """One database value as the Python type of its Field_Level datatype (same on both DBs)."""
    if value is None:
        return None
    if datatype == "date" and isinstance(value, str):
        return date.fromisoformat(value[:10])
    if datatype == "datetime" and isinstance(value, str):
        return datetime.fromisoformat(value)
    if datatype == "float":
        return float(value)
    if datatype == "integer":
        return int(value)
    return value


def insert(
    conn: Connection, name: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Append rows to the table `name` (qualified) inside the caller's transaction."""
    driver = conn.connection.driver_connection
    if dialect_of(conn) == "postgresql":
        pg = cast(psycopg.Connection[Any], driver)
        count = 0
        sql = f"COPY {name} ({', '.join(columns)}) FROM STDIN"
        with pg.cursor() as cursor, cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        return count
    marks = ", ".join("?" for _ in columns)
    cursor = cast(Any, driver).cursor()
    try:
        cursor.executemany(
            f"INSERT INTO {name} ({', '.join(columns)}) VALUES ({marks})",
            ([sqlite_value(v) for v in row] for row in rows),
        )
        return int(cursor.rowcount)
    finally:
        cursor.close()


PIPELINED_ROWS = 2000
"""Up to this many rows in all, `insert_tables` sends one INSERT per table in one psycopg
pipeline (one round trip for every table) instead of a COPY per table (two round trips each):
the API writes ~60 rows over ~12 tables per record, under the record store lock."""


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # exact: PostgreSQL reads numeric from the text
    raise TypeError(f"{type(value).__name__} is not a CDM value")


def recordset_json(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Rows as a JSON array of objects (NULL cells left out), for `json_populate_recordset`."""
    return orjson.dumps(
        [{c: v for c, v in zip(columns, row, strict=True) if v is not None} for row in rows],
        default=_json_default,
    ).decode()


def insert_tables(
    conn: Connection, batches: Sequence[tuple[str, Sequence[str], Sequence[Sequence[Any]]]]
) -> list[int]:
    """`insert` for several tables (qualified name, columns, rows); the count of each.

    On PostgreSQL, a small batch is one `INSERT … SELECT … FROM json_populate_recordset(…)`
    per table, all in one pipeline: each table's rows are one JSON parameter that orjson
    writes and the server parses, so the statement text is the same whatever the row count
    (prepared once) and the client's cost no longer grows by ~20 µs a row, as psycopg's
    executemany did (pipelined prepared INSERTs, one per row)."""
    wanted = [b for b in batches if b[2]]
    if dialect_of(conn) != "postgresql" or sum(len(b[2]) for b in wanted) > PIPELINED_ROWS:
        return [insert(conn, *b) if b[2] else 0 for b in batches]
    if not wanted:
        return [0 for _ in batches]
    pg = cast(psycopg.Connection[Any], conn.connection.driver_connection)
    with _as_sqlalchemy_errors(wanted[0][0]), pg.pipeline(), pg.cursor() as cursor:
        for name, columns, rows in wanted:
            names = ", ".join(columns)
            sql = (f"INSERT INTO {name} ({names}) SELECT {names} "
                   f"FROM json_populate_recordset(NULL::{name}, %s::json)")  # fmt: skip
            cursor.execute(sql.encode(), (recordset_json(columns, rows),), prepare=True)
    return [len(b[2]) for b in batches]


def read_where(
    conn: Connection, table_name: str, column: str, ids: Sequence[int]
) -> list[dict[str, Any]]:
    """The CDM rows of `table_name` whose `column` is one of `ids`, typed as Field_Level says."""
    if not ids:
        return []
    dialect = dialect_of(conn)
    t = table(table_name, dialect)
    types = _datatypes(table_name)
    query = sa.text(
        f"SELECT {', '.join(c.sql for c in t.columns)} "
        f"FROM {qualified_name(t.name, t.part, dialect)} WHERE {column} IN :ids"
    ).bindparams(sa.bindparam("ids", expanding=True))
    names = t.column_names
    return [
        {n: typed_value(types.get(n, ""), v) for n, v in zip(names, row, strict=True)}
        for row in conn.execute(query, {"ids": list(ids)})
    ]
