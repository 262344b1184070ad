"""A stored record's resources as a FHIR server hands them out: relative references, searchset.

`to_fhir` writes resources for a transaction, where `urn:uuid:` fullUrls and references are
how entries point at each other before the server has given them a place. A server answering
`$everything` or `$export` serves resources that already live at `[base]/Type/id`, so the same
resources (same ids, same content) are served with each `urn:uuid:<id>` reference turned into
`Type/<id>`; readers (adapter/fhir/read.py) accept both forms, so what is read back is the same
record.

`served_resources` is pure and copies only the containers it must change: the resources of
`to_fhir` may share cached codings (adapter/fhir/codes.py), which must not be modified.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from adapter.fhir.bundle import resources
from adapter.fhir.codes import Resource
from adapter.mds.record import MdsRecord
from adapter.terminology import Terminology

__all__ = ["RESOURCE_TYPES", "relative", "searchset", "served_resources"]

RESOURCE_TYPES = (
    "Condition",
    "Encounter",
    "EpisodeOfCare",
    "MedicationAdministration",
    "Observation",
    "Organization",
    "Patient",
    "Procedure",
)
"""Every resource type `to_fhir` emits (a test checks generated records give no other)."""

_URN = "urn:uuid:"


def relative(value: Any, kinds: Mapping[str, str]) -> Any:
    """`value` with each `{"reference": "urn:uuid:<id>"}` of a known id made `Type/<id>`."""
    if isinstance(value, dict):
        ref = value.get("reference")
        if isinstance(ref, str) and ref.startswith(_URN) and ref[len(_URN) :] in kinds:
            target = ref[len(_URN) :]
            return {**value, "reference": f"{kinds[target]}/{target}"}
        return {k: relative(v, kinds) for k, v in value.items()}
    if isinstance(value, list):
        return [relative(v, kinds) for v in value]
    return value


def served_resources(record: MdsRecord, terminology: Terminology) -> list[Resource]:
    """The resources `to_fhir` emits for the record, in bundle order, references relative."""
    found = resources(record, terminology)
    kinds = {r["id"]: r["resourceType"] for r in found}
    return [relative(r, kinds) for r in found]


def searchset(found: Iterable[Resource], base: str, self_url: str) -> dict[str, Any]:
    """A complete (one page) searchset Bundle of resources living under `base`."""
    entries = [{"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r,
                "search": {"mode": "match"}} for r in found]  # fmt: skip
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(entries),
        "link": [{"relation": "self", "url": self_url}],
        "entry": entries,
    }
