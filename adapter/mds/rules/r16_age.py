"""R16 age: no public age bound; children and adolescents are flagged, bounds are policy."""

from __future__ import annotations

from collections.abc import Iterator

from adapter.errors import Finding, Level
from adapter.mds.record import MdsRecord
from adapter.mds.rules.base import Rule, RuleConfig, age_range, finding

__all__ = ["RULE", "check"]


def check(record: MdsRecord, config: RuleConfig) -> Iterator[Finding]:
    ages = age_range(record)
    if ages is None:
        return
    youngest, oldest = ages
    shown = str(youngest) if youngest == oldest else f"{youngest}-{oldest}"
    if config.min_age is not None and oldest < config.min_age:
        yield finding(
            "R16",
            Level.ERROR,
            record,
            f"age at diagnosis {shown} is below min_age {config.min_age}",
            age_at_diagnosis=oldest,
        )
    elif config.max_age is not None and youngest > config.max_age:
        yield finding(
            "R16",
            Level.ERROR,
            record,
            f"age at diagnosis {shown} is above max_age {config.max_age}",
            age_at_diagnosis=youngest,
        )
    elif youngest < config.paediatric_age:
        yield finding(
            "R16",
            Level.INFO,
            record,
            f"age at diagnosis {shown}: paediatric or adolescent patient",
            age_at_diagnosis=youngest,
        )


RULE = Rule("R16", "age", "policy", check)
