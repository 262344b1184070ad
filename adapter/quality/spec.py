"""Which DQD check applies to which table and field, read from the vendored DQD CSVs (dqd/).

The CSVs are data: one row per table (Table_Level) and per field (Field_Level), with a column
per check saying whether it applies ("Yes", or the limit for plausibleValueLow/High) and a
`<check>Threshold` column with the failure threshold in percent. Which column switches a check
on is the `evaluationFilter` of the DQD's Check_Descriptions CSV; those filters are restated in
`SELECTORS` (facts, not code, from the DQD), so adding a check to the CSV needs no code here.

Like the DQD's default run (executeDqChecks' `tablesToExclude`), the vocabulary tables that
Athena ships are left out: they are checked by their publisher, not by each CDM.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

__all__ = [
    "DQD_DIR",
    "EXCLUDED_TABLES",
    "SELECTORS",
    "Row",
    "rows",
    "selected",
]

DQD_DIR = Path(__file__).resolve().parent / "dqd"

EXCLUDED_TABLES = frozenset({
    "concept", "vocabulary", "concept_ancestor", "concept_relationship", "concept_class",
    "concept_synonym", "relationship", "domain",
})  # fmt: skip
"""The DQD's default `tablesToExclude`: vocabulary tables, checked where they are made."""

_FILES = {"table": "OMOP_CDMv5.4_Table_Level.csv", "field": "OMOP_CDMv5.4_Field_Level.csv"}


@dataclass(frozen=True, slots=True)
class Row:
    """One CSV row: a table (field None) or a field, with every column as the CSV spells it."""

    level: Literal["table", "field"]
    table: str
    field: str | None
    values: Mapping[str, str]

    def get(self, column: str) -> str:
        """A column's value, stripped ("" when empty or absent)."""
        return (self.values.get(column) or "").strip()

    def says(self, column: str) -> bool:
        return self.get(column) == "Yes"

    def threshold(self, check: str) -> float:
        """`<check>Threshold` in percent; 0 when empty (the DQD then fails on any violation)."""
        value = self.get(f"{check}Threshold")
        return float(value) if value else 0.0

    def lower(self, column: str) -> str:
        """A column naming a table or field (the CSVs spell some in capitals), lower case."""
        return self.get(column).strip('"').lower()


Selector = Callable[[Row], bool]

SELECTORS: dict[str, tuple[Literal["table", "field"], Selector]] = {
    "cdmTable": ("table", lambda r: bool(r.table)),
    "measurePersonCompleteness": ("table", lambda r: r.says("measurePersonCompleteness")),
    "measureConditionEraCompleteness": (
        "table", lambda r: r.says("measureConditionEraCompleteness"),
    ),
    "measureObservationPeriodOverlap": (
        "table", lambda r: r.says("measureObservationPeriodOverlap"),
    ),
    "cdmField": ("field", lambda r: bool(r.field)),
    "isRequired": ("field", lambda r: r.says("isRequired")),
    "cdmDatatype": ("field", lambda r: r.get("cdmDatatype") == "integer"),
    "isPrimaryKey": ("field", lambda r: r.says("isPrimaryKey")),
    "isForeignKey": ("field", lambda r: r.says("isForeignKey")),
    "fkDomain": ("field", lambda r: r.says("isForeignKey") and bool(r.get("fkDomain"))),
    "fkClass": ("field", lambda r: r.says("isForeignKey") and bool(r.get("fkClass"))),
    "isStandardValidConcept": ("field", lambda r: r.says("isStandardValidConcept")),
    "measureValueCompleteness": ("field", lambda r: r.says("measureValueCompleteness")),
    "standardConceptRecordCompleteness": (
        "field", lambda r: r.says("standardConceptRecordCompleteness"),
    ),
    "sourceConceptRecordCompleteness": (
        "field", lambda r: r.says("sourceConceptRecordCompleteness"),
    ),
    "sourceValueCompleteness": ("field", lambda r: r.says("sourceValueCompleteness")),
    "plausibleValueLow": ("field", lambda r: bool(r.get("plausibleValueLow"))),
    "plausibleValueHigh": ("field", lambda r: bool(r.get("plausibleValueHigh"))),
    "plausibleTemporalAfter": ("field", lambda r: r.says("plausibleTemporalAfter")),
    "plausibleDuringLife": ("field", lambda r: r.says("plausibleDuringLife")),
    "withinVisitDates": ("field", lambda r: r.says("withinVisitDates")),
    "plausibleAfterBirth": ("field", lambda r: r.says("plausibleAfterBirth")),
    "plausibleBeforeDeath": ("field", lambda r: r.says("plausibleBeforeDeath")),
    "plausibleStartBeforeEnd": ("field", lambda r: r.says("plausibleStartBeforeEnd")),
}  # fmt: skip
"""Check name → (CSV it reads, the row filter): the `evaluationFilter` column of the DQD's
OMOP_CDMv5.4_Check_Descriptions.csv, in its order. The concept-level checks (plausibleGender,
plausibleUnitConceptIds) read a third CSV (Concept_Level) that is not vendored here."""


@cache
def rows(level: Literal["table", "field"]) -> tuple[Row, ...]:
    """Every row of one CSV, tables and fields in lower case, excluded tables left out."""
    with (DQD_DIR / _FILES[level]).open(encoding="utf-8", newline="") as f:
        found = []
        for values in csv.DictReader(f):
            table = values["cdmTableName"].strip().lower()
            if table in EXCLUDED_TABLES:
                continue
            name = values["cdmFieldName"].strip().strip('"').lower() if level == "field" else None
            found.append(Row(level, table, name, values))
    return tuple(found)


def selected() -> Iterator[tuple[str, Row]]:
    """(check name, row) for every check the CSVs switch on, in the DQD's order."""
    for name, (level, applies) in SELECTORS.items():
        for row in rows(level):
            if applies(row):
                yield name, row
