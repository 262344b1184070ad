"""MDS → OMOP → MDS through the database is the identity, and the CLI does it end to end.

The fake mapping (tests/db/fake_omop.py) tests the store now; the same tests run with the real
mapping (adapter.omop.to_omop / from_omop) as soon as it exists, skipped until then.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

import adapter.omop
from adapter.cli import app
from adapter.mds.record import MdsRecord
from adapter.mds.synth import generate
from adapter.omop.losses import as_exported
from adapter.stores import cdm_records as cdm_module
from adapter.stores import export as export_module
from adapter.stores import load as load_module
from adapter.stores.export import export_records, stored_records
from adapter.stores.incoming import read_incoming
from adapter.stores.load import load_records
from adapter.stores.omop_db import init_db
from adapter.stores.pseudonym import Pseudonymiser
from tests.db import fake_omop
from tests.db.loading import KEY, dump, exported_lines, fake_load, projected, write_lines

REAL = hasattr(adapter.omop, "to_omop") and hasattr(adapter.omop, "from_omop")
needs_mapping = pytest.mark.skipif(not REAL, reason="adapter.omop.to_omop is not there yet")


def test_export_rebuilds_the_loaded_records_in_order(db_url: str, tmp_path: Path) -> None:
    init_db(db_url)
    records = projected(50)
    fake_load(db_url, write_lines(tmp_path / "in.jsonl", records))
    out = list(export_records(db_url, from_omop=fake_omop.from_omop))
    assert out == records
    assert list(stored_records(db_url)) == records
    tomb = write_lines(tmp_path / "del.jsonl", [{"record_id": records[1].record_id,
                                                 "_deleted": True}])  # fmt: skip
    fake_load(db_url, tomb)
    assert list(export_records(db_url, from_omop=fake_omop.from_omop)) == [records[0], *records[2:]]


def _cli_round_trip(db_url: str, tmp_path: Path, records: list[MdsRecord]) -> None:
    """Done-when: db init, load N, load again (N unchanged, no row changed), export = input."""
    runner = CliRunner()
    path = write_lines(tmp_path / "in.jsonl", records)
    n = len(records)
    result = runner.invoke(app, ["db", "init", "--db", db_url])
    assert result.exit_code == 0, result.output
    first = runner.invoke(app, ["load", str(path), "--db", db_url, "--json"])
    assert first.exit_code == 0, first.output
    assert _counts(first.stdout) == {"loaded": n, "updated": 0, "unchanged": 0, "deleted": 0,
                                     "rejected": 0}  # fmt: skip
    before = dump(db_url)
    second = runner.invoke(app, ["load", str(path), "--db", db_url, "--json"])
    assert _counts(second.stdout) == {"loaded": 0, "updated": 0, "unchanged": n, "deleted": 0,
                                      "rejected": 0}  # fmt: skip
    assert dump(db_url) == before
    out = tmp_path / "out.jsonl"
    exported = runner.invoke(app, ["export", "--db", db_url, "--to", "mds", "-o", str(out)])
    assert exported.exit_code == 0, exported.output
    assert out.read_bytes() == exported_lines(path)


def _counts(stdout: str) -> dict[str, Any]:
    data = orjson.loads(stdout.strip().splitlines()[-1])
    return {k: data[k] for k in ("loaded", "updated", "unchanged", "deleted", "rejected")}


def test_cli_done_when_with_the_fake_mapping(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MDS_ADAPTER_PSEUDONYM_KEY", KEY)
    monkeypatch.setattr(load_module, "default_to_omop", lambda: fake_omop.to_omop)
    monkeypatch.setattr(export_module, "default_from_omop", lambda: fake_omop.from_omop)
    monkeypatch.setattr(cdm_module, "default_from_omop", lambda: fake_omop.from_omop)  # the CLI's
    monkeypatch.setattr(load_module, "check_record", lambda record, config: [])  # projected
    _cli_round_trip(db_url, tmp_path, projected(200))


def test_cli_load_without_a_key_stops_before_any_work(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MDS_ADAPTER_PSEUDONYM_KEY", raising=False)
    init_db(db_url)
    path = write_lines(tmp_path / "in.jsonl", projected(2))
    result = CliRunner().invoke(app, ["load", str(path), "--db", db_url])
    assert result.exit_code == 2
    assert "MDS_ADAPTER_PSEUDONYM_KEY is not set" in result.output


@needs_mapping
def test_cli_done_when_with_the_real_mapping(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MDS_ADAPTER_PSEUDONYM_KEY", KEY)
    _cli_round_trip(db_url, tmp_path, [r for r, _ in generate(1000, 11)])


@needs_mapping
@pytest.mark.slow
def test_ten_thousand_records_round_trip_through_the_database(db_url: str, tmp_path: Path) -> None:
    init_db(db_url)
    records = [r for r, _ in generate(10_000, 3)]
    path = write_lines(tmp_path / "in.jsonl", records)
    started = time.perf_counter()
    with path.open("rb") as f:
        report = load_records(db_url, read_incoming(f), pseudonym=Pseudonymiser(KEY),
                              source="10k")  # fmt: skip
    assert (report.loaded, report.rejected) == (10_000, 0)
    assert list(export_records(db_url)) == [as_exported(r) for r in records]
    assert time.perf_counter() - started < 60
