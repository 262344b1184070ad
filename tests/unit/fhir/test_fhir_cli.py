"""`mds-adapter convert` between MDS JSON Lines and FHIR (NDJSON or one Bundle in .json)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from adapter.cli import app
from adapter.fhir.validate import validate_bundle
from adapter.mds.record import MdsRecord
from adapter.mds.synth import generate
from adapter.sources.formats import guess_format
from adapter.sources.jsonl import dumps, read_jsonl

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def records_of(path: Path) -> list[MdsRecord]:
    with path.open("rb") as f:
        return [r for r in read_jsonl(f) if isinstance(r, MdsRecord)]


def test_1000_records_to_fhir_ndjson_and_back_with_every_bundle_valid(tmp_path: Path) -> None:
    source, bundles, back = tmp_path / "r.jsonl", tmp_path / "b.ndjson", tmp_path / "back.jsonl"
    assert run("synth", "--n", "1000", "--seed", "2", "-o", str(source))[0] == 0
    assert run("convert", str(source), "-o", str(bundles), "--to", "fhir")[:2] == (0, "")
    lines = bundles.read_bytes().splitlines()
    assert len(lines) == 1000
    errors = [
        (n, f.location, f.message)
        for n, line in enumerate(lines, start=1)
        for f in validate_bundle(orjson.loads(line))
        if f.level.value == "error"
    ]
    assert errors == []
    code, stdout, stderr = run("convert", str(bundles), "-o", str(back), "--to", "mds")
    assert (code, stdout) == (0, "")
    assert "1000 records read" in stderr and "(fhir-ndjson): 1000 written" in stderr
    assert back.read_bytes() == source.read_bytes()


@pytest.mark.parametrize("kind", ["transaction", "collection"])
def test_one_bundle_json_file_there_and_back(tmp_path: Path, kind: str) -> None:
    source, bundle, back = tmp_path / "r.jsonl", tmp_path / "b.json", tmp_path / "back.jsonl"
    source.write_bytes(b"".join(dumps(r) + b"\n" for r, _ in generate(200, 3, 0.1)))
    assert run("convert", str(source), "-o", str(bundle), "--to", "fhir", "--bundle", kind)[0] == 0
    value = orjson.loads(bundle.read_bytes())
    assert value["type"] == kind
    assert sum(e["resource"]["resourceType"] == "Patient" for e in value["entry"]) == 200
    urls = [e["fullUrl"] for e in value["entry"]]
    assert len(urls) == len(set(urls))  # the shared Organizations once each
    assert [f for f in validate_bundle(value) if f.level.value == "error"] == []
    assert run("convert", str(bundle), "-o", str(back), "--to", "mds")[:2] == (0, "")
    assert records_of(back) == records_of(source)


def test_bad_input_is_reported_good_records_converted_exit_1(tmp_path: Path) -> None:
    source, bundles, back = tmp_path / "r.jsonl", tmp_path / "b.ndjson", tmp_path / "back.jsonl"
    records = [r for r, _ in generate(3, 8)]
    source.write_bytes(b"".join(dumps(r) + b"\n" for r in records))
    assert run("convert", str(source), "-o", str(bundles), "--to", "fhir")[0] == 0
    first, second, third = bundles.read_bytes().splitlines()
    broken = orjson.loads(second)
    i = next(i for i, e in enumerate(broken["entry"]) if e["resource"]["resourceType"] == "Patient")
    broken["entry"][i]["resource"]["gender"] = "mal"
    bundles.write_bytes(b"\n".join([first, b"{not json", orjson.dumps(broken), third]) + b"\n")

    code, stdout, stderr = run("convert", str(bundles), "-o", str(back), "--profiles", "reject")
    assert code == 1
    where = f"line 3 (Bundle/{broken['id']}): Bundle.entry[{i}].resource.gender"
    lines = stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("error   line 2: not valid JSON")
    assert lines[1].startswith(
        f"error   {where}, record {records[1].record_id}: Patient: Patient.gender not in required"
    )
    assert records_of(back) == [records[0], records[2]]
    assert stderr.strip().endswith(f"(fhir-ndjson): 2 written to {back} (jsonl), 2 rejected")

    code, stdout, _ = run("convert", str(bundles), "-o", str(back))  # warn: mapped anyway
    assert code == 1  # the line that is not JSON
    # the profile error as a warning, then the mapping's own: gender 'mal' has no MDS code
    assert [line.split(" ", 1)[0] for line in stdout.splitlines()] == [
        "error",
        "warning",
        "warning",
    ]
    assert f"{where}, record" in stdout.splitlines()[1]
    assert "gender 'mal'" in stdout.splitlines()[2]
    assert records_of(back) == [records[0], records[1].model_copy(update={"sex": None}), records[2]]


@pytest.mark.parametrize(
    ("name", "head", "expected"),
    [
        ("a.ndjson", b'{"resourceType":"Bundle","type":"transaction"}\n', "fhir-ndjson"),
        ("a.jsonl", b'{"resourceType":"Patient","id":"x"}\n{"record_id":"1"}', "fhir-ndjson"),
        ("a.ndjson", b'{"record_id":"1"}\n{"resourceType":"Patient"}\n', "jsonl"),
        ("a.json", b'{\n  "resourceType": "Bundle",\n  "type": "collection"', "fhir-json"),
        ("a.json", b'{"record_id": "1"}\n', "jsonl"),
    ],
)
def test_fhir_is_told_from_mds_json_lines_by_content(name: str, head: bytes, expected: str) -> None:
    assert guess_format(name, head) == expected
