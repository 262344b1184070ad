"""Files and pulled pages: the structural pass before a chunk is validated or read.

`read_labelled` (adapter/fhir/read.py) reads chunks from files, NDJSON lines and pulled pages;
a wrong JSON type in any of them would crash a reader and stop the whole run. `sift` runs the
structural pass of adapter/fhir/shape.py on one chunk first and says what to report and what is
left to read:

- a single resource or a Bundle malformed outside its entries: the chunk is not read;
- a Bundle with malformed entries: those entries are left out, and with them every entry of the
  same record (the Patient they name, or the Patient that is malformed, and what names it), so
  no record is made from part of its resources; the rest of the chunk is read.

Every malformed node is an error finding located `line 12: Bundle.entry[3].resource.subject`;
each record left out is one more (`fhir.malformed-record`). Reading goes on with the next chunk.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from adapter.errors import Finding, Level
from adapter.fhir.codes import reference_key
from adapter.fhir.shape import Limits, check_bundle, check_resource

__all__ = ["sift"]


def sift(
    label: str, chunk: Mapping[str, Any], limits: Limits | None = None
) -> tuple[list[Finding], Mapping[str, Any] | None]:
    """(errors to report, the chunk to read on, or None to skip it)."""
    if chunk.get("resourceType") != "Bundle":
        found = check_resource(chunk, str(chunk.get("resourceType")), limits)
        return _located(label, found), (None if found else chunk)
    outside, per_entry = check_bundle(chunk, limits)
    if outside:
        return _located(label, outside), None
    if not per_entry:
        return [], chunk
    entries: list[Any] = chunk["entry"]
    found = [f for i in sorted(per_entry) for f in per_entry[i]]
    gone = {k for i in per_entry for k in _patient_keys(entries[i])}
    left = set(per_entry)
    for i, entry in enumerate(entries):
        if i not in left and gone & set(_patient_keys(entry)):
            left.add(i)
    for key in sorted(gone):
        found.append(Finding("fhir.malformed-record", Level.ERROR, f"the record of Patient "
                             f"{key} is not read: some of its entries are malformed", None,
                             ("Patient",), location="Bundle.entry"))  # fmt: skip
    kept = [e for i, e in enumerate(entries) if i not in left]
    return _located(label, found), {**chunk, "entry": kept}


def _patient_keys(entry: Any) -> list[str]:
    """The keys of the Patient an entry is or names (none when that cannot be read)."""
    r = entry.get("resource") if isinstance(entry, dict) else None
    if not isinstance(r, dict):
        return []
    if r.get("resourceType") == "Patient":
        url = entry.get("fullUrl")
        keys = [r.get("id"), reference_key({"reference": url}) if isinstance(url, str) else None]
        return [k for k in keys if isinstance(k, str)]
    ref = r.get("subject") if isinstance(r.get("subject"), dict) else r.get("patient")
    key = reference_key(ref) if isinstance(ref, dict) else None
    return [key] if key else []


def _located(label: str, found: list[Finding]) -> list[Finding]:
    return [replace(f, location=f"{label}: {f.location}") for f in found]
