"""R06 histological confirmation: the registry takes histologically confirmed sarcomas only."""

from __future__ import annotations

from collections.abc import Iterator

from adapter.errors import Finding, Level
from adapter.mds.record import MdsRecord
from adapter.mds.rules.base import Rule, RuleConfig, finding

__all__ = ["RULE", "check"]


def _tissue_procedure(record: MdsRecord) -> bool:
    biopsy = record.biopsy_type not in (None, "unknown") and record.diagnosis_date is not None
    resection = record.surgery_performed == "yes" and record.surgery_date is not None
    return biopsy or resection


def check(record: MdsRecord, config: RuleConfig) -> Iterator[Finding]:
    how = record.diagnostic_confirmation
    if how == "histology":
        return
    if how in (None, "unknown"):
        if _tissue_procedure(record):
            return
        yield finding(
            "R06",
            Level.ERROR,
            record,
            f"diagnostic_confirmation is {how or 'not recorded'} and no biopsy or resection "
            "with a date is recorded: histological confirmation is not shown",
            diagnostic_confirmation=how,
            biopsy_type=record.biopsy_type,
            surgery_performed=record.surgery_performed,
        )
        return
    yield finding(
        "R06",
        Level.ERROR,
        record,
        f"diagnostic_confirmation {how}: the registry needs histological confirmation",
        diagnostic_confirmation=how,
    )


RULE = Rule("R06", "histological confirmation", "error", check)
