"""R02 boundary sites: near the scope (clavicle, thorax, limb skin, spine); kept, with a warning."""

from __future__ import annotations

from collections.abc import Iterator

from adapter.errors import Finding, Level
from adapter.mds.knowledge import sites
from adapter.mds.record import MdsRecord
from adapter.mds.rules.base import Rule, RuleConfig, finding

__all__ = ["RULE", "check"]


def check(record: MdsRecord, config: RuleConfig) -> Iterator[Finding]:
    site = sites().get(record.primary_site_icdo3 or "")
    if site is not None and site.scope == "boundary":
        yield finding(
            "R02",
            Level.WARNING,
            record,
            f"primary_site_icdo3 {site.code} ({site.label}) is a boundary site: check inclusion",
            primary_site_icdo3=site.code,
        )


RULE = Rule("R02", "boundary site", "warning", check)
