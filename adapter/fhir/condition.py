"""The primary cancer Condition, the diagnosis (biopsy) Observation and the tumour size.

| MDS element | FHIR |
|---|---|
| histology_icdo3 | Condition.code: ICD-O-3 morphology + OMOP ICDO3 concept (icdo3-condition.csv) |
| primary_site_icdo3 | Condition.bodySite: ICD-O-3 topography coding |
| anatomic_region | Condition.bodySite: region codings (anatomic-region.csv) |
| laterality | Condition.bodySite.extension(mcode-laterality-qualifier) |
| tumour_depth | Condition.bodySite.extension(mcode-body-location-qualifier) |
| diagnosis_date | Condition.onsetDateTime (and the diagnosis Observation's effectiveDateTime) |
| age_at_diagnosis | Condition.extension(age-at-diagnosis).valueAge (UCUM a) |
| presentation_status, tissue_of_origin | Condition.extension (of ours, one each) |
| enneking_stage | Condition.extension(enneking-stage) (stage.summary is bound to grades) |
| histologic_grade, grading_system | Condition.stage.summary / .type |
| histologic_grade (GX, n/a) | not in the IG's set: Condition.extension(histologic-grade) |
| diagnostic_confirmation | Condition.evidence.code |
| biopsy_type | Observation-diagnosis.method |
| biopsy_type (unknown) | not in the IG's set: Observation.extension(biopsy-type) |
| tumour_size_cm | observation-testResult (OMOP 36768664) valueQuantity in cm |

A code outside the IG's *required* value set (grade GX_unknown / not_applicable, biopsy
`unknown`) would break the profile: the IG element then carries data-absent-reason and an
extension of ours the MDS code (ADR 0003, refinement 10).
"""

from __future__ import annotations

from adapter.fhir.codes import (
    ICDO3,
    IG,
    LOINC,
    OMOP,
    OURS,
    Draft,
    Resource,
    absent,
    absent_reason,
    copy_json,
    extension,
    extensions,
    iso,
    quantity,
)
from adapter.fhir.ids import Build
from adapter.fhir.quantities import CM, age_in_years, measure
from adapter.fhir.timeline import recurrence_from_status
from adapter.terminology.maps import MDS_CODESYSTEM_BASE

__all__ = [
    "BIOPSY_TYPE",
    "EXTENSIONS",
    "FIXED",
    "HISTOLOGY",
    "PROFILES",
    "diagnosis_from_fhir",
    "from_fhir",
    "size_from_fhir",
    "to_fhir",
]

# Fixed codes the IG profiles pin (profile in the comment).
FIXED = {
    "diagnosis": (LOINC, "29308-4", "Diagnosis"),  # Observation-diagnosis-eu-i4rc
    "tumour-size": (OMOP, "36768664", "Dimension of tumor"),  # observation-testResult-eu-i4rc
}
PROFILES = {
    "primary-cancer": IG + "Condition-primaryCancer-eu-i4rc",
    "diagnosis": IG + "Observation-diagnosis-eu-i4rc",
    "tumour-size": IG + "observation-testResult-eu-i4rc",
}
LATERALITY = IG + "mcode-laterality-qualifier"
QUALIFIER = IG + "mcode-body-location-qualifier"
EXTENSIONS = {
    "age_at_diagnosis": OURS + "age-at-diagnosis",
    "presentation_status": OURS + "presentation-status",
    "tissue_of_origin": OURS + "tissue-of-origin",
    "enneking_stage": OURS + "enneking-stage",
    "histologic_grade": OURS + "histologic-grade",  # only a grade the IG cannot code
}
BIOPSY_TYPE = OURS + "biopsy-type"  # only a biopsy type the IG cannot code
# mCODE's home of the morphology when Condition.code is an ICD-10 (or SNOMED) diagnosis code.
HISTOLOGY = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-histology-morphology-behavior"
# Required bindings of the IG (Condition.stage.summary, Observation-diagnosis.method).
_GRADES = "http://hl7.eu/fhir/ig/idea4rc/ValueSet/cancer-stageGrading-athena-vs"
_BIOPSIES = "http://hl7.eu/fhir/ig/idea4rc/ValueSet/type-of-biopsy-eu-i4rc"
_CONDITION = MDS_CODESYSTEM_BASE + "icdo3-condition"
_KEYS = frozenset({"code", "bodySite", "onsetDateTime", "stage", "evidence"})
_OBS_KEYS = frozenset({"status", "code", "focus", "effectiveDateTime", "method", "valueQuantity"})


