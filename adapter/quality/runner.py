"""Run the checks on a database and judge each one: `run_checks(url) → Report`.

All checks run in one transaction, so they see one state of the data (on PostgreSQL a
read-only REPEATABLE READ snapshot; on SQLite the file is locked against writers meanwhile,
as every transaction of this project is, adapter/stores/omop_db.py). Each check runs inside a
savepoint: an SQL error is that check's result (`error`), not the end of the run.

As in the DQD (which always runs cdmTable, cdmField and measureValueCompleteness whatever is
asked), those three come first: they say which tables and fields are missing, which tables are
empty and which fields are never filled, and so which other checks are not applicable.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from adapter.errors import ConfigurationError
from adapter.omop.schema import Dialect
from adapter.quality.clinical import STORE_CHECKS, clinical_checks
from adapter.quality.dialect import Sql
from adapter.quality.dqd import dqd_checks
from adapter.quality.known import KNOWN, Known
from adapter.quality.model import Check, Result, Status, fails
from adapter.stores.omop_db import Target, connect, in_memory

__all__ = ["FIRST", "Report", "all_checks", "open_checked", "run_checks", "select"]

FIRST = ("cdmTable", "cdmField", "measureValueCompleteness")
"""Run before the rest, always: what they find decides which checks are not applicable."""

_PRESENCE = frozenset({"cdmTable", "cdmField"})


@dataclass(frozen=True, slots=True)
class Report:
    """The judged results of the checks that were asked for, and the dialect they ran on."""

    dialect: Dialect
    results: tuple[Result, ...]

    def count(self, status: Status) -> int:
        return sum(r.status == status for r in self.results)

    @property
    def known_failures(self) -> int:
        return sum(r.status == Status.FAIL and r.known is not None for r in self.results)

    def failed(self, *, allow_known: bool = False) -> bool:
        """Whether anything failed (a known failure too, unless `allow_known`)."""
        return any(r.failed and not (allow_known and r.known is not None) for r in self.results)


def all_checks(dialect: Dialect) -> list[Check]:
    """The DQD checks of the vendored CSVs, then the clinical ones."""
    return [*dqd_checks(dialect), *clinical_checks(dialect)]


def select(checks: Sequence[Check], only: Iterable[str]) -> list[Check]:
    """The checks named by `only` (a check name, `name:table` or `name:table.field`); all when
    `only` is empty. An unknown name is a ConfigurationError listing the check names."""
    wanted = set(only)
    if not wanted:
        return list(checks)
    names = {c.name for c in checks} | {c.key for c in checks} | {_table_key(c) for c in checks}
    unknown = sorted(wanted - names)
    if unknown:
        listed = ", ".join(sorted({c.name for c in checks}))
        raise ConfigurationError(f"no check named {', '.join(unknown)}; checks: {listed}")
    return [c for c in checks if wanted & {c.name, c.key, _table_key(c)}]


def _table_key(check: Check) -> str:
    """`name:table`: every check of that name on the table, whatever the field."""
    return f"{check.name}:{check.table}"


def open_checked(target: Target) -> Engine:
    """An engine on an initialised OMOP database, or ConfigurationError saying what is wrong.

    A SQLite file that does not exist is an error here (connecting would create an empty one);
    a database without the CDM tables asks for `mds-adapter db init`. Connection failures are
    SQLAlchemy's OperationalError, as everywhere else.
    """
    engine = connect(target) if isinstance(target, str) else target
    try:
        url = engine.url
        on_disk = url.get_backend_name() == "sqlite" and not in_memory(url)
        if on_disk and not (url.database and Path(url.database).is_file()):
            raise ConfigurationError(f"no SQLite database at {url.database or str(url)}")
        with engine.connect() as conn:
            schema = "cdm" if engine.dialect.name == "postgresql" else None
            if not sa.inspect(conn).has_table("person", schema=schema):
                raise ConfigurationError(
                    f"{url.render_as_string(hide_password=True)} has no OMOP CDM tables: "
                    "run `mds-adapter db init` first"
                )
    except BaseException:
        if isinstance(target, str):
            engine.dispose()
        raise
    return engine


def _has_store(conn: Connection, dialect: Dialect) -> bool:
    """Whether the adapter's record store is here and holds a live record: only then can the
    CDM's care sites be held against the institutions of the records that wrote them."""
    schema = "adapter" if dialect == "postgresql" else None
    name = "records" if dialect == "postgresql" else Sql(dialect).adapter_table("records")
    if not sa.inspect(conn).has_table(name, schema=schema):
        return False
    live = f"SELECT 1 FROM {Sql(dialect).adapter_table('records')} WHERE NOT deleted LIMIT 1"
    return conn.execute(sa.text(live)).first() is not None


