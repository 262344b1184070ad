"""`mds-adapter convert` of FHIR NDJSON with a malformed line in the middle (issue 16): the
line is reported with the FHIRPath of the bad node, the lines after it are still read."""

from __future__ import annotations

from pathlib import Path

import orjson

from adapter.fhir import to_fhir
from adapter.mds.synth import generate
from adapter.terminology import Terminology
from tests.unit.test_cli import run


def test_a_malformed_line_is_reported_and_the_rest_is_read(tmp_path: Path) -> None:
    terminology = Terminology.load()
    bundles = [to_fhir(r, terminology) for r, _ in generate(3, 7)]
    patient = next(i for i, e in enumerate(bundles[1]["entry"])
                   if e["resource"]["resourceType"] == "Patient")  # fmt: skip
    bundles[1]["entry"][patient]["resource"]["managingOrganization"] = "x"
    source = tmp_path / "in.ndjson"
    source.write_bytes(b"\n".join(orjson.dumps(b) for b in bundles) + b"\n")
    code, out, err = run("convert", str(source), "-o", str(tmp_path / "out.jsonl"), "--to", "mds")
    assert code == 1
    where = f"line 2: Bundle.entry[{patient}].resource.managingOrganization"
    assert where in out + err
    assert "Traceback" not in out + err
    written = (tmp_path / "out.jsonl").read_bytes().splitlines()
    assert [orjson.loads(x)["record_id"] for x in written] == [
        r.record_id for i, (r, _) in enumerate(generate(3, 7)) if i != 1
    ]
