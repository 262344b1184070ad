"""Hand-written OMOP cases: an MDS fragment and the exact rows the conventions ask for.

tests/cases/omop/<group>--<table>--<aspect>.json, in the style of HealthSamurai fhir2omop's
cases. Each file is written by hand from docs/omop-mapping.md and the OHDSI conventions it
cites, never from the adapter's output, and nothing here rewrites them (there is no regenerate
switch: a failing case is a bug in the mapping or in the case, to be decided by reading both).

A case holds:

- `about`: what it pins and where the convention comes from;
- `record` (or `records`, for conventions across records): the MDS fragment;
- `rows`: table → the expected rows. A list is every row of that table; an object
  `{"where": {column: value}, "rows": [...]}` is every row matching `where`. Each row lists its
  non-NULL columns: a column not listed must be NULL. Ids and foreign keys are written
  symbolically as `table:key` (the store allocates the integers); pseudonyms as
  `pseudonym(<value>)`;
- `empty` (optional): tables that must hold no row;
- `findings` (optional): the exact findings, as [code, level, elements].

With `records`, rows of shared tables (rows.SHARED_TABLES: CARE_SITE, LOCATION) with the same
id are one row, as the store writes them; other tables are the rows of every record in turn.

Run one case: `pytest tests/unit/omop/test_cases.py -k <name>`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adapter.mds.record import MdsRecord
from adapter.omop import from_omop, to_omop
from adapter.omop.losses import expected_back
from adapter.omop.rows import SHARED_TABLES
from adapter.terminology import Terminology
from tests.unit.omop.helpers import as_json

CASES_DIR = Path(__file__).resolve().parents[2] / "cases" / "omop"
CASES = sorted(p.stem for p in CASES_DIR.glob("*.json"))
CDM_TABLES = (
    "person", "care_site", "location", "observation_period", "condition_occurrence",
    "measurement", "observation", "procedure_occurrence", "episode", "episode_event", "death",
    "condition_era",
)  # fmt: skip


def pseudonym(value: str) -> str:
    """Readable in a hand-written case, never the value itself, at most 50 characters."""
    return f"pseudonym({value})"


def _map(records: list[MdsRecord], t: Terminology) -> tuple[dict[str, list[dict[str, Any]]],
                                                             list[list[Any]]]:  # fmt: skip
    tables: dict[str, list[dict[str, Any]]] = {}
    findings: list[list[Any]] = []
    for record in records:
        rows, found = to_omop(record, t, pseudonym=pseudonym)
        findings += [[f.code, f.level.value, list(f.elements)] for f in found]
        for name, table_rows in as_json(rows).items():
            target = tables.setdefault(name, [])
            for row in table_rows:
                if name in SHARED_TABLES and row in target:
                    continue
                target.append(row)
        back = from_omop(rows, t, record_id=record.record_id)
        assert isinstance(back, MdsRecord), back
        assert {n: getattr(back, n) for n in MdsRecord.model_fields} == expected_back(record)
    return tables, findings


def _sort_key(row: dict[str, Any]) -> str:
    """Rows in a stable order whatever their number type (50 and 50.0 are one value)."""
    canonical = {k: int(v) if isinstance(v, float) and v.is_integer() else v
                 for k, v in row.items()}  # fmt: skip
    return json.dumps(canonical, sort_keys=True)


@pytest.mark.parametrize("case", CASES)
def test_case(case: str) -> None:
    spec = json.loads((CASES_DIR / f"{case}.json").read_text(encoding="utf-8"))
    assert spec.get("about"), "a case says what it pins and where the convention comes from"
    documents = spec["records"] if "records" in spec else [spec["record"]]
    records = [MdsRecord.model_validate_json(json.dumps(d)) for d in documents]
    actual, findings = _map(records, Terminology.load())
    assert set(spec["rows"]) <= set(CDM_TABLES)
    for name, expected in spec["rows"].items():
        got = actual.get(name, [])
        if isinstance(expected, dict):
            where = expected["where"]
            got = [r for r in got if all(r.get(k) == v for k, v in where.items())]
            expected = expected["rows"]
        assert sorted(got, key=_sort_key) == sorted(expected, key=_sort_key), name
    for name in spec.get("empty", ()):
        assert actual.get(name, []) == [], name
    if "findings" in spec:
        assert findings == spec["findings"]


def test_every_table_and_convention_has_a_case() -> None:
    tables = {name.split("--")[1] for name in CASES}
    assert tables >= set(CDM_TABLES), sorted(set(CDM_TABLES) - tables)
