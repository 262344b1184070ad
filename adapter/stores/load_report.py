"""What a load did: counts for the run log and the CLI, and per item for the API.

Kept apart from adapter/stores/load.py (which fills it) so that module stays about loading.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

__all__ = ["LoadReport", "Outcome"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """One item's fate: created | updated | unchanged | deleted | not-found | rejected, with
    the record's store version afterwards (None when there is no record)."""

    outcome: str
    version: int | None = None


@dataclass
class LoadReport:
    """Counts of one load run; `rows` counts CDM rows written."""

    run_id: int
    loaded: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    rejected: int = 0
    rows: int = 0
    seconds: float = 0.0
    rejected_ids: list[str] = field(default_factory=list, repr=False)
    unmapped: Counter[str] = field(default_factory=Counter, repr=False)
    """`omop.unmapped-code` findings of the records this run mapped and wrote, by code (an ICDO3
    pair written with concept 0, a staging value the vocabulary lacks written as an
    observation); unchanged records are not mapped, so not counted."""
    outcomes: dict[str, Outcome] | None = field(default=None, repr=False)

    def note(self, location: str, outcome: str, version: int | None = None) -> None:
        if self.outcomes is not None:
            self.outcomes[location] = Outcome(outcome, version)

    def counts(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in ("loaded", "updated", "unchanged", "deleted",
                                              "rejected")}  # fmt: skip

    @property
    def changed_cdm(self) -> bool:
        return bool(self.loaded or self.updated or self.deleted)
