"""R11 size and T category: AJCC 8 T follows the largest dimension (5/10/15 cm; bone 8 cm)."""

from __future__ import annotations

from collections.abc import Iterator

from adapter.errors import Finding, Level
from adapter.mds.record import MdsRecord
from adapter.mds.rules.base import Rule, RuleConfig, finding, show, tissue

__all__ = ["RULE", "check", "expected_t"]

# Upper size bounds (cm, inclusive) per T category, AJCC 8th edition.
SOFT_TISSUE_T = (("T1", 5.0), ("T2", 10.0), ("T3", 15.0), ("T4", float("inf")))
BONE_T = (("T1", 8.0), ("T2", float("inf")))
PELVIS = "C41.4"  # pelvic bone T is segment-based, not size-based


def expected_t(kind: str, size_cm: float) -> str:
    """The T category the size alone gives (soft tissue, or bone outside the pelvis)."""
    table = SOFT_TISSUE_T if kind == "soft_tissue" else BONE_T
    return next(t for t, upper in table if size_cm <= upper)


def check(record: MdsRecord, config: RuleConfig) -> Iterator[Finding]:
    size, t = record.tumour_size_cm, record.ajcc_t_category
    kind = tissue(record)
    if size is None or t is None or t in ("TX", "T0") or kind is None:
        return
    base = t[:2]
    if kind == "bone" and (record.primary_site_icdo3 == PELVIS or base not in ("T1", "T2")):
        return
    want = expected_t(kind, size)
    if base != want:
        yield finding(
            "R11",
            Level.WARNING,
            record,
            f"ajcc_t_category {t} does not fit tumour_size_cm {show(size)} "
            f"({kind.replace('_', ' ')}: {want})",
            ajcc_t_category=t,
            tumour_size_cm=size,
        )


RULE = Rule("R11", "size and T category", "warning", check)
