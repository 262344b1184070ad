"""R13 laterality: required for paired sites (limbs, pelvic bones), not_paired for midline ones."""

from __future__ import annotations

from collections.abc import Iterator

from adapter.errors import Finding, Level
from adapter.mds.knowledge import sites
from adapter.mds.record import MdsRecord
from adapter.mds.rules.base import Rule, RuleConfig, finding, show

__all__ = ["RULE", "check"]

PAIRED = ("right", "left", "bilateral", "unknown")


def check(record: MdsRecord, config: RuleConfig) -> Iterator[Finding]:
    site = sites().get(record.primary_site_icdo3 or "")
    side = record.laterality
    if site is None:
        return
    if site.laterality == "paired" and side not in PAIRED:
        problem = f"one of {', '.join(PAIRED)} is required for a paired site"
    elif site.laterality == "not_paired" and side not in (None, "not_paired"):
        problem = "must be not_paired for this site"
    elif site.laterality == "required" and side is None:
        problem = "is required for this site (not_paired for sacrum or coccyx)"
    else:
        return
    yield finding(
        "R13",
        Level.ERROR,
        record,
        f"laterality {show(side)} for primary_site_icdo3 {site.code} ({site.label}): {problem}",
        laterality=side,
        primary_site_icdo3=site.code,
    )


RULE = Rule("R13", "laterality", "error", check)
