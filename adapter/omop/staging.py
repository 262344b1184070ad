"""AJCC 8th TNM categories and stage group: the Cancer Modifier concept that says no more than
the record does.

The MDS records an AJCC 8th edition T, N, M and stage group without saying whether the staging
was clinical or pathological, and a stage group with its sub-group (IIIA, IIIB). The Cancer
Modifier vocabulary has a concept for exactly that: the edition-level, un-prefixed
`8th_AJCC/UICC-T2`, `8th_AJCC/UICC-Stage-3A` (concept codes built as the OHDSI Vocabulary wiki
describes: system version `8th`, `_`, system, `-`, value). Writing the clinical concept, as
this adapter once did, claimed a clinical staging nobody recorded; writing Stage 3 for IIIA
dropped the sub-group.

So each value is written as the concept of its code in the loaded vocabulary (the resolver: a
full Athena load has them all). When the vocabulary lacks it (the bundled subset holds only
the few whose ids public sources give), the value goes to OBSERVATION under the element's
local question concept, code verbatim, with an `omop.concept-not-in-vocabulary` warning naming
the concept code: the load reports it with the other codes written without a concept, and no
concept claims more than the record. It is not a worklist item: no map can fill it, a full
vocabulary does (`db init --athena` re-maps every record).
"""

from __future__ import annotations

from adapter.mds.dictionary import element

__all__ = ["STAGED", "concept_code", "element_of_code"]

STAGED = ("ajcc_t_category", "ajcc_n_category", "ajcc_m_category", "ajcc_stage_group")
_ROMAN = {"I": "1", "II": "2", "III": "3", "IV": "4"}


def concept_code(name: str, code: str) -> str | None:
    """The Cancer Modifier concept_code of an MDS staging code (None: no concept, `unknown`)."""
    if name == "ajcc_stage_group":
        numeral = code.rstrip("AB")
        if numeral not in _ROMAN:
            return None
        return f"8th_AJCC/UICC-Stage-{_ROMAN[numeral]}{code[len(numeral) :]}"
    return f"8th_AJCC/UICC-{code}"


_ELEMENT_OF_CODE = {code: name for name in STAGED for code in element(name).codes
                    if concept_code(name, code) is not None}  # fmt: skip


def element_of_code(code: str) -> str | None:
    """The staging element a written code belongs to (the codes of the four do not overlap)."""
    return _ELEMENT_OF_CODE.get(code)
