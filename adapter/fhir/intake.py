"""FHIR input is checked against profiles/ before it is mapped, as our own output is.

`screen(label, chunk, policy)` runs the validator (adapter/fhir/validate.py) on a chunk of input
(a Bundle: each entry's resource; or a single resource) and says what to report and whether to
map the chunk at all. Policies:

- `warn` (default): each profile *error* is reported as a warning and the chunk is still mapped.
  Profile errors in foreign FHIR are common and usually sit in elements no MDS element comes
  from (the IDEA4RC IG's own examples have undefined extensions, wrong value types and codes
  outside required value sets), and the mapper reads each element on its own and reports what
  it cannot read; the MDS rules then check the record. Rejecting would lose good facts.
- `reject`: a chunk with any profile error is not mapped; its errors are reported as errors
  (so `convert` exits non-zero), located down to the element.
- `off`: no check (the mapping alone, e.g. for data already validated upstream).

Only errors are reported: warnings (extensible bindings met with other codes) and infos (value
sets that cannot be enumerated) say nothing wrong about input and would drown the report.
Locations are FHIRPath-like and name the chunk:
`line 12 (Bundle/<id>): Bundle.entry[3].resource.method`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, get_args

from adapter.errors import Finding, Level
from adapter.fhir.ids import SID
from adapter.fhir.validate import validate

__all__ = ["POLICIES", "ProfilePolicy", "screen"]

ProfilePolicy = Literal["warn", "reject", "off"]
POLICIES: tuple[ProfilePolicy, ...] = get_args(ProfilePolicy)


def screen(
    label: str, chunk: Mapping[str, Any], policy: ProfilePolicy
) -> tuple[list[Finding], bool]:
    """(findings to report, whether to map the chunk) for one chunk of input."""
    if policy == "off":
        return [], True
    if policy not in POLICIES:
        raise ValueError(f"profiles policy must be one of {', '.join(POLICIES)}, got {policy!r}")
    found: list[Finding] = []
    record_id = None
    if chunk.get("resourceType") == "Bundle":
        for i, entry in enumerate(chunk.get("entry") or ()):
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if isinstance(resource, dict):
                found += validate(resource, f"Bundle.entry[{i}].resource")
                if resource.get("resourceType") == "Patient":
                    record_id = _identifier(resource)
    else:
        found = validate(chunk)
        if chunk.get("resourceType") == "Patient":
            record_id = _identifier(chunk)
    errors = [f for f in found if f.level is Level.ERROR]
    if chunk.get("id") is not None:
        label = f"{label} ({chunk.get('resourceType')}/{chunk.get('id')})"
    level = Level.ERROR if policy == "reject" else Level.WARNING
    out = [
        Finding(
            code=f.code, level=level, message=f.message, record_id=record_id,
            elements=f.elements, values=f.values, location=f"{label}: {f.location}",
        )
        for f in errors
    ]  # fmt: skip
    return out, not (errors and policy == "reject")


def _identifier(patient: Mapping[str, Any]) -> str | None:
    """The record id as read.py takes it: our identifier first, then any, then the id."""
    values = [
        (not str(i.get("system", "")).startswith(SID), str(i["value"]))
        for i in patient.get("identifier") or ()
        if isinstance(i, dict) and isinstance(i.get("value"), str)
    ]
    if values:
        return sorted(values, key=lambda v: v[0])[0][1]
    found = patient.get("id")
    return found if isinstance(found, str) else None
