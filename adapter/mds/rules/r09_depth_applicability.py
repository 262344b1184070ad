"""R09 depth applicability: depth (above or below the fascia) is a soft-tissue notion."""

from __future__ import annotations

from collections.abc import Iterator

from adapter.errors import Finding, Level
from adapter.mds.record import MdsRecord
from adapter.mds.rules.base import Rule, RuleConfig, finding, tissue

__all__ = ["RULE", "check"]


def check(record: MdsRecord, config: RuleConfig) -> Iterator[Finding]:
    depth, kind = record.tumour_depth, tissue(record)
    if kind == "bone" and depth not in (None, "not_applicable"):
        yield finding(
            "R09",
            Level.ERROR,
            record,
            f"tumour_depth {depth} for a bone tumour: depth must be not_applicable",
            tumour_depth=depth,
            tissue_of_origin=kind,
        )
    elif kind == "soft_tissue" and depth in (None, "not_applicable"):
        yield finding(
            "R09",
            Level.ERROR,
            record,
            f"tumour_depth is {depth or 'not recorded'} for a soft-tissue tumour: "
            "superficial, deep or unknown is required",
            tumour_depth=depth,
            tissue_of_origin=kind,
        )


RULE = Rule("R09", "depth applicability", "error", check)
