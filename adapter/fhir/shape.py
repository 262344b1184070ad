"""The structural pass: every JSON node checked against its FHIR element type, first.

Readers and the profile validator take a resource's values as FHIR says they are (a reference
is an object, `coding` is an array, a date is a string), so a wrong JSON type anywhere
(`"managingOrganization": "x"`) would reach them as a crash. This pass runs before any of them,
over the element types of profiles/core/element-types.json (adapter/fhir/element_types.py),
and says for each malformed node where it is, as a FHIRPath
(`Bundle.entry[3].resource.managingOrganization`). It never echoes the value (it may be a
patient's, or hostile).

What it refuses (finding codes, all errors):

- `fhir.structure`: a JSON type the element's FHIR type does not allow (an object where a
  string belongs, a single value where FHIR JSON has an array, an array where it has one value,
  `null`, a resource without a string `resourceType`);
- `fhir.out-of-range`: an integer outside its FHIR type (integer, unsignedInt, positiveInt are
  32-bit), a decimal that is not finite;
- `fhir.invalid-date`: date, dateTime, instant and time against the R4 grammar and the calendar
  (adapter/fhir/plausible.py);
- `fhir.control-character`: NUL or another C0 control character in a string or a name (FHIR's
  string grammar allows only tab, CR and LF; PostgreSQL text cannot hold NUL);
- `fhir.too-deep`, `fhir.too-long`: nesting and string length beyond `Limits` (settings
  `MDS_ADAPTER_MAX_JSON_DEPTH`, `MDS_ADAPTER_MAX_STRING_LENGTH`), so recursion and memory stay
  bounded whatever is posted.

Elements the table does not know (another resource type, a misspelt name) are walked for depth,
length and control characters only: unknown content is the profile validator's to judge.
Cost: one visit per JSON node, no copies (tens of microseconds per resource).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from adapter.errors import Finding, Level
from adapter.fhir.element_types import ElementTypes, element_types
from adapter.fhir.plausible import DATE_TYPES, date_problem

__all__ = ["Limits", "check_bundle", "check_resource"]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_INDEX = re.compile(r"\[\d+\]")
_ELEMENT = {"id": ("string", False), "extension": ("Extension", True)}
"""The `_name` companion of a primitive: its id and extensions."""
_INTEGERS = {
    "integer": (-(2**31), 2**31 - 1),
    "unsignedInt": (0, 2**31 - 1),
    "positiveInt": (1, 2**31 - 1),
}


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds of the pass; the names of the settings that raise them go into the messages."""

    max_depth: int = 32
    max_string_length: int = 65_536


