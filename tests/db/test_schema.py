"""`db init` on SQLite and PostgreSQL: the official tables, keys and indices, held against
OMOP_CDMv5.4_Field_Level.csv column by column; running it again changes nothing."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from adapter.cli import app
from adapter.errors import ConfigurationError
from adapter.omop.schema import field_level, tables
from adapter.stores.omop_db import connect, init_db
from tests.db.helpers import dialect_of, inspector, rows, schema_of

VOCAB_TABLES = {
    "concept",
    "concept_ancestor",
    "concept_class",
    "concept_relationship",
    "concept_synonym",
    "domain",
    "drug_strength",
    "relationship",
    "source_to_concept_map",
    "vocabulary",
}
CDM_TABLES = {
    "care_site", "cdm_source", "cohort", "cohort_definition", "condition_era",
    "condition_occurrence", "cost", "death", "device_exposure", "dose_era", "drug_era",
    "drug_exposure", "episode", "episode_event", "fact_relationship", "location", "measurement",
    "metadata", "note", "note_nlp", "observation", "observation_period", "payer_plan_period",
    "person", "procedure_occurrence", "provider", "specimen", "visit_detail", "visit_occurrence",
}  # fmt: skip

ADAPTER_TABLES = {"runs", "records", "crosswalk", "id_sequence", "quarantine",
                  "unmapped_codes", "unmapped_code_records"}  # fmt: skip

# Field_Level datatype → the type the database reports for the official DDL of each dialect.
# SQLite: OHDSI's SQLite DDL declares datetime and float columns REAL and varchar TEXT.
TYPE_CLASS = {
    "postgresql": {"integer": "INTEGER", "date": "DATE", "datetime": "TIMESTAMP",
                   "float": "NUMERIC", "varchar(max)": "TEXT"},
    "sqlite": {"integer": "INTEGER", "date": "DATE", "datetime": "REAL", "float": "REAL",
               "varchar(max)": "TEXT"},
}  # fmt: skip


def expected_type(datatype: str, dialect: str) -> str:
    varchar = re.fullmatch(r"varchar\((\d+)\)", datatype)
    if varchar:
        return f"VARCHAR({varchar[1]})" if dialect == "postgresql" else "TEXT"
    return TYPE_CLASS[dialect][datatype]


def test_init_creates_the_39_official_tables_in_their_parts(db_url: str) -> None:
    report = init_db(db_url)
    assert len(report.created) == 39 and report.existing == ()
    with inspector(db_url) as db:
        if dialect_of(db_url) == "postgresql":
            assert set(db.get_table_names(schema="cdm")) == CDM_TABLES
            assert set(db.get_table_names(schema="vocab")) == VOCAB_TABLES
            assert set(db.get_table_names(schema="adapter")) == ADAPTER_TABLES
        else:
            adapter = {f"adapter_{name}" for name in ADAPTER_TABLES}
            assert set(db.get_table_names()) == CDM_TABLES | VOCAB_TABLES | adapter


def test_columns_conform_to_field_level(db_url: str) -> None:
    """Every table and column, name, type class and NOT NULL, against the normative CSV."""
    init_db(db_url)
    dialect = dialect_of(db_url)
    spec = {(f.table, f.name): f for f in field_level()}
    seen = set()
    with inspector(db_url) as db:
        for t in tables("postgresql"):
            for column in db.get_columns(t.name, schema=schema_of(t, db_url)):
                key = (t.name, column["name"])
                assert key in spec, f"{key} is not in OMOP_CDMv5.4_Field_Level.csv"
                field = spec[key]
                assert str(column["type"]) == expected_type(field.datatype, dialect), key
                assert column["nullable"] is not field.required, key
                seen.add(key)
    assert seen == set(spec)
    assert len(seen) == 432


def test_primary_keys_and_indices_are_the_official_ones(db_url: str) -> None:
    init_db(db_url)
    keyed: dict[str, list[str]] = {}
    for f in field_level():
        if f.primary_key:
            keyed.setdefault(f.table, []).append(f.name)
    index_count = 0
    with inspector(db_url) as db:
        for t in tables("postgresql"):
            schema = schema_of(t, db_url)
            key = db.get_pk_constraint(t.name, schema=schema)
            assert key["constrained_columns"] == keyed.get(t.name, []), t.name
            if t.primary_key:
                assert key["name"] == f"xpk_{t.name}"
            names = {i["name"] for i in db.get_indexes(t.name, schema=schema)}
            assert names == {i.name for i in t.indices}, t.name
            index_count += len(names)
    assert len(keyed) == 28 and index_count == 73  # 70 official + 3 Oncology (schema.py)
    if dialect_of(db_url) == "postgresql":
        clustered = rows(db_url, "SELECT count(*) FROM pg_index WHERE indisclustered")
        assert clustered == [(32,)]


def test_init_twice_changes_nothing_and_keeps_rows(db_url: str) -> None:
    init_db(db_url)
    person = "cdm.person" if dialect_of(db_url) == "postgresql" else "person"
    engine = connect(db_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"INSERT INTO {person} (person_id, gender_concept_id, year_of_birth, "
            "race_concept_id, ethnicity_concept_id) VALUES (1, 8532, 1961, 0, 0)"
        )
    again = init_db(engine)
    engine.dispose()
    assert again.created == () and len(again.existing) == 39
    assert rows(db_url, f"SELECT person_id, year_of_birth FROM {person}") == [(1, 1961)]


def test_init_refuses_a_same_named_table_of_another_shape(db_url: str) -> None:
    postgres = dialect_of(db_url) == "postgresql"
    engine = connect(db_url)
    with engine.begin() as conn:
        if postgres:
            conn.exec_driver_sql("CREATE SCHEMA cdm")
        conn.exec_driver_sql(
            f"CREATE TABLE {'cdm.' if postgres else ''}death (person_id integer, cause text)"
        )
    engine.dispose()
    name = "cdm.death" if postgres else "death"
    with pytest.raises(ConfigurationError) as error:
        init_db(db_url)
    assert str(error.value) == (
        f"table {name} exists but is not OMOP CDM v5.4: missing columns death_date, "
        "death_datetime, death_type_concept_id, cause_concept_id, cause_source_value, "
        "cause_source_concept_id; unexpected columns cause"
    )


def test_cli_db_init_twice_reports_what_it_did(db_url: str) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["db", "init", "--db", db_url, "--no-vocab"])
    second = runner.invoke(app, ["db", "init", "--db", db_url, "--no-vocab"])
    dialect = dialect_of(db_url)
    shown = db_url
    assert (first.exit_code, first.stdout) == (0, f"{shown}: created 39 tables ({dialect})\n")
    assert (second.exit_code, second.stdout) == (
        0,
        f"{shown}: 39 tables were already there, kept\n",
    )


def test_cli_unknown_database_kind_exits_2() -> None:
    result = CliRunner().invoke(app, ["db", "init", "--db", "mysql://u@h/db", "--no-vocab"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: unsupported database 'mysql'")
