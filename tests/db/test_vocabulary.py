"""Vocabulary loading on SQLite and PostgreSQL: the bundled subset, an Athena download, bad
files (named with line and column, nothing half-loaded), and concept lookup by code."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapter.cli import app
from adapter.errors import SourceError
from adapter.stores.omop_db import (
    bundled_vocabulary,
    concept_count,
    find_concepts,
    init_db,
    load_vocabulary,
)
from tests.db.helpers import dialect_of, rows

ATHENA_COUNTS = {
    "concept": 8,
    "vocabulary": 5,
    "domain": 4,
    "concept_class": 4,
    "concept_relationship": 2,
    "relationship": 2,
    "concept_synonym": 1,
    "concept_ancestor": 1,
    "drug_strength": 1,
}


def vocab(url: str, name: str) -> str:
    return f"vocab.{name}" if dialect_of(url) == "postgresql" else name


def runs(url: str) -> str:
    return "adapter.runs" if dialect_of(url) == "postgresql" else "adapter_runs"


def data_lines(path: Path) -> int:
    return sum(1 for line in path.read_text(encoding="utf-8").splitlines()[1:] if line)


def broken_copy(source: Path, target: Path, fix: dict[int, str]) -> Path:
    """The Athena fixture with lines of CONCEPT.csv replaced (line numbers from 1)."""
    shutil.copytree(source, target)
    concept = target / "CONCEPT.csv"
    lines = concept.read_text(encoding="utf-8").splitlines()
    for number, text in fix.items():
        lines[number - 1] = text
    concept.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


def test_bundled_vocabulary_counts_match_the_files(db_url: str) -> None:
    directory = bundled_vocabulary()
    if not (directory / "CONCEPT.csv").exists():
        pytest.skip(f"no bundled vocabulary in {directory} yet")
    init_db(db_url)
    loaded = load_vocabulary(db_url, directory)
    expected = {
        table: data_lines(path)
        for table in loaded.counts
        for path in directory.iterdir()
        if path.name.lower() == f"{table}.csv"
    }
    assert dict(loaded.counts) == expected
    for table, count in expected.items():
        assert rows(db_url, f"SELECT count(*) FROM {vocab(db_url, table)}") == [(count,)]
    assert concept_count(db_url) == expected["concept"]
    assert find_concepts(db_url, [("Gender", "M"), ("Gender", "F")]) == {
        ("Gender", "M"): 8507,
        ("Gender", "F"): 8532,
    }


def test_athena_download_loads_every_table_exactly(db_url: str, athena_dir: Path) -> None:
    init_db(db_url)
    loaded = load_vocabulary(db_url, athena_dir)
    assert dict(loaded.counts) == ATHENA_COUNTS
    assert loaded.vocabulary_version == "v5.0 31-AUG-26 TEST"
    for table, count in ATHENA_COUNTS.items():
        assert rows(db_url, f"SELECT count(*) FROM {vocab(db_url, table)}") == [(count,)]
    [(name, start, end, reason)] = rows(
        db_url,
        "SELECT concept_name, valid_start_date, valid_end_date, invalid_reason "
        f"FROM {vocab(db_url, 'concept')} WHERE concept_id = 44500001",
    )
    assert name == 'Undifferentiated pleomorphic sarcoma of "connective tissue, NOS" \\ C49.9'
    assert (str(start), str(end), reason) == ("2020-01-01", "2099-12-31", None)
    if dialect_of(db_url) == "postgresql":
        assert start == date(2020, 1, 1)
    [(amount, numerator)] = rows(
        db_url, f"SELECT amount_value, numerator_value FROM {vocab(db_url, 'drug_strength')}"
    )
    assert (float(amount), numerator) == (500.0, None)


def test_concepts_are_found_by_vocabulary_and_code(db_url: str, athena_dir: Path) -> None:
    init_db(db_url)
    load_vocabulary(db_url, athena_dir)
    wanted = [
        ("Gender", "F"),
        ("UCUM", "cm"),
        ("UCUM", "mm"),
        ("ICDO3", "8802/3-C49.9"),
        ("ICDO3", "8830/3-C49.9"),
        ("CDM", "CDM1147127"),
        ("UCUM", "M"),  # a code of another vocabulary
        ("SNOMED", "cm"),  # a vocabulary not loaded
    ]
    assert find_concepts(db_url, wanted) == {
        ("Gender", "F"): 8532,
        ("UCUM", "cm"): 8582,
        ("UCUM", "mm"): 8588,
        ("ICDO3", "8802/3-C49.9"): 44500001,
        ("ICDO3", "8830/3-C49.9"): 44500002,
        ("CDM", "CDM1147127"): 1147127,
    }


def test_athena_replaces_the_vocabulary_and_logs_each_run(db_url: str, athena_dir: Path) -> None:
    init_db(db_url)
    load_vocabulary(db_url, athena_dir)
    load_vocabulary(db_url, athena_dir)
    assert concept_count(db_url) == 8
    logged = rows(db_url, f"SELECT command, software_version FROM {runs(db_url)} ORDER BY run_id")
    assert logged == [("vocabulary", "0.2.0"), ("vocabulary", "0.2.0")]


def test_missing_column_names_file_and_column_and_loads_nothing(
    db_url: str, athena_dir: Path, tmp_path: Path
) -> None:
    init_db(db_url)
    load_vocabulary(db_url, athena_dir)
    header = (
        "concept_id\tconcept_name\tdomain_id\tvocabulary_id\tconcept_class_id\t"
        "standard_concept\tconcept_code\tvalid_start_date\tinvalid_reason"
    )
    bad = broken_copy(athena_dir, tmp_path / "athena", {1: header})
    with pytest.raises(SourceError) as error:
        load_vocabulary(db_url, bad)
    assert str(error.value) == f"{bad / 'CONCEPT.csv'}: missing column valid_end_date of concept"
    assert concept_count(db_url) == 8


def test_bad_value_names_file_line_and_column_and_rolls_back(
    db_url: str, athena_dir: Path, tmp_path: Path
) -> None:
    init_db(db_url)
    load_vocabulary(db_url, athena_dir)
    bad_line = "8532\tFEMALE\tGender\tGender\tGender\tS\tF\t2020013x\t20991231\t"
    bad = broken_copy(athena_dir, tmp_path / "athena", {3: bad_line})
    with pytest.raises(SourceError) as error:
        load_vocabulary(db_url, bad)
    message = str(error.value)
    assert message.startswith(f"{bad / 'CONCEPT.csv'}, line 3, column valid_start_date: ")
    assert "2020013x" in message
    assert concept_count(db_url) == 8  # the previous vocabulary, untouched


def test_missing_required_file_is_named(db_url: str, athena_dir: Path, tmp_path: Path) -> None:
    shutil.copytree(athena_dir, tmp_path / "athena")
    (tmp_path / "athena" / "CONCEPT.csv").unlink()
    init_db(db_url)
    with pytest.raises(SourceError) as error:
        load_vocabulary(db_url, tmp_path / "athena")
    assert str(error.value) == (
        f"{tmp_path / 'athena'}: no CONCEPT.csv "
        "(needed: VOCABULARY.csv, DOMAIN.csv, CONCEPT_CLASS.csv, CONCEPT.csv)"
    )


def test_comma_separated_file_gets_a_hint(athena_dir: Path, tmp_path: Path) -> None:
    header = "concept_id,concept_name,domain_id,vocabulary_id,concept_class_id"
    bad = broken_copy(athena_dir, tmp_path / "athena", {1: header})
    url = f"sqlite:///{tmp_path / 'omop.sqlite'}"
    init_db(url)
    with pytest.raises(SourceError, match=r"\(the file must be tab-separated\)$"):
        load_vocabulary(url, bad)


def test_cli_athena_load_and_bad_file(db_url: str, athena_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    loaded = runner.invoke(app, ["db", "init", "--db", db_url, "--athena", str(athena_dir)])
    assert loaded.exit_code == 0
    assert loaded.stdout.splitlines()[-1] == (
        f"vocabulary from {athena_dir} (v5.0 31-AUG-26 TEST): concept 8, vocabulary 5, "
        "domain 4, concept_class 4, concept_relationship 2, relationship 2, "
        "concept_synonym 1, concept_ancestor 1, drug_strength 1"
    )
    kept = runner.invoke(app, ["db", "init", "--db", db_url])
    assert kept.stdout.splitlines()[-1] == (
        "vocabulary already loaded (8 concepts), kept; --athena DIR replaces it"
    )
    bad = broken_copy(athena_dir, tmp_path / "athena", {1: "concept_id\tconcept_name"})
    failed = runner.invoke(app, ["db", "init", "--db", db_url, "--athena", str(bad)])
    assert failed.exit_code == 2
    assert failed.stderr.startswith(f"error: {bad / 'CONCEPT.csv'}: missing columns domain_id, ")
