"""`load` reads the IDEA4RC normalised table as `convert` does (issue 9 item 4).

synth → convert to an .idea4rc.csv → load → export gives the synth file back; a table with bad
rows loads its good records and quarantines each bad one with the reader's reason.
"""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest
from click.testing import Result
from typer.testing import CliRunner

from adapter.cli import app
from tests.db.helpers import dialect_of, rows
from tests.db.loading import KEY, exported_lines

N = 30


def _run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MDS_ADAPTER_PSEUDONYM_KEY", KEY)


def test_idea4rc_table_round_trip_through_the_database(db_url: str, tmp_path: Path) -> None:
    synth, table = tmp_path / "synth.jsonl", tmp_path / "synth.idea4rc.csv"
    assert _run("synth", "--n", str(N), "--seed", "13", "-o", str(synth)).exit_code == 0
    assert _run("convert", str(synth), "-o", str(table)).exit_code == 0
    assert _run("db", "init", "--db", db_url).exit_code == 0
    loaded = _run("load", str(table), "--db", db_url, "--json")
    assert loaded.exit_code == 0, loaded.output
    counts = orjson.loads(loaded.stdout.strip().splitlines()[-1])
    assert (counts["loaded"], counts["rejected"], counts["warnings"]) == (N, 0, 0)
    out = tmp_path / "out.jsonl"
    assert _run("export", "--db", db_url, "--to", "mds", "-o", str(out)).exit_code == 0
    assert out.read_bytes() == exported_lines(synth)


def test_bad_rows_of_a_table_are_quarantined_with_their_reasons(
    db_url: str, tmp_path: Path
) -> None:
    synth, table = tmp_path / "synth.jsonl", tmp_path / "synth.idea4rc.csv"
    assert _run("synth", "--n", "6", "--seed", "13", "-o", str(synth)).exit_code == 0
    assert _run("convert", str(synth), "-o", str(table)).exit_code == 0
    lines = table.read_text(encoding="utf-8").splitlines(keepends=True)
    ids = [orjson.loads(line)["record_id"] for line in synth.read_bytes().splitlines()]

    def spoil(record_id: str, variable: str, column: int, value: str) -> int:
        at = next(i for i, line in enumerate(lines) if line.startswith(f"{record_id};")
                  and f";{variable};" in line)  # fmt: skip
        cells = lines[at].split(";")
        cells[column] = value
        lines[at] = ";".join(cells)
        return at + 1  # the row number (the header is row 1)

    bad = [spoil(ids[1], "Patient.sex", 4, "1234567"),
           spoil(ids[2], "Patient.lastContact", 4, "2024-02-30"),
           spoil(ids[4], "HospitalData.hospitalName", 6, "99")]  # fmt: skip
    table.write_text("".join(lines), encoding="utf-8")
    assert _run("db", "init", "--db", db_url).exit_code == 0
    loaded = _run("load", str(table), "--db", db_url, "--json")
    assert loaded.exit_code == 1
    counts = orjson.loads(loaded.stdout.strip().splitlines()[-1])
    assert (counts["loaded"], counts["rejected"]) == (3, 3)
    name = "adapter.quarantine" if dialect_of(db_url) == "postgresql" else "adapter_quarantine"
    found = rows(db_url, f"SELECT location, record_id, findings FROM {name} ORDER BY record_id")
    assert [(loc, rid, [(f["code"], f["message"]) for f in json.loads(fs)])
            for loc, rid, fs in found] == [
        (f"row {bad[0]}, variable Patient.sex", ids[1], [("mds.invalid-record",
         'Patient.sex = "1234567": concept 1234567 is not a sex concept of the terminology '
         "maps")]),
        (f"row {bad[1]}, variable Patient.lastContact", ids[2], [("mds.invalid-record",
         'Patient.lastContact = "2024-02-30" (date_of_last_contact): expected a date '
         "YYYY-MM-DD: day value is outside expected range")]),
        (f"row {bad[2]}, variable HospitalData.hospitalName", ids[4], [("mds.invalid-record",
         f"HospitalData.hospitalName: linked_to 99 names no record_id of {ids[4]}")]),
    ]  # fmt: skip
