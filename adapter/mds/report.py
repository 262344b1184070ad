"""A check report: per-record findings folded into counts by rule and level.

Pure: the CLI and (later) the API feed it records and findings and print `to_json()` or
`lines()`. Counts are of records, not findings: a record with two R14 errors counts once
under R14.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from adapter.errors import Finding, Level

__all__ = ["Summary"]


@dataclass
class Summary:
    records: int = 0  # units of input: accepted records plus rejected ones
    rejected: int = 0  # could not be read as records
    eligible: int = 0  # read, and no error-level finding
    with_errors: int = 0  # rejected, or read with an error-level finding
    with_warnings: int = 0
    by_rule: Counter[tuple[str, Level]] = field(default_factory=Counter)
    by_code: Counter[str] = field(default_factory=Counter)

    def add_rejected(self, finding: Finding) -> None:
        self.records += 1
        self.rejected += 1
        self.with_errors += 1
        self.by_code[finding.code] += 1

    def add_record(self, findings: Iterable[Finding]) -> None:
        found = list(findings)
        levels = {f.level for f in found}
        self.records += 1
        self.eligible += Level.ERROR not in levels
        self.with_errors += Level.ERROR in levels
        self.with_warnings += Level.WARNING in levels
        for rule, level in {(f.rule or f.code, f.level) for f in found}:
            self.by_rule[(rule, level)] += 1

    @property
    def failed(self) -> bool:
        return self.with_errors > 0

    def to_json(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "valid": self.records - self.rejected,
            "rejected": self.rejected,
            "eligible": self.eligible,
            "records_with_errors": self.with_errors,
            "records_with_warnings": self.with_warnings,
            "rejected_by_code": dict(sorted(self.by_code.items())),
            "by_rule": {
                rule: {
                    level.value: n for (r, level), n in sorted(self.by_rule.items()) if r == rule
                }
                for rule in sorted({r for r, _ in self.by_rule})
            },
        }

    def lines(self, titles: dict[str, str] | None = None) -> list[str]:
        """The summary for people, one fact per line."""
        titles = titles or {}
        out = [
            f"{self.records} records: {self.records - self.rejected} valid, "
            f"{self.rejected} rejected, {self.eligible} eligible",
            f"{self.with_errors} with errors, {self.with_warnings} with warnings",
        ]
        for code, n in sorted(self.by_code.items()):
            out.append(f"  {code:<28} rejected {n}")
        for rule in sorted({r for r, _ in self.by_rule}):
            counts = ", ".join(
                f"{level.value} {n}" for (r, level), n in sorted(self.by_rule.items()) if r == rule
            )
            out.append(f"  {rule} {titles.get(rule, ''):<34} {counts}")
        return out
