"""The OMOP database, SQLite or PostgreSQL: create the schema, load the vocabulary, find concepts.

Layout (docs/adr/0002): on PostgreSQL the schemas `cdm` (clinical tables), `vocab` (vocabulary
tables) and `adapter` (our own bookkeeping); on SQLite one file with the CDM and vocabulary
tables under their official names and ours prefixed `adapter_`.

Bulk loads take the fastest path each database offers (ecosystem notes, 1c and 5): psycopg
COPY straight from the file on PostgreSQL, the stdlib driver's executemany in one transaction
on SQLite. A vocabulary load runs in one transaction, so a bad file leaves the previous
vocabulary in place; it never touches clinical tables (the IDEA4RC loader's DROP … CASCADE is
the lesson, idea4rc-omop-notes 5.4).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any, cast

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import ArgumentError

from adapter.errors import ConfigurationError, SourceError
from adapter.mds.dictionary import terminology_dir
from adapter.omop.schema import Dialect, Part, Table, create_statements, qualified_name, tables
from adapter.stores.athena import VocabularyFile, find_files, read_rows
from adapter.stores.athena_source import vocabulary_folder
from adapter.stores.bulk import Statement, any_of, run_sql, text_list
from adapter.stores.record_store import adapter_name, record_store_statements
from adapter.stores.worklist import worklist_statements

__all__ = [
    "SQLITE_BUSY_MS",
    "InitReport",
    "VocabularyLoad",
    "bundled_vocabulary",
    "concept_count",
    "concepts_statement",
    "connect",
    "engine_for",
    "find_concepts",
    "in_memory",
    "init_db",
    "load_vocabulary",
]

PARTS: tuple[Part, ...] = ("cdm", "vocab", "adapter")
_USER_MAINTAINED = "source_to_concept_map"
_PG_CONTEXT = re.compile(r"line (\d+)(?:, column (\w+))?")

Target = str | Engine


@dataclass(frozen=True, slots=True)
class InitReport:
    """What `init_db` did: tables created now, tables that were already there."""

    dialect: Dialect
    created: tuple[str, ...]
    existing: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class VocabularyLoad:
    """What `load_vocabulary` loaded: rows per vocabulary table, and Athena's release string."""

    source: Path
    counts: Mapping[str, int]
    vocabulary_version: str | None


def connect(url: str) -> Engine:
    """An engine for a SQLAlchemy URL; bare `postgresql://` means psycopg 3, which we ship."""
    try:
        parsed = sa.make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError(f"not a database URL: {url!r}") from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("postgresql", "sqlite"):
        raise ConfigurationError(
            f"unsupported database {parsed.get_backend_name()!r}: use sqlite:///FILE "
            "or postgresql+psycopg://USER@HOST:PORT/DB"
        )
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(parsed)
    engine = _one_connection(parsed) if in_memory(parsed) else sa.create_engine(parsed)
    _serialise_sqlite(engine)
    return engine


def in_memory(url: str | sa.URL) -> bool:
    """Whether the URL names an in-memory SQLite database (`sqlite://`, `:memory:`, mode=memory)."""
    try:
        parsed = sa.make_url(url) if isinstance(url, str) else url
    except ArgumentError:
        return False
    return parsed.get_backend_name() == "sqlite" and (
        parsed.database in (None, "", ":memory:") or parsed.query.get("mode") == "memory"
    )


def _one_connection(parsed: sa.URL) -> Engine:
    """An in-memory database is its connection: every thread must get that one, in turn.

    SQLAlchemy's default for `sqlite://` is a connection per thread, so each of the API's
    worker threads saw its own empty database (tables made by one were missing in the next).
    A pool of exactly one connection, usable from any thread, hands it to one transaction at a
    time; the others wait as they would on a file's lock, up to the same busy timeout.
    """
    return sa.create_engine(
        parsed,
        poolclass=sa.pool.QueuePool,
        pool_size=1,
        max_overflow=0,
        pool_timeout=SQLITE_BUSY_MS / 1000,
        connect_args={"check_same_thread": False},
    )


