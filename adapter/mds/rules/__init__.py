"""The 17 eligibility and consistency rules (docs/rules.md), one module each.

    findings = check_record(record, RuleConfig(intermediate_tumours="exclude"))

Rules never raise on bad data: they yield findings. `eligible()` says whether a record has no
error-level finding.
"""

from __future__ import annotations

from collections.abc import Iterable

from adapter.errors import Finding, Level
from adapter.mds.record import MdsRecord
from adapter.mds.rules import (
    r01_site_in_scope,
    r02_boundary_site,
    r03_sarcoma_histology,
    r04_intermediate_tumour,
    r05_legacy_code,
    r06_histological_confirmation,
    r07_primary_tumour,
    r08_site_consistency,
    r09_depth_applicability,
    r10_grade_system,
    r11_size_t_category,
    r12_metastasis_stage,
    r13_laterality,
    r14_dates,
    r15_treatment_coherence,
    r16_age,
    r17_units,
)
from adapter.mds.rules.base import Rule, RuleConfig, RuleLevel

__all__ = ["RULES", "Rule", "RuleConfig", "RuleLevel", "check_record", "eligible"]

RULES: tuple[Rule, ...] = tuple(
    m.RULE
    for m in (
        r01_site_in_scope,
        r02_boundary_site,
        r03_sarcoma_histology,
        r04_intermediate_tumour,
        r05_legacy_code,
        r06_histological_confirmation,
        r07_primary_tumour,
        r08_site_consistency,
        r09_depth_applicability,
        r10_grade_system,
        r11_size_t_category,
        r12_metastasis_stage,
        r13_laterality,
        r14_dates,
        r15_treatment_coherence,
        r16_age,
        r17_units,
    )
)

_DEFAULT = RuleConfig()


def check_record(record: MdsRecord, config: RuleConfig = _DEFAULT) -> list[Finding]:
    """All findings of all rules for one record, in rule order."""
    return [f for rule in RULES for f in rule.check(record, config)]


def eligible(findings: Iterable[Finding]) -> bool:
    return not any(f.level is Level.ERROR for f in findings)
