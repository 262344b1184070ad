"""Vocabulary files in the Athena layout: find them, check their headers, read their rows.

An Athena download (and the subset in terminology/vocab/) is one `TABLE.csv` per vocabulary
table: tab-separated, a header of column names, no quoting (concept names hold bare `"`), an
empty field for NULL, dates as YYYYMMDD. Headers are checked before anything is written, so a
wrong file fails with its name and the missing column, not halfway through a load.

Rows are checked against the PostgreSQL types of the official DDL on both databases (integer,
numeric, date, varchar(n) length, NOT NULL): SQLite would accept a 60-character vocabulary_id
or a date of "2020-13-45" that PostgreSQL rejects, and one vocabulary should load the same way
on both.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from adapter.errors import SourceError
from adapter.omop.schema import Table, tables

__all__ = ["REQUIRED_TABLES", "VocabularyFile", "find_files", "read_header", "read_rows"]

REQUIRED_TABLES = ("vocabulary", "domain", "concept_class", "concept")
"""Without these four no concept can be resolved; the other vocabulary tables are optional."""

_VARCHAR = re.compile(r"varchar\((\d+)\)", re.IGNORECASE)
Value = int | float | str | None
Convert = Callable[[str], Value]


@dataclass(frozen=True, slots=True)
class VocabularyFile:
    """One file to load: its table (PostgreSQL types) and its columns in file order."""

    table: Table
    path: Path
    header: tuple[str, ...]


def find_files(directory: Path) -> list[VocabularyFile]:
    """The vocabulary files present in `directory` (names case-insensitive), headers checked.

    Load order is the DDL's (concept before its relationships), which also puts the four
    required tables first.
    """
    if not directory.is_dir():
        raise SourceError(f"{directory}: not a directory of Athena vocabulary files")
    present = {p.name.lower(): p for p in directory.iterdir() if p.is_file()}
    found = []
    for t in tables("postgresql"):
        if t.part != "vocab":
            continue
        path = present.get(f"{t.name}.csv")
        if path is None:
            if t.name in REQUIRED_TABLES:
                raise SourceError(
                    f"{directory}: no {t.name.upper()}.csv (needed: "
                    + ", ".join(f"{n.upper()}.csv" for n in REQUIRED_TABLES)
                    + ")"
                )
            continue
        found.append(VocabularyFile(t, path, read_header(path, t)))
    return found


def read_header(path: Path, t: Table) -> tuple[str, ...]:
    """The file's column names, which must be exactly the table's columns (in any order)."""
    with path.open(encoding="utf-8", newline="") as f:
        line = f.readline().removeprefix("\ufeff").rstrip("\r\n")
    if not line:
        raise SourceError(f"{path}: empty file, expected a header line with {t.name} columns")
    header = tuple(name.strip().lower() for name in line.split("\t"))
    hint = " (the file must be tab-separated)" if len(header) == 1 and "," in line else ""
    missing = [c for c in t.column_names if c not in header]
    if missing:
        raise SourceError(
            f"{path}: missing column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)} of {t.name}{hint}"
        )
    unknown = [c for c in header if c not in t.column_names]
    if unknown or len(header) != len(t.columns):
        raise SourceError(
            f"{path}: unexpected or repeated column(s) {', '.join(unknown) or 'in header'} "
            f"(expected the {t.name} columns {', '.join(t.column_names)})"
        )
    return header


def _integer(value: str) -> Value:
    return int(value)


def _number(value: str) -> Value:
    return float(value)


def _date(value: str) -> Value:
    """YYYYMMDD (Athena) or YYYY-MM-DD, stored as ISO text (SQLite has no date type)."""
    if len(value) == 8 and value.isdigit():
        value = f"{value[:4]}-{value[4:6]}-{value[6:]}"
    return date.fromisoformat(value).isoformat()


def _text(limit: int | None) -> Convert:
    def convert(value: str) -> Value:
        if limit is not None and len(value) > limit:
            raise ValueError(f"longer than {limit} characters")
        return value

    return convert


_EXPECTED: dict[Convert, str] = {
    _integer: "an integer",
    _number: "a number",
    _date: "a date YYYYMMDD",
}


def _converter(sql_type: str) -> Convert:
    kind = sql_type.lower()
    if kind in ("integer", "bigint"):
        return _integer
    if kind in ("numeric", "float", "real"):
        return _number
    if kind == "date":
        return _date
    varchar = _VARCHAR.fullmatch(kind)
    return _text(int(varchar[1]) if varchar else None)


def read_rows(file: VocabularyFile) -> Iterator[tuple[Value, ...]]:
    """Typed rows in header order; the first bad value stops the load with file, line, column."""
    columns = [file.table.column(name) for name in file.header]
    converters = [_converter(c.type) for c in columns]
    width = len(columns)
    with file.path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE, strict=True)
        next(reader)
        for fields in reader:
            if len(fields) != width:
                if not fields:
                    continue
                raise SourceError(
                    f"{file.path}, line {reader.line_num}: {len(fields)} fields, "
                    f"expected {width} ({file.table.name} columns)"
                )
            row: list[Value] = []
            for column, convert, value in zip(columns, converters, fields, strict=True):
                if value == "":
                    if column.required:
                        raise SourceError(
                            f"{file.path}, line {reader.line_num}, column {column.name}: "
                            "empty, but required"
                        )
                    row.append(None)
                    continue
                try:
                    row.append(convert(value))
                except ValueError as exc:
                    shown = value if len(value) <= 60 else value[:57] + "..."
                    problem = (
                        f"is not {_EXPECTED[convert]}" if convert in _EXPECTED else f"is {exc}"
                    )
                    raise SourceError(
                        f"{file.path}, line {reader.line_num}, column {column.name}: "
                        f"{shown!r} {problem}"
                    ) from exc
            yield tuple(row)
