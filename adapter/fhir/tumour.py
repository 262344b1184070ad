"""The record's tumour: chosen by what each Condition means, never by where it stands.

Hospitals send the problem list whole (mCODE comorbidities, an IPS document's problems), and a
Bundle's entry order is whatever the sender's serialiser made of it. So every Condition of a
patient is first given a kind, from its profile and its codes only:

- `primary`: profiled as a primary cancer (IDEA4RC Condition-primaryCancer, mCODE primary
  cancer condition), or coded as one: an ICD-O-3 morphology of malignant behaviour `/3` (in
  `code` or in mCODE's histology-morphology-behavior extension), an ICD-10 C code outside
  C77-C79, or a condition concept of our icdo3-condition map whose morphology is `/3`;
- `metastasis`: profiled as a secondary cancer (IDEA4RC, mCODE), linked to the tumour by
  condition-related, or coded as one (ICD-O-3 behaviour `/6`, ICD-10 C77-C79, the OMOP
  Metastasis concept);
- `event`: an IDEA4RC episode event (condition-occurredFollowing: progression, recurrence, …);
- `refuted`: verificationStatus refuted or entered-in-error: no fact at all;
- `comorbidity`: anything else, reported (`fhir.comorbidity`), never taken for a second primary.

Among several primaries the one profiled beats one only coded, then the one coded, then the
one most resources of the patient point at (the tumour the staging and treatments are about),
then the earliest onset, then the id: each step is a property of the data, so shuffling the
entries cannot change the choice. The others are reported (`fhir.unsupported-resource`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from adapter.fhir import condition, staging
from adapter.fhir.codes import ICDO3, OMOP, Codec, Draft, Resource, extensions, reference_key
from adapter.terminology.maps import MDS_CODESYSTEM_BASE

__all__ = [
    "HISTOLOGY",
    "ICD10",
    "MCODE",
    "METASTASIS_PROFILES",
    "OCCURRED_FOLLOWING",
    "PRIMARY_PROFILES",
    "Kind",
    "Tumour",
    "choose",
    "kind_of",
]

Kind = Literal["primary", "metastasis", "event", "refuted", "comorbidity"]

MCODE = "http://hl7.org/fhir/us/mcode/StructureDefinition/"
PRIMARY_PROFILES = frozenset(
    {condition.PROFILES["primary-cancer"], MCODE + "mcode-primary-cancer-condition"}
)
METASTASIS_PROFILES = frozenset(
    {staging.PROFILES["metastasis"], MCODE + "mcode-secondary-cancer-condition"}
)
HISTOLOGY = condition.HISTOLOGY
OCCURRED_FOLLOWING = "http://hl7.org/fhir/StructureDefinition/condition-occurredFollowing"
ICD10 = frozenset({"http://hl7.org/fhir/sid/icd-10", "http://hl7.org/fhir/sid/icd-10-cm"})
_NOT_A_FACT = frozenset({"refuted", "entered-in-error"})
_SECONDARY_ICD10 = frozenset({"C77", "C78", "C79"})
_METASTASIS_CONCEPTS = frozenset(code for s, code, _ in staging.FIXED["metastasis"] if s == OMOP)
_CONDITION_MAP = MDS_CODESYSTEM_BASE + "icdo3-condition"


@dataclass
class Tumour:
    """A patient's Conditions by kind: the chosen primary (None: no cancer) and its metastases."""

    primary: Resource | None = None
    metastases: list[Resource] = field(default_factory=list)
    events: list[Resource] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)  # every Condition, for the no-cancer error


def kind_of(c: Mapping[str, Any], codec: Codec) -> Kind:
    """What a Condition is to the MDS, from its verification status, profile and codes."""
    status = c.get("verificationStatus") or {}
    if any(x.get("code") in _NOT_A_FACT for x in status.get("coding", ())):
        return "refuted"
    if extensions(c, OCCURRED_FOLLOWING):
        return "event"
    profiles = {str(p).split("|", 1)[0] for p in c.get("meta", {}).get("profile", ())}
    if profiles & METASTASIS_PROFILES or extensions(c, staging.RELATED):
        return "metastasis"
    if profiles & PRIMARY_PROFILES:
        return "primary"
    return _coded(c, codec) or "comorbidity"


