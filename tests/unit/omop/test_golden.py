"""Golden OMOP rows for hand-checked records (tests/golden/omop/<case>.json).

Each file holds the record, the exact rows (tables not listed are empty, columns not listed are
NULL, ids written as `table:key`) and the findings. Regenerate deliberately, then read the diff:
`MDS_GOLDEN_REGENERATE=1 pytest tests/unit/omop/test_golden.py`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from adapter.mds.record import MdsRecord
from adapter.omop import from_omop, to_omop
from adapter.omop.losses import expected_back
from adapter.terminology import Terminology
from tests.unit.omop.helpers import as_json, pseudonym

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "omop"
CASES = sorted(p.stem for p in GOLDEN.glob("*.json"))


def _findings(found: list[Any]) -> list[list[Any]]:
    return [[f.code, f.level.value, list(f.elements), list(f.values)] for f in found]


@pytest.mark.parametrize("case", CASES)
def test_golden_rows(case: str) -> None:
    path = GOLDEN / f"{case}.json"
    golden = json.loads(path.read_text(encoding="utf-8"))
    record = MdsRecord.model_validate_json(json.dumps(golden["record"]))
    t = Terminology.load()
    rows, findings = to_omop(record, t, pseudonym=pseudonym)
    actual = {"rows": as_json(rows), "findings": _findings(findings)}
    if os.environ.get("MDS_GOLDEN_REGENERATE"):
        path.write_text(
            json.dumps({"record": golden["record"], **actual}, indent=1, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )
    assert actual == {"rows": golden["rows"], "findings": golden["findings"]}
    back = from_omop(rows, t, record_id=record.record_id)
    assert isinstance(back, MdsRecord)
    assert {n: getattr(back, n) for n in MdsRecord.model_fields} == expected_back(record)


def test_there_are_golden_cases() -> None:
    assert len(CASES) >= 3