SQLITE_BUSY_MS = 30_000
"""How long a SQLite transaction waits for the one before it to finish, in milliseconds."""


def _serialise_sqlite(engine: Engine) -> None:
    """Every SQLite transaction is BEGIN IMMEDIATE, and waits (busy_timeout) for its turn.

    SQLite has one writer at a time. The stdlib driver's own transaction handling starts a
    transaction only at the first write, so a load's reads (what is stored already) ran outside
    it and two concurrent writers could both decide "new record"; a deferred BEGIN instead
    fails at once ("database is locked") when a reader turns writer behind another writer.
    BEGIN IMMEDIATE takes the write lock first, so a chunk's reads and writes are one serial
    step, like under the PostgreSQL advisory lock (adapter/stores/record_store.py lock()).
    The SQLAlchemy recipe: the driver is told to issue no BEGIN of its own.
    """

    @sa.event.listens_for(engine, "connect")
    def _on_connect(driver: Any, _record: Any) -> None:
        driver.isolation_level = None
        driver.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_MS}")

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def engine_for(target: Target) -> Iterator[Engine]:
    """Use the caller's engine, or make one for a URL and dispose of it afterwards."""
    if isinstance(target, Engine):
        yield target
        return
    engine = connect(target)
    try:
        yield engine
    finally:
        engine.dispose()


def _dialect(engine: Engine) -> Dialect:
    return "postgresql" if engine.dialect.name == "postgresql" else "sqlite"


def bundled_vocabulary() -> Path:
    """The concept subset shipped with the project (terminology/vocab/, Athena layout)."""
    return terminology_dir() / "vocab"


def _adapter_statements(dialect: Dialect) -> list[str]:
    """The `adapter` part: `runs` (what loaded what and when), then the record store."""
    runs = qualified_name("runs", "adapter", dialect)
    if dialect == "postgresql":
        return [
            f"CREATE TABLE IF NOT EXISTS {runs} (run_id bigint GENERATED BY DEFAULT AS IDENTITY "
            "PRIMARY KEY, command varchar(50) NOT NULL, started_at timestamptz NOT NULL, "
            "finished_at timestamptz NOT NULL, software_version varchar(20) NOT NULL, "
            "details text NULL)",
            *record_store_statements(dialect),
            *worklist_statements(dialect),
        ]
    return [
        f"CREATE TABLE IF NOT EXISTS {runs} (run_id INTEGER PRIMARY KEY, command TEXT NOT NULL, "
        "started_at TEXT NOT NULL, finished_at TEXT NOT NULL, software_version TEXT NOT NULL, "
        "details TEXT NULL)",
        *record_store_statements(dialect),
        *worklist_statements(dialect),
    ]


def _existing(conn: Connection, dialect: Dialect) -> dict[str, list[str]]:
    """Qualified name → column names of every CDM and vocabulary table already there."""
    inspector = sa.inspect(conn)
    found: dict[str, list[str]] = {}
    schemas: tuple[Part | None, ...] = ("cdm", "vocab") if dialect == "postgresql" else (None,)
    for schema in schemas:
        for name in inspector.get_table_names(schema=schema):
            columns = [c["name"] for c in inspector.get_columns(name, schema=schema)]
            found[f"{schema}.{name}" if schema else name] = columns
    return found


def _check_shape(t: Table, name: str, columns: list[str]) -> None:
    """Refuse to adopt a same-named table of another shape (an older CDM, someone's own)."""
    missing = [c for c in t.column_names if c not in columns]
    extra = [c for c in columns if c not in t.column_names]
    if missing or extra:
        raise ConfigurationError(
            f"table {name} exists but is not OMOP CDM v5.4: "
            + "; ".join(
                f"{label} {', '.join(cs)}"
                for label, cs in (("missing columns", missing), ("unexpected columns", extra))
                if cs
            )
        )