class _Pass:
    __slots__ = ("deep", "found", "limits", "types")

    def __init__(self, types: ElementTypes, limits: Limits) -> None:
        self.types = types
        self.limits = limits
        self.found: list[Finding] = []
        self.deep = False  # a too-deep node was reported

    def add(self, code: str, path: str, message: str) -> None:
        element = _INDEX.sub("", path)
        self.found.append(Finding(code, Level.ERROR, f"{path} {message}", None, (element,),
                                  location=path))  # fmt: skip

    def value(self, v: Any, kind: str | None, path: str, depth: int) -> None:
        if depth > self.limits.max_depth and isinstance(v, dict | list):
            if not self.deep:  # once per document or entry: the first place says it
                self.deep = True
                limit = self.limits.max_depth
                why = f"is nested deeper than {limit} levels (MDS_ADAPTER_MAX_JSON_DEPTH)"
                self.add("fhir.too-deep", path, why)
        elif v is None:
            self.add("fhir.structure", path, "is null: FHIR JSON leaves an absent element out")
        elif kind is None:
            self.generic(v, path, depth)
        elif kind == "Resource":
            self.resource(v, path, depth)
        elif (fields := _ELEMENT if kind == "Element" else self.types.get(kind)) is not None:
            if not isinstance(v, dict):
                self.add("fhir.structure", path, f"must be a JSON object (FHIR {kind})")
            else:
                self.fields(v, fields, path, depth)
        else:
            self.primitive(v, kind, path)

    def resource(self, v: Any, path: str, depth: int) -> None:
        kind = v.get("resourceType") if isinstance(v, dict) else None
        if not isinstance(kind, str):
            self.add("fhir.structure", path, "must be a resource: a JSON object with a string "
                     "resourceType")  # fmt: skip
            return
        self.text(kind, f"{path}.resourceType")
        fields = self.types.get(kind)
        if fields is None:
            self.generic(v, path, depth)
        else:
            self.fields(v, fields, path, depth)

    def fields(
        self, v: Mapping[str, Any], fields: Mapping[str, tuple[str, bool]], path: str, depth: int
    ) -> None:
        for key, item in v.items():
            where = f"{path}.{key}"
            if _CONTROL.search(key) or len(key) > 200:
                self.add("fhir.control-character", path, "has an element name with a control "
                         "character or over 200 characters")  # fmt: skip
                continue
            spec = fields.get(key)
            if spec is None:
                if key != "resourceType":
                    self.generic(item, where, depth + 1)
                continue
            kind, many = spec
            if not many:
                if isinstance(item, list):
                    self.add("fhir.structure", where, f"must be a single value, not an array "
                             f"(FHIR {kind}, 0..1)")  # fmt: skip
                else:
                    self.value(item, kind, where, depth + 1)
            elif not isinstance(item, list):
                self.add("fhir.structure", where, f"must be a JSON array (FHIR {kind}, 0..*)")
            elif depth + 1 > self.limits.max_depth:
                self.value(item, None, where, depth + 1)
            else:
                nullable = key.startswith("_") or kind not in self.types
                for j, x in enumerate(item):
                    if x is None and nullable:
                        continue  # primitive arrays align with their `_name` array by nulls
                    self.value(x, kind, f"{where}[{j}]", depth + 2)

    def primitive(self, v: Any, kind: str, path: str) -> None:
        if kind == "boolean":
            if not isinstance(v, bool):
                self.add("fhir.structure", path, "must be true or false (FHIR boolean)")
        elif kind in _INTEGERS:
            low, high = _INTEGERS[kind]
            if type(v) is not int:
                self.add("fhir.structure", path, f"must be a JSON whole number (FHIR {kind})")
            elif not low <= v <= high:
                self.add("fhir.out-of-range", path, f"is outside FHIR {kind} ({low} to {high})")
        elif kind == "decimal":
            if type(v) not in (int, float):
                self.add("fhir.structure", path, "must be a JSON number (FHIR decimal)")
            elif not math.isfinite(v):
                self.add("fhir.out-of-range", path, "must be a finite number (FHIR decimal)")
        elif not isinstance(v, str):
            self.add("fhir.structure", path, f"must be a JSON string (FHIR {kind})")
        elif (
            self.text(v, path) and kind in DATE_TYPES and (why := date_problem(kind, v)) is not None
        ):
            self.add("fhir.invalid-date", path, why)

    def text(self, v: str, path: str) -> bool:
        """Length and control characters of a string; whether it passed."""
        if len(v) > self.limits.max_string_length:
            self.add("fhir.too-long", path, f"is a string of {len(v)} characters, over the "
                     f"limit of {self.limits.max_string_length} "
                     "(MDS_ADAPTER_MAX_STRING_LENGTH)")  # fmt: skip
            return False
        if _CONTROL.search(v):
            self.add("fhir.control-character", path, "holds a NUL or another control character "
                     "(FHIR strings allow tab, CR and LF only)")  # fmt: skip
            return False
        return True

    def generic(self, v: Any, path: str, depth: int) -> None:
        """Content of no known type: depth, strings and numbers only."""
        if depth > self.limits.max_depth and isinstance(v, dict | list):
            self.value(v, None, path, depth)
        elif isinstance(v, dict):
            self.fields(v, {}, path, depth)
        elif isinstance(v, list):
            for j, x in enumerate(v):
                self.generic(x, f"{path}[{j}]", depth + 1)
        elif isinstance(v, str):
            self.text(v, path)
        elif isinstance(v, float) and not math.isfinite(v):
            self.add("fhir.out-of-range", path, "must be a finite number")


def check_resource(
    resource: Any, path: str, limits: Limits | None = None, depth: int = 1
) -> list[Finding]:
    """The structural findings of one resource (at `depth`: 1 for a document's root)."""
    run = _Pass(element_types(), limits or Limits())
    run.value(resource, "Resource", path, depth)
    return run.found


def check_bundle(
    bundle: Mapping[str, Any], limits: Limits | None = None
) -> tuple[list[Finding], dict[int, list[Finding]]]:
    """(findings of the Bundle outside its entries, findings per entry index) of a Bundle
    whose `entry` is absent or an array; each entry is checked as a FHIR BundleEntry."""
    run = _Pass(element_types(), limits or Limits())
    fields = run.types["Bundle"]
    run.fields({k: v for k, v in bundle.items() if k != "entry"}, fields, "Bundle", 1)
    outside, run.found = run.found, []
    per_entry: dict[int, list[Finding]] = {}
    entries = bundle.get("entry", [])
    if not isinstance(entries, list):
        why = "Bundle.entry must be a JSON array (FHIR BundleEntry, 0..*)"
        outside.append(Finding("fhir.structure", Level.ERROR, why, None, ("Bundle.entry",),
                               location="Bundle.entry"))  # fmt: skip
        return outside, per_entry
    for i, entry in enumerate(entries):
        run.value(entry, "BundleEntry", f"Bundle.entry[{i}]", 3)
        if run.found:
            per_entry[i], run.found = run.found, []
        run.deep = False
    return outside, per_entry