def _codings(c: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield from (c.get("code") or {}).get("coding", ())
    for e in extensions(c, HISTOLOGY):
        yield from (e.get("valueCodeableConcept") or {}).get("coding", ())


def _coded(c: Mapping[str, Any], codec: Codec) -> Kind | None:
    """`primary` / `metastasis` when a code says so (the first code that does), else None."""
    for x in _codings(c):
        system, code = x.get("system"), str(x.get("code", ""))
        if system == ICDO3 and "/" in code:
            behaviour = code.rsplit("/", 1)[1]
            if behaviour in ("3", "6"):
                return "primary" if behaviour == "3" else "metastasis"
        elif system in ICD10 and code[:1].upper() == "C" and code[1:3].isdigit():
            return "metastasis" if code[:3].upper() in _SECONDARY_ICD10 else "primary"
        elif system == OMOP and code in _METASTASIS_CONCEPTS:
            return "metastasis"
        elif system == OMOP:
            pairs = codec.terminology.translate(OMOP, code, _CONDITION_MAP, reverse=True)
            if any(p.code.split("-", 1)[0].endswith("/3") for p in pairs):
                return "primary"
    return None


def choose(conditions: list[Resource], group: list[Resource], d: Draft) -> Tumour:
    """Sort a patient's Conditions by kind and choose the tumour; report every other one."""
    t = Tumour()
    primaries: list[Resource] = []
    for c in conditions:
        kind = kind_of(c, d.codec)
        t.seen.append(_seen(c, kind))
        if kind == "primary":
            primaries.append(c)
        elif kind == "metastasis":
            t.metastases.append(c)
        elif kind == "event":
            t.events.append(c)
        elif kind == "refuted":
            d.report(
                "fhir.refuted-condition", c, "Condition.verificationStatus",
                "a refuted or entered-in-error Condition states no fact",
            )  # fmt: skip
        else:
            d.report("fhir.comorbidity", c, "Condition", "comorbidity: not an MDS element")
    if not primaries:
        return t
    pointed = _pointed_at(group) if len(primaries) > 1 else Counter()
    primaries.sort(key=lambda c: _rank(c, d.codec, pointed))
    t.primary = primaries[0]
    for extra in primaries[1:]:
        d.report(
            "fhir.unsupported-resource", extra, "Condition",
            f"a second primary cancer of the patient; the record holds {_where(t.primary)}",
        )  # fmt: skip
    return t


def _rank(c: Resource, codec: Codec, pointed: Counter[str]) -> tuple[Any, ...]:
    profiles = {str(p).split("|", 1)[0] for p in c.get("meta", {}).get("profile", ())}
    onset = c.get("onsetDateTime") or (c.get("onsetPeriod") or {}).get("start") or "~"
    return (
        not profiles & PRIMARY_PROFILES,
        _coded(c, codec) != "primary",
        -pointed[str(c.get("id"))],
        str(onset),
        str(c.get("id")),
    )


def _pointed_at(group: list[Resource]) -> Counter[str]:
    """How many resources of the patient refer to each id (each resource counted once per id)."""
    found: Counter[str] = Counter()
    for r in group:
        found.update({k for k in _references(r) if k != r.get("id")})
    return found


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("reference"), str):
            key = reference_key(node)
            if key:
                yield key
        for v in node.values():
            yield from _references(v)
    elif isinstance(node, list):
        for v in node:
            yield from _references(v)


def _seen(c: Mapping[str, Any], kind: Kind) -> str:
    cc = c.get("code") or {}
    shown = [f"{x.get('system')}|{x.get('code')}" for x in cc.get("coding", ())]
    text = ", ".join(shown) or cc.get("text") or "no code"
    return f"{_where(c)} ({text}: {kind})"


def _where(r: Mapping[str, Any]) -> str:
    return f"{r.get('resourceType')}/{r.get('id')}"
