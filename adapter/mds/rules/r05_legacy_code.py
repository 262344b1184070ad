"""R05 legacy codes: old ICD-O-3 morphologies that WHO 2020 replaced; kept, with a suggestion."""

from __future__ import annotations

from collections.abc import Iterator

from adapter.errors import Finding, Level
from adapter.mds.knowledge import histologies
from adapter.mds.record import MdsRecord
from adapter.mds.rules.base import Rule, RuleConfig, finding

__all__ = ["RULE", "check"]


def check(record: MdsRecord, config: RuleConfig) -> Iterator[Finding]:
    h = histologies().get(record.histology_icdo3 or "")
    if h is not None and h.cls == "legacy":
        new = histologies()[h.replaced_by]
        yield finding(
            "R05",
            Level.WARNING,
            record,
            f"histology_icdo3 {h.code} ({h.label}) is a legacy code: use {new.code} ({new.label})",
            histology_icdo3=h.code,
        )


RULE = Rule("R05", "legacy code", "warning", check)