def to_fhir(b: Build) -> list[tuple[str, Resource]]:
    out = [("primary-cancer", _condition(b))]
    r = b.record
    if r.biopsy_type is not None:
        o = b.new("Observation", "diagnosis", PROFILES["diagnosis"])
        o["status"] = "final"
        o["code"] = _fixed("diagnosis")
        o["focus"] = [b.ids.ref("primary-cancer")]
        if r.diagnosis_date is not None:
            o["effectiveDateTime"] = iso(r.diagnosis_date)
        else:
            o["_effectiveDateTime"] = absent()
        o["valueCodeableConcept"] = copy_json(out[0][1]["code"])
        if b.codec.in_value_set("biopsy_type", r.biopsy_type, _BIOPSIES):
            o["method"] = b.codec.concept("biopsy_type", r.biopsy_type)
        else:
            o["method"] = absent(absent_reason(r.biopsy_type))
            concept = b.codec.concept("biopsy_type", r.biopsy_type)
            o["extension"] = [extension(BIOPSY_TYPE, valueCodeableConcept=concept)]
        out.append(("diagnosis", o))
    if r.tumour_size_cm is not None:
        o = b.new("Observation", "tumour-size", PROFILES["tumour-size"])
        o["status"] = "final"
        o["code"] = _fixed("tumour-size")
        o["focus"] = [b.ids.ref("primary-cancer")]
        o["valueQuantity"] = quantity(r.tumour_size_cm, "cm")
        out.append(("tumour-size", o))
    return out


def _fixed(role: str) -> Resource:
    system, code, display = FIXED[role]
    return {"coding": [{"system": system, "code": code, "display": display}]}


def _condition(b: Build) -> Resource:
    r, codec = b.record, b.codec
    c = b.new("Condition", "primary-cancer", PROFILES["primary-cancer"])
    ext = []
    if r.age_at_diagnosis is not None:
        age = {**quantity(r.age_at_diagnosis, "a")}
        ext.append(extension(EXTENSIONS["age_at_diagnosis"], valueAge=age))
    grade = r.histologic_grade
    grade_bound = grade is None or codec.in_value_set("histologic_grade", grade, _GRADES)
    for name in ("presentation_status", "tissue_of_origin", "enneking_stage", "histologic_grade"):
        value = getattr(r, name)
        if value is not None and (name != "histologic_grade" or not grade_bound):
            ext.append(extension(EXTENSIONS[name], valueCodeableConcept=codec.concept(name, value)))
    if ext:
        c["extension"] = ext
    if r.histology_icdo3 is not None:
        coding = []
        if r.primary_site_icdo3 is not None:
            pair = f"{r.histology_icdo3}-{r.primary_site_icdo3}"
            for t in codec.terminology.translate(_CONDITION, pair, OMOP):
                coding.append({"system": OMOP, "code": t.code, "display": t.display})
        coding.append({"system": ICDO3, "code": r.histology_icdo3})
        c["code"] = {"coding": coding}
    else:
        c["code"] = absent()  # Condition-primaryCancer: code 1..1
    site = _body_site(b)
    if site:
        c["bodySite"] = [site]
    if r.diagnosis_date is not None:
        c["onsetDateTime"] = iso(r.diagnosis_date)
    stage = []
    if grade is not None or r.grading_system is not None:
        staged: Resource = {}
        if grade is None:
            staged["summary"] = absent()
        elif grade_bound:
            staged["summary"] = codec.concept("histologic_grade", grade)
        else:
            staged["summary"] = absent(absent_reason(grade))
        if r.grading_system is not None:
            staged["type"] = codec.concept("grading_system", r.grading_system)
        stage.append(staged)
    if stage:
        c["stage"] = stage
    evidence = []
    if r.diagnostic_confirmation is not None:
        confirmation = codec.concept("diagnostic_confirmation", r.diagnostic_confirmation)
        evidence.append({"code": [confirmation]})
    if r.biopsy_type is not None:
        evidence.append({"detail": [b.ids.ref("diagnosis")]})
    if r.tumour_size_cm is not None:
        evidence.append({"detail": [b.ids.ref("tumour-size")]})
    if evidence:
        c["evidence"] = evidence
    return c


def _body_site(b: Build) -> Resource:
    r, codec = b.record, b.codec
    site: Resource = {}
    ext = []
    if r.laterality is not None:
        concept = codec.concept("laterality", r.laterality)
        ext.append(extension(LATERALITY, valueCodeableConcept=concept))
    if r.tumour_depth is not None:
        concept = codec.concept("tumour_depth", r.tumour_depth)
        ext.append(extension(QUALIFIER, valueCodeableConcept=concept))
    if ext:
        site["extension"] = ext
    coding = []
    if r.primary_site_icdo3 is not None:
        coding.append({"system": ICDO3, "code": r.primary_site_icdo3})
    if r.anatomic_region is not None:
        coding.extend(codec.concept("anatomic_region", r.anatomic_region)["coding"])
    if coding:
        site["coding"] = coding
    return site


