"""Find a stored record by its FHIR Patient id, without scanning the record store.

A record's Patient id is `resource_uuid(institution, record_id, "patient")` (adapter/fhir/ids.py):
a hash, so it cannot be turned back into the record, and `adapter.records` is keyed by
(institution, record_id). The choice here is a small side table, `fhir_patients`
(patient_id → record_no), rather than a new column of `records`:

- it is derived data: the Patient id depends only on (institution, record_id), which never
  change for a record_no, so the index is append-only and `sync` brings it up to date by
  reading the records numbered after the highest one indexed (record_no is allocated under the
  store's lock and committed in that order, adapter/stores/record_store.py), one indexed range
  query however large the store;
- the load path and `db init` stay as they are: the table is made on first use (CREATE … IF
  NOT EXISTS, as the audit table is), so databases loaded before the API work unchanged and no
  migration of `records` is needed;
- a tombstone keeps its record_no, so a deleted record's Patient id is still known and
  answers "deleted", not a different record.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from adapter.fhir.ids import resource_uuid
from adapter.mds.record import MdsRecord
from adapter.omop.schema import Dialect
from adapter.stores.bulk import dialect_of
from adapter.stores.record_store import adapter_name

__all__ = [
    "ensure_patient_index",
    "key_of_patient",
    "patient_id",
    "patient_index_statements",
    "record_of_patient",
    "sync_patient_index",
]


def patient_id(institution: str | None, record_id: str) -> str:
    """The id of the record's Patient resource, as `to_fhir` gives it."""
    return resource_uuid(institution, record_id, "patient")


def patient_index_statements(dialect: Dialect) -> list[str]:
    """CREATE … IF NOT EXISTS for the Patient id index."""
    pg = dialect == "postgresql"
    text, big = ("text", "bigint") if pg else ("TEXT", "INTEGER")
    return [
        f"CREATE TABLE IF NOT EXISTS {adapter_name('fhir_patients', dialect)} "
        f"(patient_id {text} PRIMARY KEY, record_no {big} NOT NULL UNIQUE)"
    ]


def ensure_patient_index(engine: Engine) -> None:
    """Create the index table if it is not there (needs the `adapter` schema: `db init`)."""
    with engine.begin() as conn:
        for sql in patient_index_statements(dialect_of(conn)):
            conn.exec_driver_sql(sql)


def sync_patient_index(conn: Connection) -> int:
    """Index the records stored since the last call; returns how many were added."""
    dialect = dialect_of(conn)
    index, records = adapter_name("fhir_patients", dialect), adapter_name("records", dialect)
    after = conn.execute(sa.text(f"SELECT max(record_no) FROM {index}")).scalar()
    rows = conn.execute(
        sa.text(f"SELECT record_no, institution, record_id FROM {records} "
                "WHERE record_no > :after ORDER BY record_no"),
        {"after": int(after or 0)},
    ).all()  # fmt: skip
    if rows:
        conn.execute(
            sa.text(f"INSERT INTO {index} (patient_id, record_no) VALUES (:id, :no) "
                    "ON CONFLICT DO NOTHING"),
            [{"id": patient_id(r[1], r[2]), "no": int(r[0])} for r in rows],
        )  # fmt: skip
    return len(rows)


def key_of_patient(conn: Connection, patient: str) -> tuple[str, str] | None:
    """(institution, record_id) of the record whose Patient has this id, deleted or not."""
    dialect = dialect_of(conn)
    found = conn.execute(
        sa.text(
            f"SELECT r.institution, r.record_id FROM {adapter_name('fhir_patients', dialect)} p "
            f"JOIN {adapter_name('records', dialect)} r ON r.record_no = p.record_no "
            "WHERE p.patient_id = :id"
        ),
        {"id": patient},
    ).first()
    return None if found is None else (str(found[0]), str(found[1]))


def record_of_patient(conn: Connection, patient: str) -> MdsRecord | None:
    """The live record whose Patient has this id; None when unknown or deleted."""
    dialect = dialect_of(conn)
    found = conn.execute(
        sa.text(
            f"SELECT r.record_json, r.deleted FROM {adapter_name('fhir_patients', dialect)} p "
            f"JOIN {adapter_name('records', dialect)} r ON r.record_no = p.record_no "
            "WHERE p.patient_id = :id"
        ),
        {"id": patient},
    ).first()
    if found is None or bool(found[1]) or found[0] is None:
        return None
    return MdsRecord.model_validate_json(found[0])
