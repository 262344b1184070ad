"""Is this database one `mds-adapter db init` made, with every table this version uses?

`serve` refuses to start on a database that is not (one line, exit 2: run `db init`), and
`/health` answers 503 with the same words: a server over an empty database used to start,
say "ok", then answer 500 "ProgrammingError" to the first Bundle. `db init` is idempotent and
creates what an older version's database lacks, so it is also the upgrade.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapter.omop.schema import Dialect, tables
from adapter.stores.bulk import dialect_of

__all__ = ["ADAPTER_TABLES", "schema_problem"]

ADAPTER_TABLES = (
    "runs", "records", "crosswalk", "id_sequence", "quarantine", "unmapped_codes",
    "unmapped_code_records",
)  # fmt: skip
"""The adapter part's tables that `db init` makes (others are made on first use)."""


def _present(conn: Connection, dialect: Dialect) -> set[str]:
    inspector = sa.inspect(conn)
    if dialect == "postgresql":
        return {f"{schema}.{name}" for schema in ("cdm", "vocab", "adapter")
                for name in inspector.get_table_names(schema=schema)}  # fmt: skip
    return set(inspector.get_table_names())


def _expected(dialect: Dialect) -> list[str]:
    cdm = [f"{t.part}.{t.name}" if dialect == "postgresql" else t.name for t in tables(dialect)]
    adapter = [f"adapter.{n}" if dialect == "postgresql" else f"adapter_{n}"
               for n in ADAPTER_TABLES]  # fmt: skip
    return cdm + adapter


def schema_problem(conn: Connection) -> str | None:
    """None when every table is there, else what is wrong, in words a user can act on."""
    dialect = dialect_of(conn)
    present = _present(conn, dialect)
    missing = [name for name in _expected(dialect) if name not in present]
    if not missing:
        return None
    person = "cdm.person" if dialect == "postgresql" else "person"
    if person not in present:
        return "the database is not initialised (no OMOP CDM tables): run `mds-adapter db init`"
    shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
    return (f"the database was made by an older version (missing {shown}): run "
            "`mds-adapter db init`, which adds what is missing and keeps every row")  # fmt: skip
