"""docs/fhir-mapping.md is generated from the code; docs/loss.md declares what FHIR loses."""

from __future__ import annotations

import re
from pathlib import Path

from adapter.errors import Finding
from adapter.fhir import read_fhir, to_fhir
from adapter.fhir.mapping import mapped_elements, mapping_markdown
from adapter.mds.record import MdsRecord
from adapter.mds.synth import generate
from adapter.terminology import Terminology

DOCS = Path(__file__).resolve().parents[3] / "docs"


def test_mapping_page_is_generated_from_the_tables() -> None:
    assert (DOCS / "fhir-mapping.md").read_text(encoding="utf-8") == mapping_markdown(), (
        "regenerate: python -m adapter.fhir.mapping > docs/fhir-mapping.md"
    )


def test_every_element_has_a_fhir_row() -> None:
    assert mapped_elements() == set(MdsRecord.model_fields)


def declared_losses() -> set[str]:
    text = (DOCS / "loss.md").read_text(encoding="utf-8")
    table = text.split("| element | target | why |\n|---|---|---|\n", 1)[1].split("\n\n", 1)[0]
    return {m for m in re.findall(r"^\| (\w+) \|", table, re.MULTILINE)}


def test_losses_are_declared_and_nothing_else_is_lost() -> None:
    t = Terminology.load()
    lost: set[str] = set()
    seen: set[str] = set()
    for record, _ in generate(3000, 77, 0.2):
        seen |= {k for k, v in record if v is not None}
        back = [x for x in read_fhir([to_fhir(record, t, "collection")], t)]
        assert not [x for x in back if isinstance(x, Finding)]
        (got,) = back
        assert isinstance(got, MdsRecord)
        lost |= {k for k, v in record if getattr(got, k) != v}
    assert seen == set(MdsRecord.model_fields), "the sample must exercise every element"
    assert lost == declared_losses() == set()
