"""AJCC TNM and stage group, disease extent at diagnosis, and metastasis sites.

| MDS element | FHIR |
|---|---|
| ajcc_t_category, ajcc_n_category, ajcc_m_category | mCODE TNM category Observations: value |
| ajcc_stage_group | sarcoma-cancer-stage-group Observation: value; hasMember → T, N, M, extent |
| metastasis_at_diagnosis | sarcoma-extent-category Observation (OMOP 432537) |
| metastasis_sites_at_diagnosis | Condition-secondaryCancer per site: bodySite (+ IG structure) |

The MDS T/N/M and stage carry no clinical/pathological prefix; they are written as clinical
(conflict C4) and the pathological LOINC codes are read as the same elements.
"""

from __future__ import annotations

from collections.abc import Callable

from adapter.fhir.codes import IG, LOINC, OMOP, Draft, Resource, cc_codes, extension
from adapter.fhir.ids import Build

__all__ = [
    "FIXED",
    "OBSERVATIONS",
    "PROFILES",
    "RELATED",
    "SITE_STRUCTURES",
    "metastasis_from_fhir",
    "to_fhir",
]

# Fixed codes the IG profiles pin: role → codings of Observation.code (or Condition.code).
FIXED: dict[str, tuple[tuple[str, str, str], ...]] = {
    "tnm-t": ((LOINC, "21905-5", "Primary tumor.clinical [Class] Cancer"),),  # mcode-tnm-primary
    "tnm-n": ((LOINC, "21906-3", "Regional lymph nodes.clinical [Class] Cancer"),),
    "tnm-m": ((LOINC, "21907-1", "Distant metastases.clinical [Class] Cancer"),),
    "stage-group": (  # sarcoma-cancer-stage-group (cancer-stageGroup-athena-vs) + mCODE
        (OMOP, "4221079", "Clinical stage"),
        (LOINC, "21908-9", "Stage group.clinical Cancer"),
    ),
    "extent": ((OMOP, "432537", "Extent of disease"),),  # sarcoma-extent-category
    "metastasis": ((OMOP, "36769180", "Metastasis"),),  # metastasis-disorder-athena-vs
}
# Pathological codes read as the same element (never written).
_READ_ALSO = {
    (LOINC, "21899-0"): "ajcc_t_category",
    (LOINC, "21900-6"): "ajcc_n_category",
    (LOINC, "21901-4"): "ajcc_m_category",
    (LOINC, "21902-2"): "ajcc_stage_group",
    (OMOP, "4221515"): "ajcc_stage_group",
}
PROFILES = {
    "tnm-t": IG + "mcode-tnm-primary-tumor-category",
    "tnm-n": IG + "mcode-tnm-regional-nodes-category",
    "tnm-m": IG + "mcode-tnm-distant-metastases-category",
    "stage-group": IG + "sarcoma-cancer-stage-group",
    # "extent" claims no profile: sarcoma-extent-category requires 32942/32944, which conflict
    # C7 keeps out of metastasis-at-diagnosis.csv (ADR 0003, open question)
    "metastasis": IG + "Condition-secondaryCancer-eu-i4rc",
}
RELATED = "http://hl7.org/fhir/StructureDefinition/condition-related"
# Condition-secondaryCancer.bodySite is bound (extensible) to site-of-metastasis-i4rc: body
# structures, not the "metastasis to X" modifiers of the map. This FHIR-only table adds the IG's
# structure beside them; `other` has none (the IG's "all abdominal viscera" is narrower).
SITE_STRUCTURES: dict[str, tuple[str, str]] = {
    "lung": ("4213162", "Lung structure"),
    "bone": ("4000496", "Bone part"),
    "lymph_node_regional": ("4241958", "Structure of lymph node"),
    "lymph_node_distant": ("4241958", "Structure of lymph node"),
    "soft_tissue": ("4338971", "Soft tissue"),
    "liver": ("4009105", "Liver structure"),
    "pleura": ("4150673", "Pleural structure"),
    "peritoneum": ("4035784", "Structure of serous membrane of peritoneum"),
    "brain": ("4133034", "Brain structure"),
    "unknown": ("4129922", "unknown"),
}
# Read back only where one MDS site has the structure (lymph node is regional or distant).
_STRUCTURE_SITES = {
    code: site
    for site, (code, _) in SITE_STRUCTURES.items()
    if sum(c == code for c, _ in SITE_STRUCTURES.values()) == 1
}
_ELEMENTS = {
    "tnm-t": "ajcc_t_category",
    "tnm-n": "ajcc_n_category",
    "tnm-m": "ajcc_m_category",
    "stage-group": "ajcc_stage_group",
    "extent": "metastasis_at_diagnosis",
}
_OBS_KEYS = frozenset({"status", "code", "focus", "valueCodeableConcept", "hasMember"})
# the onset is read by timeline.py, which tells a metastasis at diagnosis from a later one
_CONDITION_KEYS = frozenset({"code", "bodySite", "onsetDateTime", "onsetPeriod"})


