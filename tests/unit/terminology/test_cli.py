"""`mds-adapter terminology …` as users run it: exit codes, JSON lines, error naming the row."""

from __future__ import annotations

from pathlib import Path

import orjson
from typer.testing import CliRunner

from adapter.cli import app
from tests.unit.terminology.conftest import Edit

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["terminology", *args])
    return result.exit_code, result.stdout, result.stderr


def test_check_passes_on_shipped_maps() -> None:
    code, out, _ = run("check")
    assert code == 0
    assert out.splitlines()[-1].startswith("30 maps, 548 rows")
    assert "0 errors, 0 warnings" in out


def test_check_fails_and_names_the_row(edit: Edit) -> None:
    root = edit("maps/sex.csv", lambda lines: [line.replace(",8532,", ",8533,") for line in lines])
    code, out, _ = run("check", "--dir", str(root), "--json")
    assert code == 1
    lines = [orjson.loads(line) for line in out.splitlines()]
    errors = [x for x in lines if x["type"] == "finding" and x["level"] == "error"]
    assert [(e["code"], e["location"]) for e in errors] == [
        ("terminology.unknown-concept", "terminology/maps/sex.csv line 4")
    ]
    assert lines[-1]["type"] == "summary" and lines[-1]["error"] == 1


def test_translate_and_lookup() -> None:
    code, out, _ = run("translate", "surgical_margin_r", "R0", "--target", "athena")
    assert code == 0 and "#1634643 " in out
    code, out, _ = run("translate", "athena", "4121182", "--reverse", "--json")
    assert code == 0 and orjson.loads(out.splitlines()[0])["code"] == "R0"
    code, _, err = run("translate", "laterality", "not_paired")
    assert code == 1 and "no laterality to write" in err
    code, out, _ = run("lookup", "athena", "36529931", "--json")
    assert code == 0 and orjson.loads(out)["properties"]["concept_code"] == "8805/3-C49.2"
    code, _, _ = run("lookup", "athena", "1")
    assert code == 1


def test_validate_code_exit_codes() -> None:
    assert run("validate-code", "sex", "athena", "8507")[0] == 0
    assert run("validate-code", "sex", "athena", "4188539")[0] == 1


def test_missing_folder_is_exit_2(tmp_path: Path) -> None:
    assert run("check", "--dir", str(tmp_path))[0] == 2
