"""The declared loss list covers every element, and docs/omop-loss.md is generated from it."""

from __future__ import annotations

from pathlib import Path

from adapter.mds.record import MdsRecord
from adapter.omop.losses import LOSSES, render

DOC = Path(__file__).resolve().parents[3] / "docs" / "omop-loss.md"


def test_every_element_is_declared() -> None:
    assert list(LOSSES) == list(MdsRecord.model_fields)
    assert all(loss.why for loss in LOSSES.values() if loss.status != "mapped")


def test_loss_page_is_generated_from_the_list() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/omop-loss.md drifted: python -m adapter.omop.losses > docs/omop-loss.md"
    )
