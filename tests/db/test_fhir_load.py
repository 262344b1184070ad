"""`load` reads FHIR as well as MDS JSON Lines, chosen by content (issue 6 item 6).

synth → convert --to fhir → load → export --to mds gives the synth file back, for NDJSON (one
Bundle a line) and for one Bundle in a .json file; input the FHIR reader rejects goes to the
quarantine with its reasons while the other records load.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from adapter.cli import app
from tests.db.helpers import dialect_of, rows
from tests.db.loading import KEY, exported_lines

N = 30


@pytest.fixture
def synth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MDS_ADAPTER_PSEUDONYM_KEY", KEY)
    path = tmp_path / "synth.jsonl"
    result = CliRunner().invoke(app, ["synth", "--n", str(N), "--seed", "11", "-o", str(path)])
    assert result.exit_code == 0, result.output
    return path


def _run(*args: str) -> Any:
    result = CliRunner().invoke(app, list(args))
    return result


def _counts(stdout: str) -> dict[str, Any]:
    data = orjson.loads(stdout.strip().splitlines()[-1])
    return {k: data[k] for k in ("loaded", "updated", "unchanged", "deleted", "rejected")}


@pytest.mark.parametrize("suffix", ["ndjson", "json"])
def test_fhir_round_trip_through_the_database(
    db_url: str, tmp_path: Path, synth: Path, suffix: str
) -> None:
    fhir = tmp_path / f"synth.{suffix}"
    converted = _run("convert", str(synth), "--to", "fhir", "-o", str(fhir))
    assert converted.exit_code == 0, converted.output
    assert _run("db", "init", "--db", db_url).exit_code == 0
    first = _run("load", str(fhir), "--db", db_url, "--json")
    assert first.exit_code == 0, first.output
    assert _counts(first.stdout) == {"loaded": N, "updated": 0, "unchanged": 0, "deleted": 0,
                                     "rejected": 0}  # fmt: skip
    again = _run("load", str(synth), "--db", db_url, "--json")  # the same records as MDS
    assert _counts(again.stdout)["unchanged"] == N
    out = tmp_path / "out.jsonl"
    exported = _run("export", "--db", db_url, "--to", "mds", "-o", str(out))
    assert exported.exit_code == 0, exported.output
    assert out.read_bytes() == exported_lines(synth)


def test_rejected_fhir_input_is_quarantined_with_its_reasons(
    db_url: str, tmp_path: Path, synth: Path
) -> None:
    fhir = tmp_path / "synth.ndjson"
    assert _run("convert", str(synth), "--to", "fhir", "-o", str(fhir)).exit_code == 0
    lines = fhir.read_bytes().splitlines()
    bad = tmp_path / "bad.ndjson"
    bad.write_bytes(b"\n".join([lines[0], b'{"resourceType": "Bundle", "type": ', *lines[1:]]))
    assert _run("db", "init", "--db", db_url).exit_code == 0
    loaded = _run("load", str(bad), "--db", db_url, "--json")
    assert loaded.exit_code == 1
    assert _counts(loaded.stdout) == {"loaded": N, "updated": 0, "unchanged": 0, "deleted": 0,
                                      "rejected": 1}  # fmt: skip
    name = "adapter.quarantine" if dialect_of(db_url) == "postgresql" else "adapter_quarantine"
    found = rows(db_url, f"SELECT location, raw, findings, record_id FROM {name}")
    assert len(found) == 1
    location, raw, findings, record_id = found[0]
    assert (location, raw, record_id) == ("line 2", '{"resourceType": "Bundle", "type":', None)
    assert [f["code"] for f in json.loads(findings)] == ["source.invalid-json"]


def test_load_refuses_formats_it_does_not_read(db_url: str, tmp_path: Path, synth: Path) -> None:
    table = tmp_path / "synth.csv"
    assert _run("convert", str(synth), "-o", str(table)).exit_code == 0
    refused = _run("load", str(table), "--db", db_url)
    assert refused.exit_code == 2
    assert "load reads MDS JSON Lines or FHIR" in refused.output