def from_fhir(c: Resource, d: Draft) -> None:
    for e in extensions(c, EXTENSIONS["age_at_diagnosis"]):
        age = e.get("valueAge", {})
        if age.get("code") == "a" and isinstance(age.get("value"), int | float):
            d.put("age_at_diagnosis", int(age["value"]), c, "Condition.extension(age)")
    for name in ("presentation_status", "tissue_of_origin", "enneking_stage", "histologic_grade"):
        for e in extensions(c, EXTENSIONS[name]):
            d.code(name, e.get("valueCodeableConcept"), c, f"Condition.extension({name})")
    for e in extensions(c, HISTOLOGY):
        cc = e.get("valueCodeableConcept")
        _read_code(cc, c, d, "Condition.extension(histology-morphology-behavior)")
    _read_code(c.get("code"), c, d, "Condition.code")
    for site in c.get("bodySite", ()):
        _read_site(site, c, d)
    d.date("diagnosis_date", c.get("onsetDateTime"), c, "Condition.onsetDateTime")
    for stage in c.get("stage", ()):
        d.code("histologic_grade", stage.get("summary"), c, "Condition.stage.summary")
        d.code("grading_system", stage.get("type"), c, "Condition.stage.type")
    for evidence in c.get("evidence", ()):
        for code in evidence.get("code", ()):
            d.code("diagnostic_confirmation", code, c, "Condition.evidence.code")
    _read_onset_age(c, d)
    recurred = recurrence_from_status(c, d, dated=False)
    keys = _KEYS | {"onsetAge"} | ({"clinicalStatus"} if recurred else set())
    d.leftover(c, keys, frozenset({*EXTENSIONS.values(), HISTOLOGY}))


def _read_onset_age(c: Resource, d: Draft) -> None:
    """Condition.onsetAge (what the IDEA4RC IG sends when the age is sent instead of the date)
    is the age at diagnosis, in completed years."""
    age = c.get("onsetAge")
    if age is None:
        return
    years = age_in_years(age)
    if years is None:
        d.report(
            "fhir.unsupported-value", c, "Condition.onsetAge",
            "onsetAge needs a UCUM age in a or mo", str(age),
        )  # fmt: skip
        return
    d.put("age_at_diagnosis", years, c, "Condition.onsetAge")


def _read_code(cc: Resource | None, r: Resource, d: Draft, path: str) -> None:
    """The histology (and, from an IDEA4RC condition concept, the site) of the Condition's
    code or of the diagnosis Observation's value: both say it, and a disagreement between
    them is reported (Draft.put), not left unread."""
    coding = (cc or {}).get("coding", ())
    icdo3 = [x["code"] for x in coding if x.get("system") == ICDO3 and "code" in x]
    if icdo3:
        d.put("histology_icdo3", icdo3[0], r, path)
        return
    for x in coding:  # an IDEA4RC condition concept alone: its histology-topography pair
        if x.get("system") == OMOP:
            back = d.codec.terminology.translate(OMOP, x.get("code", ""), _CONDITION, reverse=True)
            if back:
                histology, site = back[0].code.split("-", 1)
                d.put("histology_icdo3", histology, r, path)
                d.put("primary_site_icdo3", site, r, path)
                return
    if coding or (cc or {}).get("text"):
        d.report(
            "fhir.unknown-code", r, path,
            f"{path}: no ICD-O-3 morphology or known condition concept",
        )  # fmt: skip


def _read_site(site: Resource, c: Resource, d: Draft) -> None:
    for e in site.get("extension", ()):
        url, value = e.get("url"), e.get("valueCodeableConcept")
        if url == LATERALITY:
            d.code("laterality", value, c, "Condition.bodySite.extension(laterality)")
        elif url == QUALIFIER:
            d.code("tumour_depth", value, c, "Condition.bodySite.extension(qualifier)")
        else:
            d.report(
                "fhir.unsupported-element", c, f"Condition.bodySite.extension({url})",
                "no MDS element",
            )  # fmt: skip
    coding = site.get("coding", ())
    topography = [x["code"] for x in coding if x.get("system") == ICDO3 and "code" in x]
    if topography:
        d.put("primary_site_icdo3", topography[0], c, "Condition.bodySite")
    rest = [x for x in coding if x.get("system") != ICDO3]
    if rest:
        d.code("anatomic_region", {"coding": rest}, c, "Condition.bodySite")
    elif not coding and "text" in site:
        d.report("fhir.unsupported-element", c, "Condition.bodySite.text", "uncoded body site")


def diagnosis_from_fhir(o: Resource, d: Draft) -> None:
    for e in extensions(o, BIOPSY_TYPE):
        d.code("biopsy_type", e.get("valueCodeableConcept"), o, "Observation.extension(biopsy)")
    d.code("biopsy_type", o.get("method"), o, "Observation.method")
    d.date("diagnosis_date", o.get("effectiveDateTime"), o, "Observation.effectiveDateTime")
    _read_code(o.get("valueCodeableConcept"), o, d, "Observation.valueCodeableConcept")
    d.leftover(o, _OBS_KEYS | {"valueCodeableConcept", "performer"}, frozenset({BIOPSY_TYPE}))


def size_from_fhir(o: Resource, d: Draft) -> None:
    cm = measure(o.get("valueQuantity"), CM, d, o, "Observation.valueQuantity")
    d.put("tumour_size_cm", cm, o, "Observation.valueQuantity")
    d.leftover(o, _OBS_KEYS)
