"""`to_fhir` returns fresh objects: changing one bundle changes no other bundle, and no later one.

The codings of an MDS code are cached (adapter/fhir/codes.py Codec); before, the cached dicts
themselves went into every bundle, so a caller editing one posted entry edited every record's.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from adapter.fhir import to_fhir
from adapter.fhir.bundle import BundleKind
from adapter.mds.record import MdsRecord
from adapter.mds.synth import generate
from adapter.terminology import Terminology

TERMINOLOGY = Terminology.load()


@pytest.fixture(scope="module")
def records() -> list[MdsRecord]:
    return [r for r, _ in generate(60, 23, defects=0.25)]


def containers(node: Any) -> list[dict[str, Any] | list[Any]]:
    """Every dict and list in a JSON tree, each as often as it is reached."""
    found: list[dict[str, Any] | list[Any]] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            found.append(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            found.append(item)
            stack.extend(item)
    return found


def vandalise(bundle: dict[str, Any]) -> int:
    """Empty every dict and list of the bundle and leave a mark in it; returns how many."""
    every = containers(bundle)
    for item in every:
        item.clear()
        if isinstance(item, dict):
            item["vandalised"] = True
        else:
            item.append("vandalised")
    return len(every)


@pytest.mark.parametrize("kind", ["transaction", "collection"])
def test_changing_every_dict_and_list_of_a_bundle_changes_no_other(
    records: list[MdsRecord], kind: BundleKind
) -> None:
    expected = [orjson.dumps(to_fhir(r, TERMINOLOGY, kind)) for r in records]
    for n, record in enumerate(records):
        changed = to_fhir(record, TERMINOLOGY, kind)
        assert vandalise(changed) > 50
        others = (n, (n + 1) % len(records))  # the same record, and another one
        for m in others:
            again = to_fhir(records[m], TERMINOLOGY, kind)
            assert orjson.dumps(again) == expected[m], (n, m)


def test_no_dict_or_list_is_shared_within_or_between_bundles(records: list[MdsRecord]) -> None:
    bundles = [to_fhir(r, TERMINOLOGY) for r in records] + [to_fhir(records[0], TERMINOLOGY)]
    every = [x for b in bundles for x in containers(b)]
    assert len({id(x) for x in every}) == len(every)
