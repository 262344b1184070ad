"""What a posted Bundle may be before anything reads it: its structure, its size, its fullUrls.

`POST /fhir` is open to any client holding a write token, so everything here assumes hostile
input. `check_structure` runs first in `plan` (adapter/api/ingest.py): the entry count (413
over `MDS_ADAPTER_MAX_BUNDLE_ENTRIES`, before any entry is looked at), then the structural pass
of adapter/fhir/shape.py over the Bundle and every entry. A malformed node outside the entries
refuses the Bundle (422); a malformed entry gets its issues and is not validated or read, but
is still grouped with its record, so in a batch that record is refused while the others are
written. `check_full_urls` refuses a second entry with the same fullUrl (FHIR R4
bundle.html: "fullUrl SHALL be unique in a bundle"); the one exception, a warning, is the very
same resource again (an institution's Organization in the concatenated `to_fhir` Bundles of
several records: refusing it would refuse every such batch for no ambiguity), and
`check_record_sizes` refuses a record of more than `MDS_ADAPTER_MAX_RESOURCES_PER_PATIENT`
resources.

`kept` is what a quarantine item stores of rejected input: the JSON, or, past
`MDS_ADAPTER_MAX_QUARANTINE_BYTES` (or too deep to write back), a note saying what was left out.
"""

from __future__ import annotations

from typing import Any

import orjson

from adapter.api.outcomes import ApiError, issue
from adapter.api.submission import Kind, Submission
from adapter.config import Settings
from adapter.errors import Finding
from adapter.fhir.shape import Limits, check_bundle

__all__ = [
    "ISSUE_CODES",
    "check_full_urls",
    "check_record_sizes",
    "check_shape",
    "check_structure",
    "kept",
]

ISSUE_CODES = {
    "fhir.structure": "structure",
    "fhir.too-deep": "too-long",
    "fhir.too-long": "too-long",
    "fhir.control-character": "invalid",
    "fhir.invalid-date": "value",
    "fhir.out-of-range": "value",
}
"""OperationOutcome issue type of each structural finding code (FHIR R4 issue-type)."""


def _issue(f: Finding) -> dict[str, Any]:
    where = [f.location] if f.location else []
    return issue(ISSUE_CODES.get(f.code, "structure"), f"{f.code}: {f.message}", expression=where)


def check_shape(bundle: Any) -> Kind:
    """The Bundle's kind; 400 for a body that is no batch or transaction Bundle."""
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise ApiError(400, "the body must be a Bundle", expression=["Bundle"])
    kind = bundle.get("type")
    if kind not in ("batch", "transaction"):
        raise ApiError(400, "Bundle.type must be batch or transaction", code="not-supported",
                       expression=["Bundle.type"])  # fmt: skip
    if not isinstance(bundle.get("entry", []), list):
        raise ApiError(400, "Bundle.entry must be a list", code="structure",
                       expression=["Bundle.entry"])  # fmt: skip
    found: Kind = kind
    return found


def check_structure(bundle: dict[str, Any], settings: Settings) -> dict[int, list[dict[str, Any]]]:
    """The issues of each malformed entry; raises ApiError for a Bundle refused whole."""
    entries = bundle.get("entry") or []
    if len(entries) > settings.max_bundle_entries:
        raise ApiError(413, f"the Bundle has {len(entries)} entries, over the limit of "
                       f"{settings.max_bundle_entries} (MDS_ADAPTER_MAX_BUNDLE_ENTRIES): "
                       "send it in parts", code="too-costly",
                       expression=["Bundle.entry"])  # fmt: skip
    limits = Limits(settings.max_json_depth, settings.max_string_length)
    outside, per_entry = check_bundle(bundle, limits)
    if outside:
        raise ApiError(422, "the Bundle is malformed", issues=[_issue(f) for f in outside])
    return {i: [_issue(f) for f in found] for i, found in per_entry.items()}


def check_full_urls(s: Submission) -> None:
    """A fullUrl already used by an earlier entry is an error on the later entry."""
    seen: dict[str, int] = {}
    for i, entry in enumerate(s.entries):
        url = entry.get("fullUrl") if isinstance(entry, dict) else None
        if not isinstance(url, str):
            continue
        if url in seen:
            same = entry.get("resource") == s.entries[seen[url]].get("resource")
            s.add(i, issue("duplicate", f"the fullUrl of Bundle.entry[{seen[url]}] again: a "
                           "fullUrl SHALL be unique in a Bundle (FHIR R4 bundle.html)"
                           + ("; the same resource again, so only a warning" if same else ""),
                           severity="warning" if same else "error",
                           expression=[f"Bundle.entry[{i}].fullUrl"]))  # fmt: skip
        else:
            seen[url] = i


def check_record_sizes(s: Submission, limit: int) -> set[int]:
    """A record of more than `limit` resources is refused (on its Patient entry); the indices
    of its entries (not worth validating)."""
    refused: set[int] = set()
    for g in s.groups:
        if len(g.indices) + len(g.shared) > limit:
            n = len(g.indices) + len(g.shared)
            refused.update(g.indices)
            s.add(g.patient, issue("too-costly", f"the record has {n} resources, over the limit "
                                   f"of {limit} (MDS_ADAPTER_MAX_RESOURCES_PER_PATIENT)",
                                   expression=[f"Bundle.entry[{g.patient}]"]))  # fmt: skip
    return refused


def kept(value: Any, limit: int) -> bytes:
    """`value` as JSON for the quarantine, or a note when it is too large or too deep."""
    try:
        raw = orjson.dumps(value)
    except orjson.JSONEncodeError:
        return orjson.dumps({"omitted": "the input is nested too deeply to keep"})
    if len(raw) > limit:
        return orjson.dumps({"omitted": f"the input is {len(raw)} bytes, over the "
                             f"{limit} kept (MDS_ADAPTER_MAX_QUARANTINE_BYTES)"})  # fmt: skip
    return raw
