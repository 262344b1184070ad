"""The OMOP CDM v5.4 schema, read from the official OHDSI files vendored in `ddl/`.

Nothing here types a table or a column: the tables, column types and NOT NULLs come from the
official DDL of each dialect, the primary keys and indices from the official PostgreSQL files,
and the split into `cdm` and `vocab` from the `schema` column of the Table_Level CSV. The
Field_Level CSV is parsed too, so tests can hold the created database against it.

Why PostgreSQL's keys and indices serve SQLite as well: SQLite cannot `ALTER TABLE … ADD
CONSTRAINT`, so the official SQLite primary-key file cannot run; here the same keys are written
inside `CREATE TABLE` instead, and the indices are the PostgreSQL ones without `CLUSTER`.

Pure: text in, dataclasses and SQL strings out; the stores run the SQL (docs/adr/0002).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

__all__ = [
    "DDL_DIR",
    "Column",
    "Dialect",
    "Field",
    "Index",
    "Part",
    "Table",
    "create_statements",
    "field_level",
    "qualified_name",
    "table",
    "tables",
]

DDL_DIR = Path(__file__).resolve().parent / "ddl"

Dialect = Literal["postgresql", "sqlite"]
Part = Literal["cdm", "vocab", "adapter"]

_DDL = {"postgresql": "OMOPCDM_postgresql_5.4_ddl.sql", "sqlite": "OMOPCDM_sqlite_5.4_ddl.sql"}
_PRIMARY_KEYS = "OMOPCDM_postgresql_5.4_primary_keys.sql"
_INDICES = "OMOPCDM_postgresql_5.4_indices.sql"
_FIELD_LEVEL = "OMOP_CDMv5.4_Field_Level.csv"
_TABLE_LEVEL = "OMOP_CDMv5.4_Table_Level.csv"

_COMMENT = re.compile(r"/\*.*?\*/|--[^\n]*", re.DOTALL)
_CREATE_TABLE = re.compile(r"CREATE TABLE @cdmDatabaseSchema\.(\w+)\s*\((.*?)\);", re.DOTALL)
_COLUMN = re.compile(r"^(\"?)(\w+)\"?\s+(\w+(?:\(\d+\))?)\s+(NOT NULL|NULL)$")
_PRIMARY_KEY = re.compile(
    r"ALTER TABLE @cdmDatabaseSchema\.(\w+)\s+ADD CONSTRAINT (\w+) PRIMARY KEY \(([^)]*)\);"
)
_CREATE_INDEX = re.compile(r"CREATE INDEX (\w+)\s+ON @cdmDatabaseSchema\.(\w+)\s*\(([^)]*)\);")
_CLUSTER = re.compile(r"CLUSTER @cdmDatabaseSchema\.(\w+)\s+USING (\w+)\s*;")
_DISABLED_EPISODE_INDEX = re.compile(
    r"--CREATE (?:CLUSTERED )?INDEX (\w+) ON @cdmDatabaseSchema\.(episode\w*) \((\w+) ASC\);"
)
"""The official file ships the Oncology tables' indices commented out, in SQL Server's CLUSTERED
syntax. Without them every read of a person's episodes scans EPISODE and EPISODE_EVENT whole
(export --from cdm reads them per page of persons), so they are created as plain indices; the
one that names a column the v5.4 table does not have (event_field_concept_id) is left out."""


@dataclass(frozen=True, slots=True)
class Column:
    """One column as the dialect's official DDL declares it (`type` kept verbatim).

    `quoted`: the DDL quotes the name because it is an SQL keyword (`note_nlp."offset"`).
    """

    name: str
    type: str
    required: bool
    quoted: bool = False

    @property
    def sql(self) -> str:
        return f'"{self.name}"' if self.quoted else self.name


@dataclass(frozen=True, slots=True)
class Index:
    """One official index; `cluster` when PostgreSQL's file also CLUSTERs the table on it."""

    name: str
    columns: tuple[str, ...]
    cluster: bool = False


@dataclass(frozen=True, slots=True)
class Table:
    """One CDM table for one dialect: columns in DDL order, primary key, indices, and part."""

    name: str
    part: Part
    columns: tuple[Column, ...]
    primary_key_name: str | None
    primary_key: tuple[str, ...]
    indices: tuple[Index, ...]

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.name} has no column {name}")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


@dataclass(frozen=True, slots=True)
class Field:
    """One row of OMOP_CDMv5.4_Field_Level.csv: the normative field list."""

    table: str
    name: str
    datatype: str
    required: bool
    primary_key: bool


def _read(name: str) -> str:
    return (DDL_DIR / name).read_text(encoding="utf-8")


def _statements(name: str) -> str:
    """A vendored SQL file without its comments (some comments hold disabled statements)."""
    return _COMMENT.sub("", _read(name))


def _columns(body: str, table_name: str) -> tuple[Column, ...]:
    columns = []
    for part in body.split(","):
        match = _COLUMN.match(" ".join(part.split()))
        if match is None:
            raise ValueError(f"cannot read column definition {part.strip()!r} of {table_name}")
        quote, name, sql_type, null = match.groups()
        columns.append(Column(name.lower(), sql_type, null == "NOT NULL", bool(quote)))
    return tuple(columns)


