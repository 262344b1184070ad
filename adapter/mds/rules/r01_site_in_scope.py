"""R01 site in scope: the registry takes primary sarcomas of the pelvis and extremities."""

from __future__ import annotations

from collections.abc import Iterator

from adapter.errors import Finding, Level
from adapter.mds.knowledge import sites
from adapter.mds.record import MdsRecord
from adapter.mds.rules.base import Rule, RuleConfig, finding

__all__ = ["RULE", "check"]


def check(record: MdsRecord, config: RuleConfig) -> Iterator[Finding]:
    site = record.primary_site_icdo3
    if site is None:
        yield finding(
            "R01",
            Level.ERROR,
            record,
            "primary_site_icdo3 is not recorded; inclusion needs the ICD-O-3 topography",
            primary_site_icdo3=None,
        )
        return
    if site not in sites():
        in_scope = ", ".join(c for c, s in sites().items() if s.scope == "core")
        yield finding(
            "R01",
            Level.ERROR,
            record,
            f"primary_site_icdo3 {site} is outside the registry scope (pelvis and extremities: "
            f"{in_scope})",
            primary_site_icdo3=site,
        )


RULE = Rule("R01", "site in scope", "error", check)
