"""A data quality check, its result, and how a result is judged: the DQD's rules, kept in one place.

Every check is one SQL statement that returns one row, (violating rows, denominator rows), so
the same runner, threshold rule and output serve the DQD checks and our clinical ones alike.

The judgement follows the OHDSI Data Quality Dashboard v2 (R/evaluateThresholds.R and
R/calculateNotApplicableStatus.R): pct = violating / denominator (0 when the denominator is 0);
a check fails when its threshold is 0 (or not given) and any row violates it, otherwise when
pct × 100 exceeds the threshold. A check on a missing or empty table, or on a field that is
never filled, is *not applicable*: it neither passes nor fails, and says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

from adapter.quality.known import Known

__all__ = ["Check", "CheckLevel", "Result", "Status", "fails"]

CheckLevel = Literal["table", "field", "clinical"]


class Status(StrEnum):
    """What became of one check. `error`: the SQL itself failed (it counts as a failure)."""

    PASS = "pass"
    FAIL = "fail"
    NOT_APPLICABLE = "not applicable"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Check:
    """One check on one table (and field): its SQL returns (violating rows, denominator rows).

    `threshold` is in percent of the denominator, as the DQD CSVs give it (0 when they give
    none: then any violating row fails). `field` is None for table-level checks; for clinical
    checks it names what is compared (e.g. `procedure_date`). `params` are the SQL's bound
    parameters (`:name`, as name-value pairs), e.g. concept ids read from conventions.csv.
    """

    name: str
    level: CheckLevel
    table: str
    field: str | None
    threshold: float
    sql: str
    description: str
    params: tuple[tuple[str, object], ...] = ()

    @property
    def key(self) -> str:
        """`name:table.field`, unique among all checks (what --only and the known list match)."""
        return f"{self.name}:{self.where}"

    @property
    def where(self) -> str:
        return self.table if self.field is None else f"{self.table}.{self.field}"


def fails(violating: int, denominator: int, threshold: float) -> bool:
    """The DQD rule: threshold 0 → any violating row fails; else pct × 100 > threshold."""
    if threshold == 0:
        return violating > 0
    pct = violating / denominator if denominator else 0.0
    return pct * 100 > threshold


@dataclass(frozen=True, slots=True)
class Result:
    """One check's outcome. `known` is the documented cause when a failure is expected
    (adapter/quality/known.py); `note` says why a check is not applicable, or the SQL error."""

    check: Check
    status: Status
    violating: int | None = None
    denominator: int | None = None
    note: str | None = None
    known: Known | None = None

    @property
    def pct(self) -> float | None:
        """Violating rows as a fraction of the denominator (0 when it is 0), as the DQD does."""
        if self.violating is None or self.denominator is None:
            return None
        return self.violating / self.denominator if self.denominator else 0.0

    @property
    def failed(self) -> bool:
        """A failure for the exit code: a failed check (known or not) or a check that errored."""
        return self.status in (Status.FAIL, Status.ERROR)