def _names(listing: str) -> tuple[str, ...]:
    """`person_id ASC, x` → ("person_id", "x"): the official files spell ASC everywhere."""
    return tuple(part.split()[0].lower() for part in listing.split(","))


@cache
def _parts() -> dict[str, Part]:
    with (DDL_DIR / _TABLE_LEVEL).open(encoding="utf-8", newline="") as f:
        return {
            row["cdmTableName"].lower(): "vocab" if row["schema"] == "VOCAB" else "cdm"
            for row in csv.DictReader(f)
        }


@cache
def tables(dialect: Dialect) -> tuple[Table, ...]:
    """All 39 CDM tables for `dialect`, in the order of the official DDL."""
    keys = {
        m[1].lower(): (m[2], _names(m[3]))
        for m in _PRIMARY_KEY.finditer(_statements(_PRIMARY_KEYS))
    }
    index_text = _statements(_INDICES)
    clustered = {(m[1].lower(), m[2]) for m in _CLUSTER.finditer(index_text)}
    indices: dict[str, list[Index]] = {}
    for m in _CREATE_INDEX.finditer(index_text):
        name, table_name = m[1], m[2].lower()
        index = Index(name, _names(m[3]), (table_name, name) in clustered)
        indices.setdefault(table_name, []).append(index)
    disabled = [(m[1], m[2].lower(), m[3]) for m in _DISABLED_EPISODE_INDEX.finditer(
        _read(_INDICES))]  # fmt: skip
    parts = _parts()
    result = []
    for m in _CREATE_TABLE.finditer(_statements(_DDL[dialect])):
        name = m[1].lower()
        columns = _columns(m[2], name)
        for index_name, table_name, column in disabled:
            if table_name == name and column in {c.name for c in columns}:
                indices.setdefault(name, []).append(Index(index_name, (column,)))
        key_name, key = keys.get(name, (None, ()))
        result.append(
            Table(
                name=name,
                part=parts[name],
                columns=columns,
                primary_key_name=key_name,
                primary_key=key,
                indices=tuple(indices.get(name, ())),
            )
        )
    return tuple(result)


def table(name: str, dialect: Dialect) -> Table:
    for candidate in tables(dialect):
        if candidate.name == name:
            return candidate
    raise KeyError(f"OMOP CDM v5.4 has no table {name}")


@cache
def field_level() -> tuple[Field, ...]:
    """The Field_Level CSV, for checking what we create and write against the specification."""
    with (DDL_DIR / _FIELD_LEVEL).open(encoding="utf-8", newline="") as f:
        return tuple(
            Field(
                table=row["cdmTableName"].lower(),
                name=row["cdmFieldName"].strip('"').lower(),  # the CSV spells it "offset"
                datatype=row["cdmDatatype"].lower(),
                required=row["isRequired"] == "Yes",
                primary_key=row["isPrimaryKey"] == "Yes",
            )
            for row in csv.DictReader(f)
        )


def qualified_name(name: str, part: Part, dialect: Dialect) -> str:
    """Where a table lives: `cdm.person` on PostgreSQL; `person` or `adapter_runs` on SQLite.

    SQLite keeps one file: CDM and vocabulary tables under their official names (what OHDSI
    tools expect), the adapter's own tables prefixed `adapter_` (docs/adr/0002).
    """
    if dialect == "postgresql":
        return f"{part}.{name}"
    return f"adapter_{name}" if part == "adapter" else name


def _create_table(t: Table, dialect: Dialect) -> str:
    lines = [f"{c.sql} {c.type} {'NOT NULL' if c.required else 'NULL'}" for c in t.columns]
    if dialect == "sqlite" and t.primary_key:
        lines.append(f"CONSTRAINT {t.primary_key_name} PRIMARY KEY ({', '.join(t.primary_key)})")
    body = ",\n\t".join(lines)
    return f"CREATE TABLE IF NOT EXISTS {qualified_name(t.name, t.part, dialect)} (\n\t{body}\n)"


def create_statements(t: Table, dialect: Dialect, *, new: bool = True) -> Iterator[str]:
    """The SQL that gives `t` its official shape, keys and indices; safe to run again.

    `new` says the table did not exist before: only then are the PostgreSQL primary key added
    and the table CLUSTERed (neither can be repeated harmlessly; CLUSTER rewrites the table).
    """
    name = qualified_name(t.name, t.part, dialect)
    yield _create_table(t, dialect)
    if dialect == "postgresql" and new and t.primary_key:
        yield (
            f"ALTER TABLE {name} ADD CONSTRAINT {t.primary_key_name} "
            f"PRIMARY KEY ({', '.join(t.primary_key)})"
        )
    for index in t.indices:
        yield f"CREATE INDEX IF NOT EXISTS {index.name} ON {name} ({', '.join(index.columns)})"
    if dialect == "postgresql" and new:
        for index in t.indices:
            if index.cluster:
                yield f"CLUSTER {name} USING {index.name}"
