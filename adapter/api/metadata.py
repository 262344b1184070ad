"""`GET /fhir/metadata` (the CapabilityStatement) and `GET /health`.

The CapabilityStatement is written from the `CAPABILITIES` table below, and tests/api compares
that table with the app's routes both ways: a route added without a line here, or a line left
after its route went, fails the test. So the statement says what the server does, no more.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.exc import SQLAlchemyError

from adapter.api.outcomes import ApiError, FhirResponse, issue, operation_outcome
from adapter.fhir.profiles import Profiles, load_profiles
from adapter.stores.runs import software_version
from adapter.stores.schema_check import schema_problem

__all__ = [
    "CAPABILITIES",
    "ENTRY_TYPES",
    "IMPLEMENTATION_GUIDE",
    "OPERATIONS",
    "PATIENT_OPERATIONS",
    "SYSTEM_OPERATIONS",
    "capability_statement",
    "health",
    "metadata",
    "router",
    "supported_profiles",
]

_OPDEF = "http://hl7.org/fhir/OperationDefinition/"
OPERATIONS: dict[str, tuple[str, str]] = {
    "/fhir/ConceptMap/$translate": ("ConceptMap", "translate"),
    "/fhir/CodeSystem/$lookup": ("CodeSystem", "lookup"),
    "/fhir/ValueSet/$validate-code": ("ValueSet", "validate-code"),
}
"""Route path → (resource type, operation name): type-level operations, GET and POST."""

_BULK = "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/"
PATIENT_OPERATIONS: dict[str, tuple[str, str]] = {
    "/fhir/Patient/{patient_id}/$everything": ("everything", f"{_OPDEF}Patient-everything"),
    "/fhir/Patient/$export": ("export", f"{_BULK}patient-export"),
}
"""Patient operations (GET only): route path → (operation name, definition)."""
SYSTEM_OPERATIONS: dict[str, tuple[str, str]] = {"/fhir/$export": ("export", f"{_BULK}export")}
"""System-level operations (GET only); `mds-adapter pull` looks for `export` here."""

CAPABILITIES: dict[tuple[str, str], str] = {
    ("GET", "/fhir/metadata"): "capabilities",
    ("POST", "/fhir"): "transaction, batch",
    **{(m, p): f"${op}" for p, (_, op) in OPERATIONS.items() for m in ("GET", "POST")},
    **{("GET", p): f"${op}" for p, (op, _) in {**PATIENT_OPERATIONS, **SYSTEM_OPERATIONS}.items()},
    ("GET", "/fhir/Patient/{patient_id}"): "read",
    ("GET", "/fhir/Patient"): "search-type (identifier)",
    ("GET", "/fhir/bulk-status/{job_id}"): "Bulk Data export status and manifest",
    ("DELETE", "/fhir/bulk-status/{job_id}"): "Bulk Data export cancel",
    ("GET", "/fhir/bulk-files/{job_id}/{name}"): "Bulk Data export NDJSON file",
}
"""(method, path) of every /fhir route → what the CapabilityStatement says of it."""

IMPLEMENTATION_GUIDE = "http://hl7.eu/fhir/ig/idea4rc/ImplementationGuide/hl7.eu.fhir.idea4rc"
"""The IDEA4RC IG (package hl7.eu.fhir.idea4rc, canonical http://hl7.eu/fhir/ig/idea4rc)."""
ENTRY_TYPES = ("Patient", "Condition", "Observation", "Procedure", "MedicationAdministration",
               "Encounter", "EpisodeOfCare", "Organization")  # fmt: skip
"""The resource types a posted Bundle's entries may carry (adapter/fhir/read.py reads them)."""

router = APIRouter()


def supported_profiles(profiles: Profiles) -> dict[str, list[str]]:
    """Resource type → the profiles of profiles/ constraining it (IDEA4RC and ours)."""
    out: dict[str, list[str]] = {}
    for url, sd in profiles.structure_definitions.items():
        if sd.get("kind") == "resource" and sd.get("derivation") == "constraint":
            out.setdefault(str(sd.get("type")), []).append(url)
    return {kind: sorted(urls) for kind, urls in out.items()}


def _entry_resource(kind: str, profiles: dict[str, list[str]]) -> dict[str, Any]:
    """What a Bundle entry of this type may do: create and update, both conditional on the
    business identifier; a Patient also delete (its record), read and search by identifier."""
    interactions = ["create", "update"]
    resource: dict[str, Any] = {"type": kind}
    if profiles.get(kind):
        resource["supportedProfile"] = profiles[kind]
    if kind == "Patient":
        interactions += ["delete", "read", "search-type"]
        resource["searchParam"] = [{
            "name": "identifier", "type": "token",
            "documentation": "system|value: the institution's system, the record id",
        }]  # fmt: skip
        resource["operation"] = [{"name": op, "definition": definition}
                                 for op, definition in PATIENT_OPERATIONS.values()]  # fmt: skip
    resource["interaction"] = [{"code": code} for code in interactions]
    resource["conditionalCreate"] = True
    resource["conditionalUpdate"] = True
    resource["conditionalDelete"] = "single" if kind == "Patient" else "not-supported"
    return resource


def capability_statement(base_url: str, profiles: Profiles | None = None) -> dict[str, Any]:
    """What this server implements, as FHIR R4 wants it said."""
    by_type = supported_profiles(profiles or load_profiles())
    resources = [_entry_resource(kind, by_type) for kind in ENTRY_TYPES]
    resources += [
        {
            "type": kind,
            "operation": [{"name": op, "definition": f"{_OPDEF}{kind}-{op}"}],
        }
        for kind, op in OPERATIONS.values()
    ]
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2025-01-01",
        "kind": "instance",
        "software": {"name": "mds-adapter", "version": software_version()},
        "implementation": {
            "description": "Sarcoma MDS adapter: FHIR R4 (IDEA4RC) bundles in, OMOP CDM v5.4 out",
            "url": base_url,
        },
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json"],
        "implementationGuide": [IMPLEMENTATION_GUIDE],
        "rest": [
            {
                "mode": "server",
                "documentation": "Bundles of MDS records (IDEA4RC profiles) are accepted as "
                "batch or transaction at the base; records are stored and mapped to OMOP. "
                "Entries: conditional update (PUT Type?identifier=), conditional create "
                "(POST + ifNoneExist), delete of a record (DELETE Patient/<id>, or "
                "conditional: DELETE Patient?identifier=).",
                "security": {
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                    "code": "OAuth",
                                    "display": "OAuth",
                                }
                            ]
                        }
                    ],
                    "description": "Bearer tokens (configured keys or JWTs) with scopes "
                    "bundle.write, export.read, admin (see docs/api.md); terminology "
                    "operations and metadata are open by default.",
                },
                "resource": resources,
                "operation": [
                    {"name": op, "definition": definition}
                    for op, definition in SYSTEM_OPERATIONS.values()
                ],
                "interaction": [
                    {"code": "transaction", "documentation": "all or nothing"},
                    {
                        "code": "batch",
                        "documentation": "each record on its own; rejects are quarantined",
                    },
                ],
            }
        ],
    }


@router.get("/fhir/metadata", response_class=FhirResponse, tags=["fhir"])
def metadata(request: Request) -> FhirResponse:
    """The CapabilityStatement: what this server implements (see the module docstring)."""
    base = str(request.base_url).rstrip("/") + "/fhir"
    return FhirResponse(capability_statement(base, request.app.state.api.validator.profiles))


@router.get("/health", response_class=FhirResponse, tags=["admin"])
def health(request: Request) -> FhirResponse:
    """200 when the database answers and has every table this version uses (`db init` made
    it), else 503; both as an OperationOutcome."""
    try:
        with request.app.state.api.engine.connect() as conn:
            problem = schema_problem(conn)
    except SQLAlchemyError as exc:
        raise ApiError(503, "the database is not reachable", code="transient") from exc
    if problem is not None:
        raise ApiError(503, problem, code="exception")
    return FhirResponse(
        operation_outcome(
            [issue("informational", "ok: database reachable", severity="information")]
        )
    )