def init_db(target: Target) -> InitReport:
    """Create the CDM v5.4 schema from the official DDL; running it again changes nothing.

    On PostgreSQL all of it is one transaction (DDL is transactional there), so a failure
    leaves no half-made schema. Tables already present are checked column by column and kept.
    """
    with engine_for(target) as engine:
        dialect = _dialect(engine)
        created: list[str] = []
        kept: list[str] = []
        with engine.begin() as conn:
            if dialect == "postgresql":
                for part in PARTS:
                    conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {part}")
            existing = _existing(conn, dialect)
            for t in tables(dialect):
                name = qualified_name(t.name, t.part, dialect)
                if name in existing:
                    _check_shape(t, name, existing[name])
                (kept if name in existing else created).append(name)
                for sql in create_statements(t, dialect, new=name not in existing):
                    conn.exec_driver_sql(sql)
            for sql in _adapter_statements(dialect):
                conn.exec_driver_sql(sql)
    return InitReport(dialect, tuple(created), tuple(kept))


def _insert(conn: Connection, file: VocabularyFile, name: str) -> int:
    """SQLite: the stdlib driver's executemany (2× SQLAlchemy's), streaming the rows."""
    columns = ", ".join(file.table.column(c).sql for c in file.header)
    marks = ", ".join("?" for _ in file.header)
    driver = cast(Any, conn.connection.driver_connection)
    cursor = driver.cursor()
    try:
        cursor.executemany(f"INSERT INTO {name} ({columns}) VALUES ({marks})", read_rows(file))
        return int(cursor.rowcount)
    finally:
        cursor.close()


def _copy(conn: Connection, file: VocabularyFile, name: str) -> int:
    """PostgreSQL: COPY the file as it is (YYYYMMDD is a valid PostgreSQL date).

    CSV mode with a quote character that never occurs (backspace) reads Athena's unquoted,
    tab-separated text literally; PostgreSQL then checks types, lengths and NOT NULLs, and its
    error is reworded to name the file, line and column like the SQLite path does.
    """
    columns = ", ".join(file.table.column(c).sql for c in file.header)
    sql = (
        f"COPY {name} ({columns}) FROM STDIN "
        "WITH (FORMAT csv, DELIMITER E'\\t', QUOTE E'\\b', NULL '', HEADER true)"
    )
    driver = cast(psycopg.Connection[Any], conn.connection.driver_connection)
    try:
        with driver.cursor() as cursor:
            with cursor.copy(sql) as copy, file.path.open("rb") as f:
                while chunk := f.read(1 << 20):
                    copy.write(chunk)
            return cursor.rowcount
    except psycopg.Error as exc:
        where = _PG_CONTEXT.search(exc.diag.context or "")
        line = f", line {where[1]}" if where else ""
        column = f", column {where[2]}" if where and where[2] else ""
        raise SourceError(f"{file.path}{line}{column}: {exc.diag.message_primary}") from exc


def _vocabulary_version(conn: Connection, dialect: Dialect) -> str | None:
    """Athena writes its release into the `None` vocabulary row (e.g. "v5.0 30-AUG-24")."""
    name = qualified_name("vocabulary", "vocab", dialect)
    version = conn.execute(
        sa.text(f"SELECT vocabulary_version FROM {name} WHERE vocabulary_id = 'None'")
    ).scalar()
    return None if version is None else str(version)


def _record_run(
    conn: Connection, dialect: Dialect, command: str, started: datetime, details: object
) -> None:
    conn.execute(
        sa.text(
            f"INSERT INTO {qualified_name('runs', 'adapter', dialect)} "
            "(command, started_at, finished_at, software_version, details) "
            "VALUES (:command, :started, :finished, :version, :details)"
        ),
        {
            "command": command,
            "started": started.isoformat(),
            "finished": datetime.now(UTC).isoformat(),
            "version": version("mds-adapter"),
            "details": json.dumps(details, sort_keys=True),
        },
    )


def _mark_for_remapping(conn: Connection, dialect: Dialect) -> int:
    """Clear the mapping fingerprint of every live stored record; returns how many.

    Concepts are resolved against the loaded vocabulary, so a new one can map a code that was
    concept 0 before: the next load then maps every record again instead of skipping it as
    unchanged (docs/adr/0004). This, not the Athena release string in the fingerprint, because
    the string can stay the same across loads of different files (a site's own concepts, a
    subset) and the API predicts outcomes with the fingerprint alone.
    """
    records = adapter_name("records", dialect)
    done = conn.execute(sa.text(f"UPDATE {records} SET mapping = '' WHERE mapping <> ''"))
    return int(done.rowcount or 0)


