"""R08 site consistency: tissue of origin and anatomic region follow from the topography."""

from __future__ import annotations

from collections.abc import Iterator

from adapter.errors import Finding, Level
from adapter.mds.knowledge import sites
from adapter.mds.record import MdsRecord
from adapter.mds.rules.base import Rule, RuleConfig, finding

__all__ = ["RULE", "check"]

EXTREMITIES = ("upper_extremity", "lower_extremity")


def check(record: MdsRecord, config: RuleConfig) -> Iterator[Finding]:
    site = sites().get(record.primary_site_icdo3 or "")
    if site is None:
        return
    given = record.tissue_of_origin
    if given is not None and site.tissue != "other" and given != site.tissue:
        yield finding(
            "R08",
            Level.ERROR,
            record,
            f"tissue_of_origin {given} does not fit primary_site_icdo3 {site.code} ({site.tissue})",
            tissue_of_origin=given,
            primary_site_icdo3=site.code,
        )
    region = record.anatomic_region
    if region is None or site.scope != "core":
        return
    allowed = EXTREMITIES if site.region == "extremity" else (site.region,)
    if region not in allowed:
        yield finding(
            "R08",
            Level.ERROR,
            record,
            f"anatomic_region {region} does not fit primary_site_icdo3 {site.code} "
            f"({' or '.join(allowed)})",
            anatomic_region=region,
            primary_site_icdo3=site.code,
        )


RULE = Rule("R08", "site consistency", "error", check)
