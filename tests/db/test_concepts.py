"""Concepts are resolved against the loaded vocabulary, never invented (issue 6 item 2).

A bone-sarcoma record (9180/3-C40.2: the bundled subset has no ICDO3 concept for any bone
site) loads as concept 0 with its source value and is counted as unmapped; after
`db init --athena` with a vocabulary that has the concept (tests/db/athena, fixture id
44500003), the next load maps the record again and writes that concept.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from adapter.cli import app
from adapter.mds.synth import generate
from adapter.omop.staging import STAGED, concept_code
from adapter.stores import concepts
from adapter.stores.incoming import read_incoming
from adapter.stores.load import LoadReport, load_records
from adapter.stores.omop_db import init_db
from adapter.stores.pseudonym import Pseudonymiser
from tests.db.helpers import dialect_of, rows
from tests.db.loading import KEY, write_lines

FIXTURE_CONCEPT = 44500003
CODE = "9180/3-C40.2"


def _load(url: str, path: Path, chunk_size: int = 500) -> LoadReport:
    with path.open("rb") as f:
        return load_records(url, read_incoming(f), pseudonym=Pseudonymiser(KEY),
                            source=path.name, chunk_size=chunk_size)  # fmt: skip


def _condition(url: str) -> list[tuple[Any, ...]]:
    name = "cdm.condition_occurrence" if dialect_of(url) == "postgresql" else "condition_occurrence"
    return rows(url, "SELECT condition_concept_id, condition_source_value, "
                f"condition_source_concept_id FROM {name}")  # fmt: skip


def _last_run(url: str) -> dict[str, Any]:
    name = "adapter.runs" if dialect_of(url) == "postgresql" else "adapter_runs"
    found = rows(url, f"SELECT details FROM {name} WHERE command = 'load' ORDER BY run_id DESC")
    details: dict[str, Any] = json.loads(found[0][0])
    return details


def test_an_athena_load_maps_what_the_bundled_subset_lacks(
    db_url: str, tmp_path: Path, athena_dir: Path
) -> None:
    record = next(r for r, _ in generate(1, 5))
    assert f"{record.histology_icdo3}-{record.primary_site_icdo3}" == CODE
    path = write_lines(tmp_path / "bone.jsonl", [record])
    init_db(db_url)  # the bundled subset

    first = _load(db_url, path)
    assert (first.loaded, first.rejected) == (1, 0)
    assert dict(first.unmapped) == {CODE: 1}
    assert _condition(db_url) == [(0, CODE, 0)]
    assert (_last_run(db_url)["unmapped"], _last_run(db_url)["unmapped_codes"]) == (1, {CODE: 1})

    result = CliRunner().invoke(app, ["db", "init", "--db", db_url, "--athena", str(athena_dir)])
    assert result.exit_code == 0, result.output

    second = _load(db_url, path)  # same record, new vocabulary: mapped again, not skipped
    assert second.counts() == {"loaded": 0, "updated": 1, "unchanged": 0, "deleted": 0,
                               "rejected": 0}  # fmt: skip
    assert dict(second.unmapped) == {}
    assert _condition(db_url) == [(FIXTURE_CONCEPT, CODE, FIXTURE_CONCEPT)]
    assert _last_run(db_url)["unmapped"] == 0
    version = "adapter.records" if dialect_of(db_url) == "postgresql" else "adapter_records"
    assert rows(db_url, f"SELECT version FROM {version}") == [(1,)]  # content did not change

    third = _load(db_url, path)
    assert (third.unchanged, third.updated, third.rows) == (1, 0, 0)


def test_concepts_are_looked_up_once_per_chunk_not_per_record(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real = concepts.concepts_statement

    def counting(dialect: Any, vocabulary_id: str, codes: Any) -> Any:
        codes = list(codes)
        calls.append(len(codes))
        return real(dialect, vocabulary_id, codes)

    monkeypatch.setattr(concepts, "concepts_statement", counting)  # what DbResolver queries
    init_db(db_url)
    records = [r for r, _ in generate(40, 5)]
    report = _load(db_url, write_lines(tmp_path / "in.jsonl", records), chunk_size=10)
    assert report.loaded + report.rejected == 40
    # at most one query per vocabulary (ICDO3, Cancer Modifier) and chunk, fewer once known
    assert 1 <= len(calls) <= 8
    distinct = {f"{r.histology_icdo3}-{r.primary_site_icdo3}" for r in records}
    staging = {concept_code(n, getattr(r, n)) for r in records for n in STAGED
               if getattr(r, n) is not None} - {None}  # fmt: skip
    assert sum(calls) == len(distinct) + len(staging)  # each code asked for once in the run
    unmapped_rows = rows(
        db_url,
        "SELECT count(*) FROM "
        + ("cdm.condition_occurrence" if dialect_of(db_url) == "postgresql" else
           "condition_occurrence") + " WHERE condition_concept_id = 0",
    )  # fmt: skip
    icdo3 = sum(n for code, n in report.unmapped.items() if "/" in code)  # the other: staging
    assert unmapped_rows == [(icdo3,)]
