"""Golden bundles: hand-checked records and the exact Bundles they become (both forms).

tests/golden/fhir/<case>.mds.json is the record; <case>.transaction.json and
<case>.collection.json are the expected Bundles, compared exactly. To accept a deliberate
change of the mapping, regenerate with `MDS_UPDATE_GOLDEN=1 pytest tests/unit/fhir` and review
the diff before committing.
"""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest

from adapter.fhir import read_fhir, to_fhir
from adapter.mds.record import MdsRecord
from adapter.terminology import Terminology

FOLDER = Path(__file__).resolve().parents[2] / "golden" / "fhir"
CASES = sorted(p.name.removesuffix(".mds.json") for p in FOLDER.glob("*.mds.json"))
UPDATE = os.environ.get("MDS_UPDATE_GOLDEN") == "1"


def test_the_five_required_cases_are_there() -> None:
    assert CASES == [
        "bone-osteosarcoma-femur",
        "deceased-leiomyosarcoma",
        "metastatic-synovial-sarcoma",
        "pelvis-chondrosarcoma",
        "soft-tissue-thigh",
    ]


@pytest.mark.parametrize("kind", ["transaction", "collection"])
@pytest.mark.parametrize("case", CASES)
def test_golden_bundle(case: str, kind: str) -> None:
    record = MdsRecord.model_validate_json((FOLDER / f"{case}.mds.json").read_bytes())
    bundle = to_fhir(record, Terminology.load(), kind)  # type: ignore[arg-type]
    expected_file = FOLDER / f"{case}.{kind}.json"
    text = orjson.dumps(bundle, option=orjson.OPT_INDENT_2) + b"\n"
    if UPDATE:
        expected_file.write_bytes(text)
    assert orjson.loads(expected_file.read_bytes()) == bundle
    assert list(read_fhir([orjson.loads(expected_file.read_bytes())])) == [record]


@pytest.mark.parametrize("case", CASES)
def test_golden_bundles_conform(case: str) -> None:
    """The profile validator (adapter/fhir/validate.py) and fhir.resources R4B find no error."""
    validate = pytest.importorskip("adapter.fhir.validate")
    bundle = orjson.loads((FOLDER / f"{case}.transaction.json").read_bytes())
    findings = validate.validate_bundle(bundle) + [
        f for e in bundle["entry"] for f in validate.parse_r4b(e["resource"])
    ]
    assert [(f.location, f.message) for f in findings if f.level.value == "error"] == []
