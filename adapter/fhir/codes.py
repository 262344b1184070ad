"""Shared pieces of the FHIR spoke: code systems, codings from the maps, and the reading draft.

Every coded MDS value is written as one CodeableConcept that carries the MDS local coding
(`https://w3id.org/sarcoma-mds/fhir/CodeSystem/<element>`) first, then every target the element's
map writes (OMOP concept, SNOMED CT, …). The local coding is what makes MDS → FHIR → MDS the
identity even where a map is `wider` or `unmatched`; a reader of foreign FHIR without it falls
back to the maps read in reverse (`Terminology.mds_code`), so IDEA4RC codes are understood too.

CodeableConcepts are cached per (element, code) and copied on every use, so the output of
`to_fhir` shares no dict or list with another record's (or another call's): a caller may
change one bundle without changing the next (tests/unit/fhir/test_fresh_output.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from adapter.errors import Finding, Level
from adapter.fhir.profiles import load_profiles
from adapter.mds.types import canonical_number
from adapter.terminology import Terminology, mds_system

__all__ = [
    "DAR",
    "ICDO3",
    "IG",
    "LOINC",
    "MDS_ELEMENT",
    "OMOP",
    "OURS",
    "SNOMED",
    "UCUM",
    "Codec",
    "Draft",
    "Resource",
    "absent",
    "absent_reason",
    "cc_codes",
    "copy_json",
    "extension",
    "extensions",
    "given_of",
    "iso",
    "number",
    "quantity",
    "reference_key",
    "scale",
    "status_of",
]

Resource = dict[str, Any]

OURS = "https://w3id.org/sarcoma-mds/fhir/StructureDefinition/"
IG = "http://hl7.eu/fhir/ig/idea4rc/StructureDefinition/"
OMOP = "http://fhir.ohdsi.org/CodeSystem/concepts"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
DAR = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
# Codes naming an MDS element, for Observations no standard code fits (e.g. percent necrosis).
MDS_ELEMENT = "https://w3id.org/sarcoma-mds/fhir/CodeSystem/mds-element"


def extension(url: str, **value: Any) -> Resource:
    """One extension: `extension(url, valueCode="x")`."""
    return {"url": url, **value}


def extensions(resource: Mapping[str, Any], url: str) -> list[Resource]:
    return [e for e in resource.get("extension", ()) if e.get("url") == url]


def absent(reason: str = "unknown") -> Resource:
    """An element the profile wants but the record lacks: data-absent-reason, never a guess."""
    return {"extension": [{"url": DAR, "valueCode": reason}]}


def absent_reason(code: str) -> str:
    """The data-absent-reason of an MDS code the IG has no code for (`*unknown*`, `not_applicable`).

    An MDS `unknown` was asked and not known (`asked-unknown`); this keeps it apart from an
    element the record lacks (`unknown`, ADR 0003 refinement 5).
    """
    if "unknown" in code:
        return "asked-unknown"
    return "not-applicable" if code == "not_applicable" else "unsupported"


def copy_json(node: Any) -> Any:
    """A copy of plain JSON data (dicts, lists, scalars) sharing no dict or list with it."""
    if isinstance(node, dict):
        return {k: copy_json(v) for k, v in node.items()}
    if isinstance(node, list):
        return [copy_json(v) for v in node]
    return node


def number(value: float | int) -> float | int:
    return canonical_number(float(value)) if isinstance(value, float) else value


def quantity(value: float | int, unit: str) -> Resource:
    return {"value": number(value), "unit": unit, "system": UCUM, "code": unit}


def iso(value: dt.date) -> str:
    return value.isoformat()


def scale(value: float | int, factor: int) -> float | int:
    """value × factor without binary noise (50.4 Gy → 5040 cGy, not 5040.000000000001)."""
    return canonical_number(float(Decimal(repr(value)) * factor))


def cc_codes(cc: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    if not cc:
        return []
    return [(c.get("system", ""), c.get("code", "")) for c in cc.get("coding", ())]


def reference_key(ref: Mapping[str, Any] | None) -> str | None:
    """The id a reference points at, whatever its form (urn:uuid:x, Patient/x, https://…/x)."""
    if not ref or not isinstance(ref.get("reference"), str):
        return None
    text: str = ref["reference"]
    if text.startswith("urn:uuid:"):
        return text[9:]
    return text.rstrip("/").rsplit("/", 1)[-1]


class Codec:
    """The terminology as the FHIR spoke needs it: codings out, MDS codes back, both cached."""

    def __init__(self, terminology: Terminology) -> None:
        self.terminology = terminology
        self._out: dict[tuple[str, str], tuple[dict[str, str], ...]] = {}  # never handed out
        self._back: dict[tuple[str, str, str], str | None] = {}
        self._bound: dict[tuple[str, str, str], bool] = {}

    def concept(self, element: str, code: str) -> Resource:
        """The CodeableConcept of an MDS code: local coding, then each written map target.

        New dicts each call (copies of the cached ones), so no two resources share one."""
        key = (element, code)
        found = self._out.get(key)
        if found is None:
            coding = [{"system": mds_system(element), "code": code}]
            for t in self.terminology.translate(mds_system(element), code):
                coding.append({"system": t.system, "code": t.code, "display": t.display})
            found = self._out[key] = tuple(coding)
        return {"coding": [c.copy() for c in found]}

    def in_value_set(self, element: str, code: str, value_set: str) -> bool:
        """Does the concept of an MDS code carry a coding of `value_set` (profiles/)?

        Where the IG binds an element *required* and its value set has no code for an MDS value
        (grade GX, biopsy `unknown`), the value must go elsewhere: the profile would be broken
        otherwise. Asked of the value set itself, so a code added to the IG needs no code change.
        """
        key = (element, code, value_set)
        found = self._bound.get(key)
        if found is None:
            expansion = load_profiles().expansion(value_set)
            found = expansion is not None and any(
                expansion.has(c["system"], c["code"]) for c in self.concept(element, code)["coding"]
            )
            self._bound[key] = found
        return found

    def code(self, element: str, cc: Mapping[str, Any] | None) -> str | None:
        """The MDS code a CodeableConcept stands for, or None when no coding is known."""
        local = mds_system(element)
        pairs = cc_codes(cc)
        for system, code in pairs:
            if system == local:
                return code
        for system, code in pairs:
            key = (element, system, code)
            if key not in self._back:
                self._back[key] = self.terminology.mds_code(element, system, code)
            if self._back[key] is not None:
                return self._back[key]
        return None


@dataclass
class Draft:
    """What is read so far for one record: MDS values, and findings about its resources."""

    codec: Codec
    values: dict[str, Any] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    record_id: str | None = None
    # metastasis sites with their sort key (our identifier index, else resource id and position)
    sites: list[tuple[tuple[int, str, int], str]] = field(default_factory=list)
    # element -> the resource it was read from ("Observation/<id>"), to locate a rejected value
    origins: dict[str, str] = field(default_factory=dict)
    # ("Type/id", element or "extension(url)") a reader took: with the findings, the account
    # of every element of the input (tests/unit/fhir/test_idea4rc_bundle.py checks it)
    taken: set[tuple[str, str]] = field(default_factory=set)

    def report(
        self, code: str, resource: Mapping[str, Any], element: str, reason: str, value: Any = None,
        *, values: tuple[Any, ...] | None = None,
    ) -> None:  # fmt: skip
        self.findings.append(
            Finding(
                code=code,
                level=Level.WARNING,
                message=reason,
                record_id=self.record_id,
                elements=(element,),
                values=values or (() if value is None else (value,)),
                location=f"{resource.get('resourceType')}/{resource.get('id')}",
            )
        )

    def put(self, element: str, value: Any, resource: Mapping[str, Any], path: str) -> None:
        """Set an element once; a second, different value is reported, never overwritten."""
        if value is None:
            return
        old = self.values.get(element)
        if old is not None and old != value:
            self.report(
                "fhir.conflict", resource, path,
                f"{element} already read as {old!r}; {value!r} ignored", values=(value, old),
            )  # fmt: skip
            return
        self.values[element] = value
        self.origins.setdefault(element, f"{resource.get('resourceType')}/{resource.get('id')}")

    def code(
        self, element: str, cc: Mapping[str, Any] | None, resource: Mapping[str, Any], path: str
    ) -> None:
        """Read a coded element, reporting a CodeableConcept none of whose codings we know."""
        if not cc or not (cc.get("coding") or cc.get("text")):
            return  # absent, or only data-absent-reason: nothing recorded
        code = self.codec.code(element, cc)
        if code is None:
            shown = ", ".join(f"{s}|{c}" for s, c in cc_codes(cc)) or cc.get("text", "")
            self.report(
                "fhir.unknown-code", resource, path,
                f"{path}: no code of {element} for {shown}", shown,
            )  # fmt: skip
            return
        self.put(element, code, resource, path)

    def given(self, element: str, resource: Mapping[str, Any], table: Mapping[str, str]) -> None:
        """Read a treatment's yes / no / unknown from its status (`status_of`'s reverse)."""
        path = f"{resource.get('resourceType')}.status"
        value = given_of(resource, table)
        if value is None and "_status" not in resource:
            self.report(
                "fhir.unsupported-value", resource, path,
                f"status {resource.get('status')!r} says neither yes, no nor unknown",
                resource.get("status"),
            )  # fmt: skip
        self.put(element, value, resource, path)

    def date(self, element: str, text: Any, resource: Mapping[str, Any], path: str) -> None:
        """A full date from a FHIR date or dateTime; a partial one cannot fill a date element."""
        self.put(element, self.full_date(element, text, resource, path), resource, path)

    def latest(self, element: str, text: Any, resource: Mapping[str, Any], path: str) -> None:
        """Keep the latest of several dates of one element (the last contact): a later date
        is not a conflict but the newer fact, and the maximum does not depend on order."""
        value = self.full_date(element, text, resource, path)
        old = self.values.get(element)
        if value is not None and (old is None or value > old):
            self.values[element] = value
            self.origins[element] = f"{resource.get('resourceType')}/{resource.get('id')}"

    def full_date(
        self, element: str, text: Any, resource: Mapping[str, Any], path: str
    ) -> dt.date | None:
        """The date of a FHIR date or dateTime; a partial one is reported and gives None."""
        if not isinstance(text, str):
            return None
        try:
            return dt.date.fromisoformat(text[:10])
        except ValueError:
            self.report(
                "fhir.unsupported-value", resource, path,
                f"{path}: {text!r} is not a full date, which {element} needs", text,
            )  # fmt: skip
            return None

    def leftover(
        self,
        resource: Mapping[str, Any],
        keys: frozenset[str],
        urls: frozenset[str] = frozenset(),
    ) -> None:
        """Report each top-level element and extension this reader does not turn into MDS."""
        kind = resource.get("resourceType", "?")
        where = f"{kind}/{resource.get('id')}"
        for key in resource:
            if key in keys or key in _ALWAYS or key.startswith("_"):
                self.taken.add((where, key))
                continue
            if key == "extension":
                for ext in resource["extension"]:
                    url = ext.get("url", "")
                    if url in urls:
                        self.taken.add((where, f"extension({url})"))
                    else:
                        self.report(
                            "fhir.unsupported-element", resource, f"{kind}.extension({url})",
                            f"{kind}.extension({url}) has no MDS element",
                        )  # fmt: skip
                continue
            self.report(
                "fhir.unsupported-element", resource, f"{kind}.{key}",
                f"{kind}.{key} has no MDS element",
            )  # fmt: skip


# Elements every reader accepts without reading: identity, provenance and links it resolves.
_ALWAYS = frozenset(
    {"resourceType", "id", "meta", "text", "identifier", "subject", "patient", "language"}
)


def status_of(given: str | None, table: Mapping[str, str]) -> tuple[str, Resource | None]:
    """A treatment's status from its MDS yes/no/unknown; not recorded → unknown + absent-reason.

    FHIR requires a status, so a treatment with dates but no `*_given` element still needs one:
    `unknown` with data-absent-reason tells it from an MDS `unknown` (recorded as not known).
    """
    if given is None:
        return "unknown", absent()
    return table[given], None


def given_of(resource: Mapping[str, Any], table: Mapping[str, str]) -> str | None:
    """The reverse of `status_of`; None when the status carries data-absent-reason."""
    if "_status" in resource:
        return None
    reverse = {v: k for k, v in table.items()}
    return reverse.get(resource.get("status", ""))
