"""FHIR → MDS records: group resources by patient and tumour, then let each spoke read its own.

Input is a stream of chunks, each a Bundle (transaction, batch, collection, searchset,
document) or a single resource (a line of FHIR NDJSON). Resources are placed on a patient by
`subject` / `patient` references (`urn:uuid:x`, `Patient/x` or an absolute URL all work). The
tumour is the Condition that means a primary cancer (adapter/fhir/tumour.py: by profile and
code, never by order); a patient without one gives no record but one error,
`fhir.no-primary-cancer`. A patient's resources are read sorted by type and id, so the record
does not depend on the order of the entries.

Memory: a Bundle whose every resource belongs to a Patient inside that same Bundle (what
`to_fhir` writes: one record per Bundle) is read and released at once, so a file of such
bundles streams in constant memory. Anything else (loose NDJSON resources of many patients in
any order, a searchset page that lacks its Patient) is buffered until the input ends, because a
later line may still hold a patient's resources: memory is then proportional to those
resources (roughly 1-2 kB each as dicts).

Each chunk is first passed through the structural check (adapter/fhir/sift.py: a malformed
node is an error naming its FHIRPath and leaves its record out, the rest is read), then against
profiles/ (adapter/fhir/intake.py: `profiles="warn"`
reports profile errors and maps anyway, `"reject"` leaves the chunk out, `"off"` skips the check).

Nothing is dropped in silence: a resource that cannot be placed (`fhir.unplaced-resource`), of
a kind no MDS element lives in (`fhir.unsupported-resource`), a comorbidity
(`fhir.comorbidity`), a refuted Condition (`fhir.refuted-condition`), an element without an MDS home
(`fhir.unsupported-element`), a code no map knows (`fhir.unknown-code`) or two resources
disagreeing on one element (`fhir.conflict`) is a finding naming type/id and element; the
other records of the same input are still produced.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from pydantic import ValidationError

from adapter.errors import Finding, Level
from adapter.fhir import (
    condition,
    follow_up,
    patient,
    radiotherapy,
    staging,
    surgery,
    systemic_therapy,
    timeline,
    tumour,
)
from adapter.fhir.bundle import codec_for
from adapter.fhir.codes import SNOMED, Codec, Draft, Resource, reference_key
from adapter.fhir.condition import FIXED as CONDITION_CODES
from adapter.fhir.ids import SID
from adapter.fhir.intake import ProfilePolicy, screen
from adapter.fhir.sift import sift
from adapter.fhir.surgery import FIXED as SURGERY_CODES
from adapter.mds.record import MdsRecord
from adapter.sources.problems import element_problems, invalid_record
from adapter.terminology import Terminology

__all__ = ["BUNDLE_TYPES", "read_fhir", "read_labelled"]

BUNDLE_TYPES = frozenset({"transaction", "batch", "collection", "searchset", "document"})
Reader = Callable[[Resource, Draft], None]

OBSERVATIONS: dict[tuple[str, str], Reader] = {
    CONDITION_CODES["diagnosis"][:2]: condition.diagnosis_from_fhir,
    CONDITION_CODES["tumour-size"][:2]: condition.size_from_fhir,
    SURGERY_CODES["necrosis"][:2]: surgery.necrosis_from_fhir,
    **staging.OBSERVATIONS,
    **follow_up.OBSERVATIONS,
}
PROCEDURES: dict[tuple[str, str], Reader] = {
    (SNOMED, "387713003"): surgery.from_fhir,
    (SNOMED, "108290001"): radiotherapy.from_fhir,
}
_PROCEDURE_PROFILES: dict[str, Reader] = {
    surgery.PROFILES["surgery"]: surgery.from_fhir,
    radiotherapy.PROFILES["radiotherapy"]: radiotherapy.from_fhir,
}


class _Item:
    """A resource and the keys references may use for it (id and fullUrl)."""

    __slots__ = ("keys", "resource")

    def __init__(self, resource: Resource, full_url: str | None) -> None:
        self.resource = resource
        keys = set()
        if isinstance(resource.get("id"), str):
            keys.add(resource["id"])
        if full_url:
            key = reference_key({"reference": full_url})
            if key:
                keys.add(key)
        self.keys = keys


def read_fhir(
    chunks: Iterable[dict[str, Any]],
    terminology: Terminology | None = None,
    *,
    profiles: ProfilePolicy = "warn",
    checked: bool = False,
) -> Iterator[MdsRecord | Finding]:
    """Records and findings from Bundles and single resources, in any order (see module doc).
    `checked`: the chunks passed the structural pass already (the API's `plan` ran it)."""
    labelled = ((f"chunk {n}", c) for n, c in enumerate(chunks, start=1))
    return read_labelled(labelled, terminology, profiles=profiles, checked=checked)


def read_labelled(
    chunks: Iterable[tuple[str, Any]],
    terminology: Terminology | None = None,
    *,
    profiles: ProfilePolicy = "warn",
    checked: bool = False,
) -> Iterator[MdsRecord | Finding]:
    """`read_fhir` of chunks each named for findings (`line 12` in NDJSON, `chunk 3` else)."""
    codec = codec_for(terminology or Terminology.load())
    pending: list[_Item] = []
    for label, chunk in chunks:
        if not isinstance(chunk, dict) or "resourceType" not in chunk:
            yield _finding("fhir.not-a-resource", label, "not a FHIR resource")
            continue
        if not checked:  # before any reader or validator touches it
            malformed, sifted = sift(label, chunk)
            yield from malformed
            if sifted is None:
                continue
            chunk = dict(sifted)
        found, keep = screen(label, chunk, profiles)
        yield from found
        if not keep:
            continue
        if chunk["resourceType"] != "Bundle":
            pending.append(_Item(chunk, None))
            continue
        if chunk.get("type") not in BUNDLE_TYPES:
            yield _finding(
                "fhir.unsupported-bundle", f"Bundle/{chunk.get('id')}",
                f"Bundle type {chunk.get('type')!r} is not read", ("Bundle.type",),
            )  # fmt: skip
            continue
        items = [
            _Item(e["resource"], e.get("fullUrl"))
            for e in chunk.get("entry", ())
            if isinstance(e.get("resource"), dict)
        ]
        if _self_contained(items):
            yield from _read_pool(items, codec)
        else:
            pending.extend(items)
    if pending:
        yield from _read_pool(pending, codec)


def _self_contained(items: list[_Item]) -> bool:
    patients = {k for i in items if i.resource.get("resourceType") == "Patient" for k in i.keys}
    if not patients:
        return False
    for i in items:
        kind = i.resource.get("resourceType")
        if kind in ("Patient", "Organization"):
            continue
        if _patient_key(i.resource) not in patients:
            return False
    return True


def _patient_key(r: Resource) -> str | None:
    return reference_key(r.get("subject") or r.get("patient"))


def _read_pool(items: list[_Item], codec: Codec) -> Iterator[MdsRecord | Finding]:
    patients: dict[str, int] = {}
    organizations: dict[str, _Item] = {}
    groups: list[list[Resource]] = []
    heads: list[Resource] = []
    for item in items:
        kind = item.resource.get("resourceType")
        if kind == "Patient":
            for key in item.keys:
                patients[key] = len(groups)
            groups.append([])
            heads.append(item.resource)
        elif kind == "Organization":
            for key in item.keys:
                organizations[key] = item
    used_orgs: set[int] = set()
    for item in items:
        r = item.resource
        kind = r.get("resourceType")
        if kind in ("Patient", "Organization"):
            continue
        if not _readable(r):
            yield _unsupported(r)
            continue
        key = _patient_key(r)
        if key is None or key not in patients:
            why = "no subject" if key is None else f"its patient {key} is not in the input"
            yield _finding(
                "fhir.unplaced-resource", _where(r), f"cannot place {_where(r)}: {why}",
                (f"{kind}.subject",),
            )  # fmt: skip
            continue
        groups[patients[key]].append(r)
    for head, group in zip(heads, groups, strict=True):
        org = _organization(head, group, organizations)
        if org is not None:
            used_orgs.add(id(org))
        yield from _read_patient(head, group, org, codec)
    for org in {id(o): o for o in organizations.values()}.values():
        if id(org) not in used_orgs:
            r = org.resource
            yield _finding(
                "fhir.unplaced-resource", _where(r),
                f"cannot place {_where(r)}: no Patient of the input refers to it",
                ("Organization",),
            )  # fmt: skip


def _readable(r: Resource) -> bool:
    kind = r.get("resourceType")
    if kind == "Observation":
        return _observation_reader(r) is not None
    if kind == "Procedure":
        return _procedure_reader(r) is not None
    return kind in ("Condition", "MedicationAdministration", "Encounter", "EpisodeOfCare")


def _observation_reader(r: Resource) -> Reader | None:
    for c in r.get("code", {}).get("coding", ()):
        found = OBSERVATIONS.get((c.get("system", ""), c.get("code", "")))
        if found:
            return found
    return None


def _procedure_reader(r: Resource) -> Reader | None:
    for cc in (r.get("category") or {}, r.get("code") or {}):
        for c in cc.get("coding", ()):
            found = PROCEDURES.get((c.get("system", ""), c.get("code", "")))
            if found:
                return found
    for profile in r.get("meta", {}).get("profile", ()):
        if profile in _PROCEDURE_PROFILES:
            return _PROCEDURE_PROFILES[profile]
    return None


def _organization(
    head: Resource, group: list[Resource], organizations: dict[str, _Item]
) -> _Item | None:
    refs = [head.get("managingOrganization")]
    refs += [r.get("managingOrganization") for r in group if r["resourceType"] == "EpisodeOfCare"]
    for ref in refs:
        key = reference_key(ref)
        if key in organizations:
            return organizations[key]
    return None


def _record_id(p: Resource) -> str | None:
    identifiers = [i for i in p.get("identifier", ()) if isinstance(i.get("value"), str)]
    ours = [i["value"] for i in identifiers if str(i.get("system", "")).startswith(SID)]
    if ours:
        return str(ours[0])
    if identifiers:
        return str(identifiers[0]["value"])
    found = p.get("id")
    return found if isinstance(found, str) else None


def _read_patient(
    head: Resource, group: list[Resource], org: _Item | None, codec: Codec
) -> Iterator[MdsRecord | Finding]:
    d = Draft(codec, record_id=_record_id(head))
    d.values["record_id"] = d.record_id
    patient.from_fhir(head, d)
    if org is not None:
        patient.organization_from_fhir(org.resource, d)
    group = sorted(group, key=lambda r: (r["resourceType"], str(r.get("id"))))  # order-free
    conditions = [r for r in group if r["resourceType"] == "Condition"]
    found = tumour.choose(conditions, group, d)
    if found.primary is None:
        yield from d.findings
        yield _no_primary(head, d, found.seen)
        return
    condition.from_fhir(found.primary, d)
    for c in found.events:
        timeline.event_from_fhir(c, d)
    for r in group:
        kind = r["resourceType"]
        if kind == "Observation":
            reader = _observation_reader(r)
            if reader is not None:
                reader(r, d)
        elif kind == "Procedure":
            reader = _procedure_reader(r)
            if reader is not None:
                reader(r, d)
        elif kind == "MedicationAdministration":
            systemic_therapy.from_fhir(r, d)
        elif kind == "Encounter":
            follow_up.encounter_from_fhir(r, d)
    early, late = timeline.metastases_in_time(found.metastases, d)  # diagnosis date known now
    for c in early:
        staging.metastasis_from_fhir(c, d, _order(c))
    timeline.late_metastases(late, d)
    for r in group:
        if r["resourceType"] == "EpisodeOfCare":
            patient.episode_from_fhir(r, d, organization_found=org is not None)
    if d.sites:
        sites = [code for _, code in sorted(d.sites)]
        d.values["metastasis_sites_at_diagnosis"] = list(dict.fromkeys(sites))
    yield from d.findings
    try:
        yield MdsRecord.model_validate(d.values)
    except ValidationError as exc:
        yield invalid_record(exc, location=_origin(exc, d, head), record_id=d.record_id,
                             raw=str(d.values))  # fmt: skip


def _origin(exc: ValidationError, d: Draft, head: Resource) -> str:
    """Where a rejected record's bad values came from: the one resource they were all read
    from (so a batch names the entry with the wrong code), else the record's Patient."""
    found = {d.origins.get(element) for element, _, _ in element_problems(exc)}
    if len(found) == 1 and (origin := found.pop()) is not None:
        return origin
    return f"Patient/{head.get('id')}"


def _no_primary(head: Resource, d: Draft, seen: list[str]) -> Finding:
    """No cancer, no record: a tumour picked from other Conditions would be a false one."""
    listed = "; ".join(seen) or "none"
    return Finding(
        code="fhir.no-primary-cancer", level=Level.ERROR, record_id=d.record_id,
        message=f"no primary cancer Condition was found for {_where(head)}; Conditions: {listed}",
        elements=("Condition",), location=_where(head),
    )  # fmt: skip


def _order(c: Resource) -> tuple[int, str]:
    """Sort key of a metastasis: our identifier's index (…/metastasis-2), else its id."""
    for i in c.get("identifier", ()):
        value = str(i.get("value", ""))
        tail = value.rsplit("/metastasis-", 1)
        if str(i.get("system", "")).startswith(SID) and len(tail) == 2 and tail[1].isdigit():
            return int(tail[1]), ""
    return 1 << 30, str(c.get("id"))


def _where(r: Resource) -> str:
    return f"{r.get('resourceType')}/{r.get('id')}"


def _unsupported(r: Resource) -> Finding:
    """A resource of a kind, or with a code, no MDS element lives in."""
    kind = str(r.get("resourceType"))
    if kind in ("Observation", "Procedure"):
        codes = [f"{c.get('system')}|{c.get('code')}" for c in r.get("code", {}).get("coding", ())]
        why = f"no MDS element is a {kind} coded {', '.join(codes) or '(no code)'}"
        return _finding("fhir.unsupported-resource", _where(r), why, (f"{kind}.code",))
    return _finding("fhir.unsupported-resource", _where(r), f"no MDS element is a {kind}", (kind,))


def _finding(code: str, where: str, message: str, elements: tuple[str, ...] = ()) -> Finding:
    return Finding(code=code, level=Level.WARNING, message=message, elements=elements,
                   location=where)  # fmt: skip
