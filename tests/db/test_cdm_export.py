"""`mds-adapter export --from cdm`: records rebuilt from the CDM rows, written as MDS or FHIR.

Records go in through the real load path (the mapping, the record store, COPY / executemany);
what comes out is read back with the adapter's FHIR reader, as `mds-adapter convert` does, and
held against the MDS export, the loaded input and the database's own rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from adapter.cli import app
from adapter.fhir import read_ndjson
from adapter.fhir.served import RESOURCE_TYPES
from adapter.mds.record import MdsRecord
from adapter.mds.synth import generate
from adapter.omop import to_omop
from adapter.sources.jsonl import dumps
from adapter.stores.cdm_records import PERSON_TABLES
from adapter.stores.incoming import read_incoming
from adapter.stores.load import load_records
from adapter.stores.omop_db import connect, init_db
from adapter.stores.pseudonym import Pseudonymiser
from adapter.terminology import Terminology
from tests.db.helpers import dialect_of, rows
from tests.db.loading import KEY, write_lines

runner = CliRunner()


def _loaded(url: str, tmp_path: Path, n: int, seed: int) -> list[MdsRecord]:
    """`n` generated records loaded through the real load path; the records."""
    init_db(url)
    records = [r for r, _ in generate(n, seed)]
    path = write_lines(tmp_path / "in.jsonl", records)
    with path.open("rb") as f:
        report = load_records(url, read_incoming(f), pseudonym=Pseudonymiser(KEY), source="in")
    assert (report.loaded, report.rejected) == (n, 0)
    return records


def _export(url: str, out: Path, *args: str) -> Result:
    return runner.invoke(app, ["export", "--db", url, "-o", str(out), *args])


def _back(bundles: Path, tmp_path: Path) -> bytes:
    """The FHIR read back to MDS JSON Lines, as `mds-adapter convert` does it."""
    back = tmp_path / f"{bundles.stem}.back.jsonl"
    result = runner.invoke(app, ["convert", str(bundles), "-o", str(back), "--to", "mds"])
    assert result.exit_code == 0, result.output
    return back.read_bytes()


def _execute(url: str, sql: str) -> None:
    engine = connect(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(sql))
    finally:
        engine.dispose()


def _cdm(url: str, name: str) -> str:
    return f"cdm.{name}" if dialect_of(url) == "postgresql" else name


def _adapter(url: str, name: str) -> str:
    return f"adapter.{name}" if dialect_of(url) == "postgresql" else f"adapter_{name}"


def test_cdm_to_fhir_reads_back_as_cdm_to_mds(db_url: str, tmp_path: Path) -> None:
    """OMOP → FHIR → MDS = OMOP → MDS, byte for byte: 10,000 records on SQLite, 1,000 on
    PostgreSQL (which loads slower)."""
    n = 10_000 if dialect_of(db_url) == "sqlite" else 1_000
    records = _loaded(db_url, tmp_path, n, seed=41)
    as_mds = _export(db_url, tmp_path / "cdm.jsonl", "--to", "mds")
    assert as_mds.exit_code == 0, as_mds.output
    as_fhir = _export(db_url, tmp_path / "cdm.ndjson", "--to", "fhir")
    assert as_fhir.exit_code == 0, as_fhir.output
    mds = (tmp_path / "cdm.jsonl").read_bytes()
    exported = [orjson.loads(line) for line in mds.splitlines()]
    assert [(r["record_id"], r.get("institution")) for r in exported] == [
        (r.record_id, r.institution) for r in records
    ]  # the record store's clear ids, in load order
    bundles = (tmp_path / "cdm.ndjson").read_bytes().splitlines()
    assert len(bundles) == n
    assert _back(tmp_path / "cdm.ndjson", tmp_path) == mds


def _references(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "reference" and isinstance(v, str):
                yield v
            else:
                yield from _references(v)
    elif isinstance(value, list):
        for v in value:
            yield from _references(v)


def test_bulk_layout_a_file_per_type_with_every_reference_resolved(
    db_url: str, tmp_path: Path
) -> None:
    _loaded(db_url, tmp_path, 300, seed=42)
    out = tmp_path / "bulk"
    result = _export(db_url, out, "--to", "fhir", "--layout", "bulk")
    assert result.exit_code == 0, result.output
    files = sorted(out.iterdir())
    assert {f.name for f in files} <= {f"{t}.ndjson" for t in RESOURCE_TYPES}
    found: dict[str, dict[str, Any]] = {}
    for f in files:
        for line in f.read_bytes().splitlines():
            resource = orjson.loads(line)
            assert resource["resourceType"] == f.stem
            found[f"{f.stem}/{resource['id']}"] = resource
    references = [ref for r in found.values() for ref in _references(r)]
    assert len(references) > len(found)  # every resource but the Organizations points somewhere
    assert [ref for ref in references if ref not in found] == []
    patients = (out / "Patient.ndjson").read_bytes().splitlines()
    assert len(patients) == rows(db_url, f"SELECT count(*) FROM {_cdm(db_url, 'person')}")[0][0]
    _export(db_url, tmp_path / "cdm.jsonl", "--to", "mds")
    lines = [line for f in files for line in f.read_bytes().splitlines()]
    back = list(read_ndjson(lines, Terminology.load()))
    assert b"".join(dumps(r) + b"\n" for r in back) == (tmp_path / "cdm.jsonl").read_bytes()


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield k
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)
    elif isinstance(value, str):
        yield value


def test_pseudonymous_export_holds_no_clear_record_id_or_institution(
    db_url: str, tmp_path: Path
) -> None:
    records = _loaded(db_url, tmp_path, 300, seed=43)
    ids = {r.record_id for r in records}
    institutions = {r.institution for r in records if r.institution}
    assert len(institutions) > 5
    results = [
        _export(db_url, tmp_path / "p.jsonl", "--to", "mds", "--pseudonymous"),
        _export(db_url, tmp_path / "p.ndjson", "--to", "fhir", "--pseudonymous"),
        _export(db_url, tmp_path / "bulk", "--to", "fhir", "--layout", "bulk", "--pseudonymous"),
    ]
    assert [r.exit_code for r in results] == [0, 0, 0], [r.output for r in results]
    outputs = [tmp_path / "p.jsonl", tmp_path / "p.ndjson", *(tmp_path / "bulk").iterdir()]
    organizations = (tmp_path / "bulk" / "Organization.ndjson").read_bytes().splitlines()
    assert [o for o in map(orjson.loads, organizations) if "name" in o] == []  # country only
    for path in outputs:
        text = path.read_text()
        assert [i for i in ids if i in text] == [], path.name
        words = {w for line in text.splitlines() for s in _strings(orjson.loads(line))
                 for w in s.replace("/", " ").replace("|", " ").split()}  # fmt: skip
        assert words & institutions == set(), path.name
    assert [i for r in results for i in ids if i in r.output] == []
    exported = [orjson.loads(line) for line in (tmp_path / "p.jsonl").read_bytes().splitlines()]
    assert [r for r in exported if "institution" in r] == []
    pseudonyms = rows(db_url, f"SELECT person_source_value FROM {_cdm(db_url, 'person')} "
                              "ORDER BY person_id")  # fmt: skip
    assert [r["record_id"] for r in exported] == [p[0] for p in pseudonyms]


def test_a_person_whose_rows_make_no_record_is_reported_and_the_rest_exported(
    db_url: str, tmp_path: Path
) -> None:
    _loaded(db_url, tmp_path, 50, seed=44)
    assert _export(db_url, tmp_path / "before.jsonl", "--to", "mds").exit_code == 0
    person_id, record_id = rows(
        db_url,
        f"SELECT c.id, r.record_id FROM {_adapter(db_url, 'crosswalk')} c JOIN "
        f"{_adapter(db_url, 'records')} r ON r.record_no = c.record_no "
        "WHERE c.table_name = 'person' ORDER BY c.id LIMIT 1 OFFSET 20",
    )[0]
    _execute(db_url, f"DELETE FROM {_cdm(db_url, 'condition_occurrence')} "
                     f"WHERE person_id = {person_id}")  # fmt: skip
    for to, out in (("mds", tmp_path / "cdm.jsonl"), ("fhir", tmp_path / "cdm.ndjson")):
        result = _export(db_url, out, "--to", to)
        assert result.exit_code == 1
        errors = [line for line in result.stderr.splitlines() if line.startswith("error")]
        assert errors == [f"error: person_id {person_id}, record {record_id}: "
                          "no CONDITION_OCCURRENCE row for the tumour"]  # fmt: skip
        assert result.stderr.splitlines()[-1] == f"wrote 49 records to {out}; 1 failed"
    before = (tmp_path / "before.jsonl").read_bytes().splitlines(keepends=True)
    expected = b"".join(x for x in before if orjson.loads(x)["record_id"] != record_id)
    assert len(expected.splitlines()) == 49
    assert (tmp_path / "cdm.jsonl").read_bytes() == expected
    assert _back(tmp_path / "cdm.ndjson", tmp_path) == expected


def test_a_person_the_record_store_does_not_know_is_exported_pseudonymously(
    db_url: str, tmp_path: Path
) -> None:
    _loaded(db_url, tmp_path, 20, seed=45)
    persons = f"SELECT person_id, person_source_value FROM {_cdm(db_url, 'person')}"
    person_id, pseudonym = rows(db_url, persons + " ORDER BY person_id")[3]
    _execute(db_url, f"DELETE FROM {_adapter(db_url, 'crosswalk')} "
                     f"WHERE table_name = 'person' AND id = {person_id}")  # fmt: skip
    result = _export(db_url, tmp_path / "cdm.jsonl", "--to", "mds")
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[0] == (
        f"warning: person_id {person_id}: the record store does not know this person: exported "
        "with its person_source_value and no institution")  # fmt: skip
    exported = [orjson.loads(line) for line in (tmp_path / "cdm.jsonl").read_bytes().splitlines()]
    assert len(exported) == 20
    assert exported[3]["record_id"] == pseudonym and "institution" not in exported[3]


def test_every_table_the_mapping_writes_is_read() -> None:
    """What `to_omop` writes for generated records, against what the CDM reader reads."""
    terminology = Terminology.load()
    pseudonym = Pseudonymiser(KEY)
    written = {name for r, _ in generate(300, 46)
               for name in to_omop(r, terminology, pseudonym=pseudonym)[0]}  # fmt: skip
    read = {"person", *PERSON_TABLES, "episode_event", "care_site", "location"}
    assert written - read == set()


@pytest.mark.parametrize("args", [["--to", "xml"], ["--layout", "bulk"],
                                  ["--from", "store", "--pseudonymous"]])  # fmt: skip
def test_options_that_cannot_go_together_exit_2(tmp_path: Path, args: list[str]) -> None:
    result = _export("sqlite:///" + str(tmp_path / "none.sqlite"), tmp_path / "x", *args)
    assert result.exit_code == 2
    assert not (tmp_path / "none.sqlite").exists()
