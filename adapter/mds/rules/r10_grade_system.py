"""R10 grade and grading system: a grade is read through its system (FNCLCC 1-3 vs low/high)."""

from __future__ import annotations

from collections.abc import Iterator

from adapter.errors import Finding, Level
from adapter.mds.record import MdsRecord
from adapter.mds.rules.base import Rule, RuleConfig, finding, tissue

__all__ = ["RULE", "check"]

GRADES_BY_SYSTEM: dict[str, tuple[str, ...]] = {
    "FNCLCC": ("G1", "G2", "G3", "GX_unknown"),
    "two_tier_low_high": ("low", "high", "GX_unknown"),
}


def check(record: MdsRecord, config: RuleConfig) -> Iterator[Finding]:
    system, grade = record.grading_system, record.histologic_grade
    if system == "FNCLCC" and tissue(record) == "bone":
        yield finding(
            "R10",
            Level.ERROR,
            record,
            "grading_system FNCLCC is for soft-tissue sarcoma, not bone",
            grading_system=system,
            tissue_of_origin="bone",
        )
    allowed = GRADES_BY_SYSTEM.get(system or "")
    if grade is not None and allowed is not None and grade not in allowed:
        yield finding(
            "R10",
            Level.ERROR,
            record,
            f"histologic_grade {grade} does not fit grading_system {system} "
            f"(expected {', '.join(allowed)})",
            histologic_grade=grade,
            grading_system=system,
        )


RULE = Rule("R10", "grade and grading system", "error", check)
