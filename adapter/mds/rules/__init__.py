"""The 17 eligibility and consistency rules (docs/rules.md), one module each.

    findings = check_record(record, RuleConfig(intermediate_tumours="exclude"))

Rules never raise on bad data: they yield findings. `eligible()` says whether a record has no
error-level finding.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable

from adapter.errors import Finding, Level
from adapter.mds.record import MdsRecord
from adapter.mds.rules.base import Rule, RuleConfig, RuleLevel

__all__ = ["RULES", "Rule", "RuleConfig", "RuleLevel", "check_record", "eligible"]

# One module per rule, named rNN_<title>; rule order is module-name order.
RULES: tuple[Rule, ...] = tuple(
    importlib.import_module(f"{__name__}.{m.name}").RULE
    for m in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name)
    if m.name[0] == "r" and m.name[1:3].isdigit()
)

_DEFAULT = RuleConfig()


def check_record(record: MdsRecord, config: RuleConfig = _DEFAULT) -> list[Finding]:
    """All findings of all rules for one record, in rule order."""
    return [f for rule in RULES for f in rule.check(record, config)]


def eligible(findings: Iterable[Finding]) -> bool:
    return not any(f.level is Level.ERROR for f in findings)
