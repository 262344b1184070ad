"""R03 sarcoma histology: the morphology must be a sarcoma's, with malignant behaviour (/3)."""

from __future__ import annotations

from collections.abc import Iterator

from adapter.errors import Finding, Level
from adapter.mds.knowledge import histologies, reject_reason
from adapter.mds.record import MdsRecord
from adapter.mds.rules.base import Rule, RuleConfig, finding

__all__ = ["RULE", "check"]


def check(record: MdsRecord, config: RuleConfig) -> Iterator[Finding]:
    code = record.histology_icdo3
    if code is None:
        yield finding(
            "R03",
            Level.ERROR,
            record,
            "histology_icdo3 is not recorded; inclusion needs the ICD-O-3 morphology",
            histology_icdo3=None,
        )
        return
    if code in histologies() or code.endswith("/6"):  # /6 is R07's
        return
    morphology, behaviour = code.split("/")
    reason = reject_reason(int(morphology))
    if reason is None and any(h.morphology == morphology for h in histologies().values()):
        reason = f"behaviour /{behaviour} is not malignant; a sarcoma is /3"
    yield finding(
        "R03",
        Level.ERROR,
        record,
        f"histology_icdo3 {code} is not a sarcoma: {reason or 'not in the sarcoma list'}",
        histology_icdo3=code,
    )


RULE = Rule("R03", "sarcoma histology", "error", check)
