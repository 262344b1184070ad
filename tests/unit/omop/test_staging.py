"""The Cancer Modifier concept codes of the MDS staging codes (OHDSI Vocabulary wiki pattern)."""

from __future__ import annotations

import pytest

from adapter.omop.staging import concept_code, element_of_code


@pytest.mark.parametrize(
    ("name", "code", "expected"),
    [
        ("ajcc_stage_group", "IA", "8th_AJCC/UICC-Stage-1A"),
        ("ajcc_stage_group", "II", "8th_AJCC/UICC-Stage-2"),
        ("ajcc_stage_group", "IIIA", "8th_AJCC/UICC-Stage-3A"),
        ("ajcc_stage_group", "IIIB", "8th_AJCC/UICC-Stage-3B"),
        ("ajcc_stage_group", "IVB", "8th_AJCC/UICC-Stage-4B"),
        ("ajcc_stage_group", "unknown", None),
        ("ajcc_t_category", "T1a", "8th_AJCC/UICC-T1a"),
        ("ajcc_n_category", "NX", "8th_AJCC/UICC-NX"),
        ("ajcc_m_category", "M1b", "8th_AJCC/UICC-M1b"),
    ],
)
def test_concept_code(name: str, code: str, expected: str | None) -> None:
    assert concept_code(name, code) == expected


def test_a_written_code_names_its_element() -> None:
    assert [element_of_code(c) for c in ("T0", "N1", "M1a", "IIB", "unknown", "R0")] == [
        "ajcc_t_category", "ajcc_n_category", "ajcc_m_category", "ajcc_stage_group", None, None,
    ]  # fmt: skip
