"""The record model and docs/mds.md agree with terminology/mds-dictionary.tsv."""

from __future__ import annotations

import datetime as dt
import typing
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest

from adapter.mds import gen
from adapter.mds.dictionary import element, elements
from adapter.mds.record import MdsRecord

ROOT = Path(__file__).resolve().parents[2]


def literal_codes(annotation: Any) -> tuple[str, ...] | None:
    """The codes of a Literal inside an annotation (Optional, Annotated, list)."""
    if get_origin(annotation) is typing.Literal:
        return tuple(get_args(annotation))
    for arg in get_args(annotation):
        found = literal_codes(arg)
        if found is not None:
            return found
    return None


def test_dictionary_has_51_elements_27_core() -> None:
    els = elements()
    assert len(els) == 51
    assert sum(e.level == "core" for e in els) == 27
    assert sum(e.level == "extension" for e in els) == 24
    assert len({e.name for e in els}) == 51


def test_model_has_exactly_the_dictionary_elements_in_order() -> None:
    assert list(MdsRecord.model_fields) == [e.name for e in elements()]


@pytest.mark.parametrize("name", [e.name for e in elements()])
def test_field_matches_its_element(name: str) -> None:
    e = element(name)
    f = MdsRecord.model_fields[name]
    assert f.description == e.definition
    extra = f.json_schema_extra
    assert isinstance(extra, dict)
    assert (extra["group"], extra["level"], extra["mds_type"]) == (e.group, e.level, e.type)
    assert extra.get("unit", "") == e.unit
    assert f.is_required() == (name == "record_id")
    if e.type in ("code", "code_list") and not e.is_open_code:
        assert literal_codes(f.annotation) == e.codes
    if e.type == "date":
        assert dt.date in get_args(f.annotation)


def test_open_codes_are_exactly_country_topography_and_morphology() -> None:
    assert {e.name for e in elements() if e.is_open_code} == set(gen.OPEN_CODES)


def test_in_scope_sites_in_dictionary_match_site_table() -> None:
    from adapter.mds.knowledge import sites

    core = {code for code, s in sites().items() if s.scope == "core"}
    assert set(element("primary_site_icdo3").codes) == core


def test_generated_record_model_has_not_drifted() -> None:
    assert (ROOT / "adapter/mds/record.py").read_text(encoding="utf-8") == gen.render_record(), (
        "adapter/mds/record.py differs from the dictionary: run `make docs`"
    )


def test_generated_docs_have_not_drifted() -> None:
    assert (ROOT / "docs/mds.md").read_text(encoding="utf-8") == gen.render_docs(), (
        "docs/mds.md differs from the dictionary: run `make docs`"
    )


def test_docs_list_every_element_with_its_codes() -> None:
    text = gen.render_docs()
    for e in elements():
        assert f"| `{e.name}` | {e.level} | {e.type} |" in text
        for code in e.codes:
            assert f"`{code}`" in text
