"""Where things are in a posted Bundle: the FHIRPath of a bad code, the id of a written entry.

Findings about a record name MDS elements and values, not FHIR locations; an issue is more use
to a client when it points at the posted `…coding[n].code` that holds the bad value. And a
written entry's `response.location` names the id the record's resource reads back as, which
`to_fhir` derives from its business identifier (adapter/fhir/ids.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapter.errors import Finding
from adapter.fhir.ids import Ids

__all__ = ["CodeIndex", "canonical_id", "code_at", "code_index"]


def _codes(node: Any, path: str, found: list[tuple[str, str]]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "code" and isinstance(value, str):
                found.append((value, f"{path}.code"))
            else:
                _codes(value, f"{path}.{key}", found)
    elif isinstance(node, list):
        for n, value in enumerate(node):
            _codes(value, f"{path}[{n}]", found)


CodeIndex = dict[str, list[tuple[int, str]]]
"""Every posted `code` string → the (entry, FHIRPath) places that hold it."""


def code_index(resources: Sequence[tuple[int, Any]]) -> CodeIndex:
    """One walk over a record's posted resources, so that locating each of many findings
    costs a lookup, not another walk (a record of n resources with n findings stays linear)."""
    index: CodeIndex = {}
    for i, resource in resources:
        found: list[tuple[str, str]] = []
        _codes(resource, f"Bundle.entry[{i}].resource", found)
        for value, path in found:
            index.setdefault(value, []).append((i, path))
    return index


def code_at(index: CodeIndex, f: Finding) -> tuple[int, str] | None:
    """The entry and FHIRPath of the one posted `code` a record-level finding names (a code
    outside an MDS element's value set), so the issue points at it, not at the Patient."""
    wanted = {v for v in f.values if isinstance(v, str) and v}
    hits = [hit for value in wanted for hit in index.get(value, ())]
    return hits[0] if len(hits) == 1 else None


def canonical_id(resource: dict[str, Any], ids: Ids) -> str | None:
    """The id `to_fhir` gives this resource (from its MDS identifier), else the posted id."""
    given = resource.get("identifier")
    for x in given if isinstance(given, list) else ():
        if not isinstance(x, dict) or x.get("system") != ids.system:
            continue
        value = x.get("value")
        if not isinstance(value, str):
            continue
        if value == ids.record_id:
            return ids.id("patient")
        if value.startswith(f"{ids.record_id}/"):
            return ids.id(value.removeprefix(f"{ids.record_id}/"))
    found = resource.get("id")
    return found if isinstance(found, str) else None
