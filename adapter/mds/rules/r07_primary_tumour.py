"""R07 primary tumour: recurrences and metastases are not registry cases of their own."""

from __future__ import annotations

from collections.abc import Iterator

from adapter.errors import Finding, Level
from adapter.mds.record import MdsRecord
from adapter.mds.rules.base import Rule, RuleConfig, finding

__all__ = ["RULE", "check"]

NOT_PRIMARY = ("local_recurrence", "metastatic_presentation_only")


def check(record: MdsRecord, config: RuleConfig) -> Iterator[Finding]:
    status = record.presentation_status
    if status in NOT_PRIMARY:
        yield finding(
            "R07",
            Level.ERROR,
            record,
            f"presentation_status {status}: the registry takes primary tumours only",
            presentation_status=status,
        )
    elif status in (None, "unknown"):
        yield finding(
            "R07",
            Level.WARNING,
            record,
            f"presentation_status is {status or 'not recorded'}: cannot confirm a primary tumour",
            presentation_status=status,
        )
    code = record.histology_icdo3
    if code is not None and code.endswith("/6"):
        yield finding(
            "R07",
            Level.ERROR,
            record,
            f"histology_icdo3 {code} has behaviour /6 (metastatic site): code the primary tumour",
            histology_icdo3=code,
        )


RULE = Rule("R07", "primary tumour", "error", check)
