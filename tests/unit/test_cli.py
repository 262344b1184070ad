"""The command line, run as users run it: synth, then check; exit codes; JSON output."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import orjson
from typer.testing import CliRunner

from adapter.cli import app

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_synth_then_check_reports_1000_records_and_no_errors(tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    code, _, err = run("synth", "--n", "1000", "--seed", "1", "-o", str(out))
    assert code == 0 and "wrote 1000 records (0 with a defect)" in err
    code, stdout, _ = run("check", str(out))
    assert code == 0
    assert "1000 records: 1000 valid, 0 rejected, 1000 eligible" in stdout
    assert "0 with errors, 0 with warnings" in stdout
    assert not [line for line in stdout.splitlines() if line.startswith(("error", "warning"))]
    assert not [line for line in stdout.splitlines() if line.startswith("info")]
    info_count = int(stdout.split("R16 age")[1].split("info")[1].split()[0])
    assert info_count > 50  # bone sarcomas peak in adolescents: R16 info is common
    code, stdout, _ = run("check", str(out), "--info")
    assert len([line for line in stdout.splitlines() if line.startswith("info")]) == info_count


def test_check_reports_exactly_the_labelled_defects(tmp_path: Path) -> None:
    out, labels = tmp_path / "d.jsonl", tmp_path / "labels.jsonl"
    code, _, err = run("synth", "--n", "1000", "--seed", "1", "--defects", "0.1",
                       "--labels", str(labels), "-o", str(out))  # fmt: skip
    assert code == 0
    labelled = [orjson.loads(line) for line in labels.read_bytes().splitlines()]
    assert f"({len(labelled)} with a defect)" in err
    assert 80 <= len(labelled) <= 120
    code, stdout, _ = run("check", str(out), "--json")
    assert code == 1  # some defects are errors
    lines = [orjson.loads(line) for line in stdout.splitlines()]
    summary = lines[-1]
    found = {
        (f["record_id"], f["code"].removeprefix("rule."))
        for f in lines[:-1]
        if f["level"] in ("error", "warning")
    }
    assert found == {(x["record_id"], x["rule"]) for x in labelled}
    per_rule = Counter(x["rule"] for x in labelled)
    for rule, n in per_rule.items():
        counts = summary["by_rule"][rule]
        assert counts.get("error", 0) + counts.get("warning", 0) == n
    assert summary["records"] == 1000 and summary["rejected"] == 0


def test_same_seed_same_file_csv_too(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.jsonl"
    for path in (a, b):
        assert run("synth", "--n", "50", "--seed", "7", "-o", str(path))[0] == 0
    assert a.read_bytes() == b.read_bytes()
    assert run("synth", "--n", "50", "--seed", "7", "-o", str(c))[0] == 0
    code, stdout, _ = run("check", str(a))
    assert code == 0 and "50 records: 50 valid, 0 rejected, 50 eligible" in stdout


def test_check_rejected_lines_exit_1_and_keep_counting(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    golden = (Path(__file__).parents[1] / "golden" / "record-osl-000123.json").read_bytes()
    path.write_bytes(orjson.dumps(orjson.loads(golden)) + b"\n{oops\n")
    code, stdout, _ = run("check", str(path))
    assert code == 1
    assert "error   line 2: not valid JSON" in stdout
    assert "2 records: 1 valid, 1 rejected, 1 eligible" in stdout


def test_check_policy_options(tmp_path: Path) -> None:
    path = tmp_path / "desmoid.jsonl"
    record = orjson.loads(
        (Path(__file__).parents[1] / "golden" / "record-osl-000123.json").read_bytes()
    )
    path.write_bytes(orjson.dumps({**record, "histology_icdo3": "8821/1"}) + b"\n")
    assert run("check", str(path))[0] == 0  # warn by default
    code, stdout, _ = run("check", str(path), "--intermediate", "exclude")
    assert code == 1 and "R04: histology_icdo3 8821/1 (Desmoid fibromatosis)" in stdout
    code, _, err = run("check", str(path), "--intermediate", "maybe")
    assert code == 2 and "include, warn or exclude" in err


def test_unknown_format_and_missing_file_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "records.xml"
    path.write_text("<x/>")
    code, _, err = run("check", str(path))
    assert code == 2 and "cannot tell the format of" in err and "use --from (jsonl, csv," in err
    assert run("check", str(tmp_path / "nope.jsonl"))[0] == 2


def test_check_reads_every_format_convert_reads(tmp_path: Path) -> None:
    """The same records in another format give the same report, byte for byte."""
    source = tmp_path / "d.jsonl"
    assert run("synth", "--n", "200", "--seed", "3", "--defects", "0.2", "-o", str(source))[0] == 0
    expected = run("check", str(source))
    assert expected[0] == 1 and "200 records: 200 valid" in expected[1]
    formats = [("d.idea4rc.csv", "idea4rc-table"), ("raw.csv", "redcap-raw"),
               ("d.xlsx", "xlsx"), ("api.json", "redcap-json"), ("b.ndjson", "fhir")]  # fmt: skip
    for name, to in formats:
        other = tmp_path / name
        assert run("convert", str(source), "-o", str(other), "--to", to)[0] == 0
        assert run("check", str(other)) == expected, name
    copy = tmp_path / "records.txt"  # --from when the name does not say (--format still works)
    copy.write_bytes((tmp_path / "d.idea4rc.csv").read_bytes())
    assert run("check", str(copy), "--from", "idea4rc-table") == expected
    assert run("check", str(source), "--format", "jsonl") == expected


def test_every_command_has_help() -> None:
    for command in (
        ["synth"], ["check"], ["convert"], ["db", "init"], ["db", "check"],
        ["terminology", "check"], ["redcap", "dictionary"], ["excel", "template"], ["load"],
        ["export"], ["compare"],
    ):  # fmt: skip
        code, stdout, _ = run(*command, "--help")
        assert code == 0 and "Usage" in stdout