def _execute(conn: Connection, check: Check) -> tuple[int, int] | str:
    """(violating, denominator), or the database's error message."""
    try:
        with conn.begin_nested():
            row = conn.execute(sa.text(check.sql), dict(check.params)).one()
    except sa.exc.DBAPIError as exc:
        if exc.connection_invalidated:
            raise
        return " ".join(str(exc.orig).split())[:300]
    return int(row[0] or 0), int(row[1] or 0)


@dataclass(slots=True)
class _Context:
    """What the first checks found about the database."""

    missing_tables: set[str]
    missing_fields: set[tuple[str, str | None]]
    empty_tables: set[str]
    empty_fields: set[tuple[str, str | None]]
    has_store: bool


def _missing(check: Check, ctx: _Context) -> str | None:
    """The check's table (or, but for cdmField, its field) is missing: it is not applicable
    (cdmTable and cdmField report the absence), and its SQL would only fail."""
    if check.name == "cdmTable":
        return None
    if check.table in ctx.missing_tables:
        return f"table {check.table} does not exist"
    if check.name != "cdmField" and (check.table, check.field) in ctx.missing_fields:
        return f"field {check.table}.{check.field} does not exist"
    return None


def _not_applicable(check: Check, ctx: _Context) -> str | None:
    """Why a check whose table and field exist is not applicable (the DQD's rules), or None."""
    table, field = check.table, check.field
    if check.name in ("cdmTable", "cdmField", "measurePersonCompleteness"):
        return None
    if check.name == "measureConditionEraCompleteness":
        empty = "condition_occurrence" in ctx.empty_tables
        return "table condition_occurrence is empty" if empty else None
    if check.name in STORE_CHECKS and not ctx.has_store:
        return "no adapter record store (or no live record in it) in this database"
    if table in ctx.empty_tables:
        return f"table {table} is empty"
    if check.name != "measureValueCompleteness" and (table, field) in ctx.empty_fields:
        return f"field {table}.{field} is never filled"
    return None


def _judge(check: Check, outcome: tuple[int, int] | str, ctx: _Context,
           known: Mapping[str, Known]) -> Result:  # fmt: skip
    missing = _missing(check, ctx)
    if missing is not None:
        return Result(check, Status.NOT_APPLICABLE, note=missing)
    if isinstance(outcome, str):
        if check.name in _PRESENCE:  # the DQD: a missing table or field fails its check
            return Result(check, Status.FAIL, 1, 1, outcome, known.get(check.key))
        return Result(check, Status.ERROR, note=outcome)
    violating, denominator = outcome
    reason = _not_applicable(check, ctx)
    if reason is not None:
        return Result(check, Status.NOT_APPLICABLE, violating, denominator, reason)
    if fails(violating, denominator, check.threshold):
        return Result(check, Status.FAIL, violating, denominator, known=known.get(check.key))
    return Result(check, Status.PASS, violating, denominator)


def _context(first: Mapping[Check, tuple[int, int] | str], has_store: bool) -> _Context:
    """Missing tables and fields, empty tables, never-filled fields, from the first checks."""
    ctx = _Context(set(), set(), set(), set(), has_store)
    for c, outcome in first.items():
        if c.name == "cdmTable" and isinstance(outcome, str):
            ctx.missing_tables.add(c.table)
        elif c.name == "cdmField" and isinstance(outcome, str):
            ctx.missing_fields.add((c.table, c.field))
        elif c.name == "measureValueCompleteness" and not isinstance(outcome, str):
            violating, denominator = outcome
            if denominator == 0:
                ctx.empty_tables.add(c.table)
            elif violating == denominator:
                ctx.empty_fields.add((c.table, c.field))
    return ctx


@contextmanager
def _snapshot(engine: Engine) -> Iterator[Connection]:
    """One transaction for every check, rolled back at the end (nothing is written)."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ")
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        yield conn
        conn.rollback()


def run_checks(
    target: Target, *, only: Iterable[str] = (), known: Mapping[str, Known] = KNOWN
) -> Report:
    """Run the asked checks (all by default) and judge them; ConfigurationError when the
    database cannot be checked (missing, not initialised) or a name in `only` is unknown."""
    engine = open_checked(target)
    try:
        dialect: Dialect = "postgresql" if engine.dialect.name == "postgresql" else "sqlite"
        checks = all_checks(dialect)
        asked = {c.key for c in select(checks, only)}
        with _snapshot(engine) as conn:
            has_store = _has_store(conn, dialect)
            first = {c: _execute(conn, c) for c in checks if c.name in FIRST}
            ctx = _context(first, has_store)
            done = [_judge(c, outcome, ctx, known) for c, outcome in first.items()]
            for check in checks:
                if check.name in FIRST or check.key not in asked:
                    continue
                missing = _missing(check, ctx)
                if missing is not None:  # judged without running SQL that could only fail
                    done.append(Result(check, Status.NOT_APPLICABLE, note=missing))
                else:
                    done.append(_judge(check, _execute(conn, check), ctx, known))
    finally:
        if isinstance(target, str):
            engine.dispose()
    return Report(dialect, tuple(r for r in done if r.check.key in asked))
