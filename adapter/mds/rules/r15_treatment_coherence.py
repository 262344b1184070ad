"""R15 treatment and follow-up coherence: details need the treatment (or event) they describe.

Surgery details need surgery; radiotherapy and systemic-therapy details need the therapy, and
their timing must agree with the surgery date; outcome details need the outcome they qualify.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from adapter.errors import Finding, Level
from adapter.mds.record import MdsRecord
from adapter.mds.rules.base import Rule, RuleConfig, finding, show, tissue

__all__ = ["RULE", "check"]

NEEDS_SURGERY = ("neoadjuvant", "adjuvant", "pre_and_post", "intraoperative")
NEOADJUVANT = ("neoadjuvant", "pre_and_post")
# therapy → (elements that need it, its timing code for "no surgery")
THERAPIES = {
    "radiotherapy": (
        (
            "radiotherapy_start_date",
            "radiotherapy_end_date",
            "radiotherapy_total_dose_gy",
            "radiotherapy_fractions",
        ),
        "definitive_no_surgery",
    ),
    "systemic_therapy": (
        ("systemic_therapy_start_date", "systemic_therapy_end_date", "systemic_regimen"),
        "no_surgery",
    ),
}
# element → values that do not need the treatment (they say there was none)
NEUTRAL = {
    "surgery_type": "none",
    "surgical_margin_r": "not_applicable",
    "radiotherapy_timing": "none",
    "systemic_therapy_timing": "none",
}


def _needs(r: MdsRecord, flag: str, names: tuple[str, ...]) -> Iterator[Finding]:
    """Elements recorded although `flag` is not yes."""
    if getattr(r, flag) == "yes":
        return
    present: dict[str, Any] = {
        n: getattr(r, n)
        for n in names
        if getattr(r, n) is not None and getattr(r, n) != NEUTRAL.get(n)
    }
    if present:
        listed = ", ".join(f"{n} {show(v)}" for n, v in present.items())
        yield finding(
            "R15",
            Level.ERROR,
            r,
            f"{listed} recorded but {flag} is {show(getattr(r, flag))}",
            **{flag: getattr(r, flag)},
            **present,
        )


def _surgery(r: MdsRecord) -> Iterator[Finding]:
    names = ("surgery_date", "surgery_type", "surgical_margin_r", "surgical_margin_enneking")
    yield from _needs(r, "surgery_performed", names)
    if r.surgery_performed == "yes" and r.surgery_type == "none":
        yield finding(
            "R15",
            Level.ERROR,
            r,
            "surgery_type none but surgery_performed is yes",
            surgery_type="none",
            surgery_performed="yes",
        )


def _therapy(r: MdsRecord, therapy: str) -> Iterator[Finding]:
    details, definitive = THERAPIES[therapy]
    flag, timing_name = f"{therapy}_given", f"{therapy}_timing"
    timing = getattr(r, timing_name)
    yield from _needs(r, flag, (timing_name, *details))
    if getattr(r, flag) == "yes" and timing == "none":
        yield finding(
            "R15",
            Level.ERROR,
            r,
            f"{timing_name} none but {flag} is yes",
            **{timing_name: timing, flag: "yes"},
        )
    surgery = r.surgery_performed
    if (timing in NEEDS_SURGERY and surgery == "no") or (timing == definitive and surgery == "yes"):
        yield finding(
            "R15",
            Level.ERROR,
            r,
            f"{timing_name} {timing} does not fit surgery_performed {surgery}",
            **{timing_name: timing},
            surgery_performed=surgery,
        )
    yield from _timing_dates(r, therapy, timing)


def _timing_dates(r: MdsRecord, therapy: str, timing: str | None) -> Iterator[Finding]:
    start, end, op = (
        getattr(r, f"{therapy}_start_date"),
        getattr(r, f"{therapy}_end_date"),
        r.surgery_date,
    )
    if op is None or start is None:
        return
    wrong = (
        (timing in NEOADJUVANT and not start < op)
        or (timing == "adjuvant" and not start > op)
        or (timing == "pre_and_post" and end is not None and not end > op)
    )
    if wrong:
        yield finding(
            "R15",
            Level.ERROR,
            r,
            f"{therapy}_timing {timing} does not fit {therapy}_start_date {start}, "
            f"{therapy}_end_date {show(end)} and surgery_date {op}",
            **{
                f"{therapy}_timing": timing,
                f"{therapy}_start_date": start,
                f"{therapy}_end_date": end,
            },
            surgery_date=op,
        )


def _necrosis(r: MdsRecord) -> Iterator[Finding]:
    value = r.percent_necrosis_post_neoadjuvant
    if value is None:
        return
    if not (
        tissue(r) == "bone"
        and r.surgery_performed == "yes"
        and r.systemic_therapy_timing in NEOADJUVANT
    ):
        yield finding(
            "R15",
            Level.ERROR,
            r,
            f"percent_necrosis_post_neoadjuvant {show(value)} needs a resected bone "
            "sarcoma after neoadjuvant systemic therapy",
            percent_necrosis_post_neoadjuvant=value,
            tissue_of_origin=tissue(r),
            surgery_performed=r.surgery_performed,
            systemic_therapy_timing=r.systemic_therapy_timing,
        )


def _follow_up(r: MdsRecord) -> Iterator[Finding]:
    status, vital = r.disease_status_last_followup, r.vital_status
    if (status in ("DOD", "DOC", "DUC") and vital == "alive") or (
        status in ("NED", "AWD") and vital == "dead"
    ):
        yield finding(
            "R15",
            Level.ERROR,
            r,
            f"disease_status_last_followup {status} does not fit vital_status {vital}",
            disease_status_last_followup=status,
            vital_status=vital,
        )
    yield from _needs(r, "local_recurrence", ("local_recurrence_date",))
    yield from _needs(r, "distant_metastasis_after_diagnosis", ("distant_metastasis_date",))


def check(record: MdsRecord, config: RuleConfig) -> Iterator[Finding]:
    yield from _surgery(record)
    for therapy in THERAPIES:
        yield from _therapy(record, therapy)
    yield from _necrosis(record)
    yield from _follow_up(record)


RULE = Rule("R15", "treatment and follow-up coherence", "error", check)