def load_vocabulary(target: Target, directory: Path) -> VocabularyLoad:
    """Replace the vocabulary with the Athena-layout files of `directory` (a folder holding
    CONCEPT.csv at any depth, or Athena's zip: athena_source.py), in one transaction.

    Every vocabulary table is emptied first, so the database holds exactly this vocabulary;
    SOURCE_TO_CONCEPT_MAP (site-maintained, not part of Athena) is kept unless the directory
    has one. All headers are checked before anything is deleted.
    """
    with vocabulary_folder(directory) as folder:
        return _load_vocabulary(target, directory, find_files(folder))


def _load_vocabulary(
    target: Target, directory: Path, files: list[VocabularyFile]
) -> VocabularyLoad:
    given = {f.table.name for f in files}
    started = datetime.now(UTC)
    with engine_for(target) as engine:
        dialect = _dialect(engine)
        counts: dict[str, int] = {}
        with engine.begin() as conn:
            for t in tables(dialect):
                if t.part == "vocab" and (t.name != _USER_MAINTAINED or t.name in given):
                    conn.exec_driver_sql(f"DELETE FROM {qualified_name(t.name, 'vocab', dialect)}")
            for file in files:
                name = qualified_name(file.table.name, "vocab", dialect)
                load = _copy if dialect == "postgresql" else _insert
                counts[file.table.name] = load(conn, file, name)
            version = _vocabulary_version(conn, dialect)
            stale = _mark_for_remapping(conn, dialect)
            details = {"source": str(directory), "counts": counts, "vocabulary_version": version,
                       "records_to_remap": stale}  # fmt: skip
            _record_run(conn, dialect, "vocabulary", started, details)
    return VocabularyLoad(directory, counts, version)


def concept_count(target: Target) -> int:
    """How many concepts are loaded (0: no vocabulary yet)."""
    with engine_for(target) as engine, engine.connect() as conn:
        name = qualified_name("concept", "vocab", _dialect(engine))
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {name}")).scalar_one())


def find_concepts(
    target: Target | Connection, codes: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """concept_id for each (vocabulary_id, concept_code) found; absent pairs are left out.

    One query per vocabulary, using the official indices on vocabulary_id and concept_code.
    A Connection is used as it is (a load resolves inside its chunk's transaction).
    """
    wanted: dict[str, set[str]] = {}
    for vocabulary_id, concept_code in codes:
        wanted.setdefault(vocabulary_id, set()).add(concept_code)
    if isinstance(target, Connection):
        return _find_concepts(target, wanted)
    with engine_for(target) as engine, engine.connect() as conn:
        return _find_concepts(conn, wanted)


def _find_concepts(conn: Connection, wanted: dict[str, set[str]]) -> dict[tuple[str, str], int]:
    found: dict[tuple[str, str], int] = {}
    dialect = _dialect(conn.engine)
    for vocabulary_id, wanted_codes in wanted.items():
        statement = concepts_statement(dialect, vocabulary_id, sorted(wanted_codes))
        for concept_code, concept_id in run_sql(conn, *statement):
            found[(vocabulary_id, concept_code)] = int(concept_id)
    return found


def concepts_statement(dialect: Dialect, vocabulary_id: str, codes: Sequence[str]) -> Statement:
    """(concept_code, concept_id) of these codes of one vocabulary: one statement text
    whatever their number, on the official indices on vocabulary_id and concept_code."""
    name = qualified_name("concept", "vocab", dialect)
    return (
        f"SELECT concept_code, concept_id FROM {name} WHERE vocabulary_id = :vocabulary_id "
        f"AND {any_of(dialect, 'concept_code', 'codes')}",
        {"vocabulary_id": vocabulary_id, "codes": text_list(dialect, codes)},
    )
