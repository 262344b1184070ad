"""Patient, Organization (the institution) and the cancer EpisodeOfCare.

| MDS element | FHIR |
|---|---|
| record_id | Patient.identifier (system per institution) |
| institution | Organization.name, referenced by Patient.managingOrganization |
| institution_country | Organization.address.country (ISO 3166-1 alpha-2) |
| sex | Patient.gender (administrative-gender, from sex.csv) |
| sex | absent → Patient._gender data-absent-reason (gender is 1..1 in patient-eu-i4rc) |
| birth_date | Patient.birthDate (partial as written); absent → data-absent-reason |
| vital_status, date_of_death | Patient.deceasedDateTime (dead with date), deceasedBoolean |

The IG never uses deceased[x] (death is implied by the follow-up status), but it is FHIR's home
of the fact; a date of death beside `alive` or no vital status (contradictions the rules
catch) goes in an extension of ours so that nothing is lost. The EpisodeOfCare repeats facts
held elsewhere (institution, diagnosis date) for the IG; foreign FHIR may hold the institution
there only (managingOrganization.display, 1..1 in the IG): it is read, and reported
(`fhir.unmatched-institution`) when no Organization or identifier names the same institution.
A period start that is not the diagnosis date (the IG's example) is reported, not read.
"""

from __future__ import annotations

from typing import Any

from adapter.fhir.codes import IG, OURS, Draft, Resource, absent, extension, extensions, iso
from adapter.fhir.ids import Build
from adapter.terminology import mds_system

__all__ = [
    "DATE_OF_DEATH",
    "GENDER",
    "PROFILES",
    "episode_from_fhir",
    "episode_to_fhir",
    "from_fhir",
    "organization_from_fhir",
    "organization_to_fhir",
    "to_fhir",
]

GENDER = "http://hl7.org/fhir/administrative-gender"
DATE_OF_DEATH = OURS + "date-of-death"
PROFILES = {
    "Patient": IG + "patient-eu-i4rc",
    "EpisodeOfCare": IG + "episodeOfCare-eu-i4rc",
}
_PATIENT_KEYS = frozenset(
    {"gender", "birthDate", "deceasedBoolean", "deceasedDateTime", "managingOrganization"}
)
_ORGANIZATION_KEYS = frozenset({"name", "address"})
_EPISODE_KEYS = frozenset({"status", "managingOrganization", "diagnosis", "period"})


def organization_to_fhir(b: Build) -> Resource | None:
    r = b.record
    if r.institution is None and r.institution_country is None:
        return None
    org = b.new("Organization", "organization", None)
    if r.institution is not None:
        org["name"] = r.institution
    if r.institution_country is not None:
        org["address"] = [{"country": r.institution_country}]
    return org


def to_fhir(b: Build, has_organization: bool) -> Resource:
    r = b.record
    p = b.new("Patient", "patient", PROFILES["Patient"])
    if r.sex is not None:
        found = b.codec.terminology.translate(_sex_system(), r.sex, GENDER)
        p["gender"] = found[0].code
    else:
        p["_gender"] = absent()  # patient-eu-i4rc: gender 1..1
    if r.birth_date is not None:
        p["birthDate"] = r.birth_date
    else:
        p["_birthDate"] = absent()
    if r.vital_status == "dead" and r.date_of_death is not None:
        p["deceasedDateTime"] = iso(r.date_of_death)
    else:
        if r.vital_status is not None:
            p["deceasedBoolean"] = r.vital_status == "dead"
        if r.date_of_death is not None:
            p["extension"] = [extension(DATE_OF_DEATH, valueDate=iso(r.date_of_death))]
    if has_organization:
        p["managingOrganization"] = b.ids.ref("organization")
    return p


def episode_to_fhir(b: Build, has_organization: bool) -> Resource:
    r = b.record
    e = b.new("EpisodeOfCare", "episode", PROFILES["EpisodeOfCare"])
    e["status"] = "active"
    e["diagnosis"] = [{"condition": b.ids.ref("primary-cancer")}]
    # episodeOfCare-eu-i4rc: managingOrganization 1..1 and its display (hospital name) 1..1
    org: dict[str, Any] = b.ids.ref("organization") if has_organization else {}
    if r.institution is not None:
        org = {**org, "display": r.institution}
    else:
        org = {**org, "_display": absent()}
    e["managingOrganization"] = org
    e["period"] = {"start": iso(r.diagnosis_date)} if r.diagnosis_date else {"_start": absent()}
    return e


def from_fhir(p: Resource, d: Draft) -> None:
    if "gender" in p:
        code = d.codec.terminology.mds_code("sex", GENDER, p["gender"])
        if code is None:
            d.report("fhir.unknown-code", p, "Patient.gender", f"gender {p['gender']!r}")
        d.put("sex", code, p, "Patient.gender")
    birth = p.get("birthDate")
    if isinstance(birth, str):
        d.put("birth_date", birth, p, "Patient.birthDate")
    if "deceasedDateTime" in p:
        d.put("vital_status", "dead", p, "Patient.deceasedDateTime")
        d.date("date_of_death", p["deceasedDateTime"], p, "Patient.deceasedDateTime")
    elif isinstance(p.get("deceasedBoolean"), bool):
        d.put("vital_status", "dead" if p["deceasedBoolean"] else "alive", p, "Patient.deceased")
    for ext in extensions(p, DATE_OF_DEATH):
        d.date("date_of_death", ext.get("valueDate"), p, "Patient.extension(date-of-death)")
    d.leftover(p, _PATIENT_KEYS, frozenset({DATE_OF_DEATH}))


def episode_from_fhir(e: Resource, d: Draft, *, organization_found: bool) -> None:
    """Read after every other resource: the diagnosis date is known by then."""
    org = e.get("managingOrganization") or {}
    name, path = org.get("display"), "EpisodeOfCare.managingOrganization.display"
    if isinstance(name, str):
        d.put("institution", name, e, path)
        if not organization_found and not org.get("identifier"):
            d.report(
                "fhir.unmatched-institution", e, path,
                f"institution {name!r} read from its name alone: no Organization or identifier "
                "names it", name,
            )  # fmt: skip
    start = (e.get("period") or {}).get("start")
    path = "EpisodeOfCare.period.start"
    when = d.full_date("diagnosis_date", start, e, path)
    if when is not None and when != d.values.get("diagnosis_date"):
        d.report(
            "fhir.unsupported-element", e, path,
            f"the care episode's start {start} is not the diagnosis date: no MDS element", start,
        )  # fmt: skip
    d.leftover(e, _EPISODE_KEYS)


def organization_from_fhir(o: Resource, d: Draft) -> None:
    d.put("institution", o.get("name"), o, "Organization.name")
    countries: list[Any] = [a.get("country") for a in o.get("address", ()) if a.get("country")]
    if countries:
        d.put("institution_country", countries[0], o, "Organization.address.country")
    d.leftover(o, _ORGANIZATION_KEYS)


def _sex_system() -> str:
    return mds_system("sex")