def to_fhir(b: Build) -> list[tuple[str, Resource]]:
    out: list[tuple[str, Resource]] = []
    members: list[dict[str, str]] = []
    for role in ("tnm-t", "tnm-n", "tnm-m", "extent", "stage-group"):
        element = _ELEMENTS[role]
        value = getattr(b.record, element)
        if value is None:
            continue
        o = b.new("Observation", role, PROFILES.get(role))
        o["status"] = "final"
        o["code"] = _code(role)
        o["focus"] = [b.ids.ref("primary-cancer")]
        o["valueCodeableConcept"] = b.codec.concept(element, value)
        if role == "stage-group" and members:
            o["hasMember"] = members
        else:
            members.append(b.ids.ref(role))
        out.append((role, o))
    for i, site in enumerate(b.record.metastasis_sites_at_diagnosis or (), start=1):
        role = f"metastasis-{i}"
        c = b.new("Condition", role, PROFILES["metastasis"])
        c["extension"] = [extension(RELATED, valueReference=b.ids.ref("primary-cancer"))]
        c["code"] = _code("metastasis")
        concept = b.codec.concept("metastasis_sites_at_diagnosis", site)
        if site in SITE_STRUCTURES:
            code, display = SITE_STRUCTURES[site]
            structure = {"system": OMOP, "code": code, "display": display}
            concept = {"coding": [*concept["coding"], structure]}
        c["bodySite"] = [concept]
        out.append((role, c))
    return out


def _code(role: str) -> Resource:
    return {"coding": [{"system": s, "code": c, "display": t} for s, c, t in FIXED[role]]}


def _observation(element: str) -> Callable[[Resource, Draft], None]:
    def read(o: Resource, d: Draft) -> None:
        d.code(element, o.get("valueCodeableConcept"), o, "Observation.valueCodeableConcept")
        d.leftover(o, _OBS_KEYS)

    read.__doc__ = f"Read {element} from its Observation."
    return read


def metastasis_from_fhir(c: Resource, d: Draft, order: tuple[int, str]) -> None:
    """Each bodySite of a secondary cancer is one site; `order` sorts them back into the list."""
    for n, site in enumerate(c.get("bodySite", ())):
        code = d.codec.code("metastasis_sites_at_diagnosis", site)
        if code is None:
            found = (_STRUCTURE_SITES.get(c) for s, c in cc_codes(site) if s == OMOP)
            code = next((x for x in found if x is not None), None)
        if code is None:
            d.code("metastasis_sites_at_diagnosis", site, c, "Condition.bodySite")
            continue
        d.sites.append(((*order, n), code))
    d.leftover(c, _CONDITION_KEYS, frozenset({RELATED}))


# Observation.code → reader, for read.py.
OBSERVATIONS: dict[tuple[str, str], Callable[[Resource, Draft], None]] = {
    (system, code): _observation(_ELEMENTS[role])
    for role in _ELEMENTS
    for system, code, _ in FIXED[role]
}
OBSERVATIONS.update({key: _observation(element) for key, element in _READ_ALSO.items()})
