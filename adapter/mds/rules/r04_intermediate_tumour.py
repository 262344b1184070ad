"""R04 intermediate tumours (/1): whether they count is the registry's policy, not the data's."""

from __future__ import annotations

from collections.abc import Iterator

from adapter.errors import Finding, Level
from adapter.mds.knowledge import histologies
from adapter.mds.record import MdsRecord
from adapter.mds.rules.base import Rule, RuleConfig, finding

__all__ = ["RULE", "check"]

_LEVEL = {"warn": Level.WARNING, "exclude": Level.ERROR}


def check(record: MdsRecord, config: RuleConfig) -> Iterator[Finding]:
    h = histologies().get(record.histology_icdo3 or "")
    if h is None or h.cls != "intermediate" or config.intermediate_tumours == "include":
        return
    verb = "excluded" if config.intermediate_tumours == "exclude" else "included only by policy"
    yield finding(
        "R04",
        _LEVEL[config.intermediate_tumours],
        record,
        f"histology_icdo3 {h.code} ({h.label}) is an intermediate tumour: {verb} "
        f"(intermediate_tumours={config.intermediate_tumours})",
        histology_icdo3=h.code,
    )


RULE = Rule("R04", "intermediate tumour", "policy", check)
