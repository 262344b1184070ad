"""adapter.omop.schema reads the vendored OHDSI files faithfully (no database needed)."""

from __future__ import annotations

import re

from adapter.omop.schema import DDL_DIR, create_statements, field_level, table, tables


def squeeze(sql: str) -> str:
    return " ".join(sql.replace("(", " ( ").replace(")", " ) ").replace(",", " , ").split())


def test_both_dialects_have_the_same_39_tables_and_432_columns() -> None:
    pg, lite = tables("postgresql"), tables("sqlite")
    assert [t.name for t in pg] == [t.name for t in lite]
    assert len(pg) == 39 and sum(len(t.columns) for t in pg) == 432
    for a, b in zip(pg, lite, strict=True):
        assert [(c.name, c.required) for c in a.columns] == [
            (c.name, c.required) for c in b.columns
        ]
    assert [(f.table, f.name) for f in field_level()] == [
        (t.name, c.name) for t in pg for c in t.columns
    ]


def test_rendered_create_table_is_the_official_statement() -> None:
    official = (DDL_DIR / "OMOPCDM_postgresql_5.4_ddl.sql").read_text(encoding="utf-8")
    statements = re.findall(r"CREATE TABLE @cdmDatabaseSchema\.(\w+) (\(.*?\));", official, re.S)
    assert len(statements) == 39
    for name, body in statements:
        t = table(name, "postgresql")
        ours = next(iter(create_statements(t, "postgresql")))
        assert squeeze(ours) == squeeze(f"CREATE TABLE IF NOT EXISTS {t.part}.{name} {body}")


def test_vocabulary_tables_come_from_table_level() -> None:
    assert [t.name for t in tables("postgresql") if t.part == "vocab"] == [
        "concept", "vocabulary", "domain", "concept_class", "concept_relationship",
        "relationship", "concept_synonym", "concept_ancestor", "source_to_concept_map",
        "drug_strength",
    ]  # fmt: skip


def test_statements_for_a_new_and_an_existing_table() -> None:
    person = table("person", "postgresql")
    assert list(create_statements(person, "postgresql"))[1:] == [
        "ALTER TABLE cdm.person ADD CONSTRAINT xpk_person PRIMARY KEY (person_id)",
        "CREATE INDEX IF NOT EXISTS idx_person_id ON cdm.person (person_id)",
        "CREATE INDEX IF NOT EXISTS idx_gender ON cdm.person (gender_concept_id)",
        "CLUSTER cdm.person USING idx_person_id",
    ]
    assert list(create_statements(person, "postgresql", new=False))[1:] == [
        "CREATE INDEX IF NOT EXISTS idx_person_id ON cdm.person (person_id)",
        "CREATE INDEX IF NOT EXISTS idx_gender ON cdm.person (gender_concept_id)",
    ]
    concept = next(iter(create_statements(table("concept", "sqlite"), "sqlite")))
    assert concept.startswith(
        "CREATE TABLE IF NOT EXISTS concept (\n\tconcept_id integer NOT NULL,"
    )
    assert concept.endswith("\tCONSTRAINT xpk_concept PRIMARY KEY (concept_id)\n)")
    note_nlp = next(iter(create_statements(table("note_nlp", "sqlite"), "sqlite")))
    assert '\t"offset" TEXT NULL,' in note_nlp
