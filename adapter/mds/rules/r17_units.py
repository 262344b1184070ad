"""R17 units: MDS sizes are in cm and doses in Gy; values far beyond either are likely mm / cGy."""

from __future__ import annotations

from collections.abc import Iterator

from adapter.errors import Finding, Level
from adapter.mds.record import MdsRecord
from adapter.mds.rules.base import Rule, RuleConfig, finding, show

__all__ = ["RULE", "check"]

MAX_SIZE_CM = 60.0  # larger than any reported limb or pelvic sarcoma; 60 mm is a common size
MAX_DOSE_GY = 100.0  # beyond any curative external-beam course; 5000 cGy is a common dose


def check(record: MdsRecord, config: RuleConfig) -> Iterator[Finding]:
    size, dose = record.tumour_size_cm, record.radiotherapy_total_dose_gy
    if size is not None and size > MAX_SIZE_CM:
        yield finding(
            "R17",
            Level.ERROR,
            record,
            f"tumour_size_cm {show(size)} is over {show(MAX_SIZE_CM)} cm: millimetres?",
            tumour_size_cm=size,
        )
    if dose is not None and dose > MAX_DOSE_GY:
        yield finding(
            "R17",
            Level.ERROR,
            record,
            f"radiotherapy_total_dose_gy {show(dose)} is over {show(MAX_DOSE_GY)} Gy: cGy?",
            radiotherapy_total_dose_gy=dose,
        )


RULE = Rule("R17", "units", "error", check)
