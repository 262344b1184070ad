"""Terminology operations over HTTP: `$translate`, `$lookup`, `$validate-code`, GET and POST.

Thin wrappers over adapter.terminology.service.Terminology, whose operations already follow
FHIR's: each route gathers its inputs (query parameters on GET, a Parameters resource on
POST), asks the service and answers a Parameters resource. Inputs that do not make a question
(no code, no system) are 400 OperationOutcomes naming the parameter; a code nobody knows is a
normal answer (`result` false), except in $lookup, where FHIR says 404.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from adapter.api.auth import Client, require_terminology_read
from adapter.api.body import fhir_json
from adapter.api.outcomes import ApiError, FhirResponse
from adapter.terminology import Terminology

__all__ = [
    "CONCEPT_MAP_BASE",
    "lookup_get",
    "lookup_post",
    "parameters_in",
    "router",
    "translate_get",
    "translate_post",
    "validate_code_get",
    "validate_code_post",
]

CONCEPT_MAP_BASE = "https://w3id.org/sarcoma-mds/fhir/ConceptMap/"
"""`match.source` names the map as <base><name>; the map is terminology/maps/<name>.csv."""

router = APIRouter(tags=["terminology"])
Reader = Annotated[Client, Depends(require_terminology_read)]
_PARAMETERS_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/fhir+json": {"schema": {"$ref": "#/components/schemas/Parameters"}}
        },
    }
}


def parameters_in(body: Any) -> dict[str, Any]:
    """name → value of a Parameters resource (first of each name; valueX of any type)."""
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise ApiError(400, "the body must be a Parameters resource", expression=["Parameters"])
    found: dict[str, Any] = {}
    params = body.get("parameter", [])
    if not isinstance(params, list):
        raise ApiError(400, "parameter must be a list", expression=["Parameters.parameter"])
    for i, p in enumerate(params):
        name = p.get("name") if isinstance(p, dict) else None
        if not isinstance(name, str):
            raise ApiError(400, "a parameter needs a name",
                           expression=[f"Parameters.parameter[{i}].name"])  # fmt: skip
        values = [v for k, v in p.items() if k.startswith("value")]
        if len(values) != 1:
            raise ApiError(400, f"parameter {name} needs exactly one value[x]",
                           expression=[f"Parameters.parameter[{i}]"])  # fmt: skip
        found.setdefault(name, values[0])
    return found


def _text(given: Mapping[str, Any], name: str, *, required: bool = True) -> str | None:
    value = given.get(name)
    if value is None or value == "":
        if required:
            raise ApiError(400, f"the parameter {name} is required", expression=[name])
        return None
    if not isinstance(value, str):
        raise ApiError(400, f"the parameter {name} must be a string", expression=[name])
    return value


def _coding(given: dict[str, Any]) -> dict[str, Any]:
    """`coding` (valueCoding) stands for `system` + `code`, as FHIR allows."""
    coding = given.get("coding")
    if isinstance(coding, dict):
        given = {**given, "system": coding.get("system"), "code": coding.get("code")}
    return given


def _bool(given: Mapping[str, Any], name: str) -> bool:
    value = given.get(name, False)
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return bool(value == "true")
    raise ApiError(400, f"the parameter {name} must be true or false", expression=[name])


def _answer(parameters: list[dict[str, Any]]) -> FhirResponse:
    return FhirResponse({"resourceType": "Parameters", "parameter": parameters})


def _terminology(request: Request) -> Terminology:
    found: Terminology = request.app.state.api.terminology
    return found


def _translate(terminology: Terminology, given: dict[str, Any]) -> FhirResponse:
    given = _coding(given)
    system, code = _text(given, "system"), _text(given, "code")
    assert system is not None and code is not None
    target = _text(given, "targetsystem", required=False) or _text(given, "target", required=False)
    matches = terminology.translate(system, code, target, reverse=_bool(given, "reverse"))
    out: list[dict[str, Any]] = [{"name": "result", "valueBoolean": bool(matches)}]
    if not matches:
        out.append({"name": "message", "valueString": f"no mapping for {code} in {system}"})
    for m in matches:
        concept = {"system": m.system, "code": m.code, "display": m.display}
        out.append({"name": "match", "part": [
            {"name": "equivalence", "valueCode": m.equivalence},
            {"name": "concept", "valueCoding": concept},
            {"name": "source", "valueUri": CONCEPT_MAP_BASE + m.map},
        ]})  # fmt: skip
    return _answer(out)


def _lookup(terminology: Terminology, given: dict[str, Any]) -> FhirResponse:
    given = _coding(given)
    system, code = _text(given, "system"), _text(given, "code")
    assert system is not None and code is not None
    found = terminology.lookup(system, code)
    if found is None:
        raise ApiError(404, f"{code} is not a known code of {system}", code="not-found",
                       expression=["code"])  # fmt: skip
    out: list[dict[str, Any]] = [
        {"name": "name", "valueString": system.rstrip("/").rsplit("/", 1)[-1]},
        {"name": "display", "valueString": found.display},
    ]
    for key, value in found.properties.items():
        if value:
            out.append({"name": "property", "part": [
                {"name": "code", "valueCode": key}, {"name": "value", "valueString": value},
            ]})  # fmt: skip
    return _answer(out)


def _validate_code(terminology: Terminology, given: dict[str, Any]) -> FhirResponse:
    given = _coding(given)
    url, system, code = _text(given, "url"), _text(given, "system"), _text(given, "code")
    assert url is not None and system is not None and code is not None
    found = terminology.validate_code(url, system, code)
    out: list[dict[str, Any]] = [{"name": "result", "valueBoolean": found.result}]
    if found.message:
        out.append({"name": "message", "valueString": found.message})
    if found.display:
        out.append({"name": "display", "valueString": found.display})
    return _answer(out)


@router.get("/fhir/ConceptMap/$translate", response_class=FhirResponse)
def translate_get(
    request: Request,
    _: Reader,
    system: str | None = None,
    code: str | None = None,
    targetsystem: str | None = None,
    target: Annotated[str | None, Query(description="alias of targetsystem")] = None,
    reverse: bool = False,
) -> FhirResponse:
    """$translate a code (e.g. icdo3-condition `8805/3-C49.2` to its OMOP concept)."""
    given = {"system": system, "code": code, "targetsystem": targetsystem, "target": target,
             "reverse": reverse}  # fmt: skip
    return _translate(_terminology(request), given)


@router.post("/fhir/ConceptMap/$translate", response_class=FhirResponse,
             openapi_extra=_PARAMETERS_BODY)  # fmt: skip
async def translate_post(request: Request, _: Reader) -> FhirResponse:
    """$translate with a Parameters resource (system + code, or coding)."""
    return _translate(_terminology(request), parameters_in(await fhir_json(request)))


@router.get("/fhir/CodeSystem/$lookup", response_class=FhirResponse)
def lookup_get(
    request: Request, _: Reader, system: str | None = None, code: str | None = None
) -> FhirResponse:
    """$lookup: display and properties of a code; 404 when it is unknown."""
    return _lookup(_terminology(request), {"system": system, "code": code})


@router.post("/fhir/CodeSystem/$lookup", response_class=FhirResponse,
             openapi_extra=_PARAMETERS_BODY)  # fmt: skip
async def lookup_post(request: Request, _: Reader) -> FhirResponse:
    """$lookup with a Parameters resource."""
    return _lookup(_terminology(request), parameters_in(await fhir_json(request)))


@router.get("/fhir/ValueSet/$validate-code", response_class=FhirResponse)
def validate_code_get(
    request: Request,
    _: Reader,
    url: str | None = None,
    system: str | None = None,
    code: str | None = None,
) -> FhirResponse:
    """$validate-code: is the code in an MDS element's value set (url …/ValueSet/<element>)?"""
    return _validate_code(_terminology(request), {"url": url, "system": system, "code": code})


@router.post("/fhir/ValueSet/$validate-code", response_class=FhirResponse,
             openapi_extra=_PARAMETERS_BODY)  # fmt: skip
async def validate_code_post(request: Request, _: Reader) -> FhirResponse:
    """$validate-code with a Parameters resource."""
    return _validate_code(_terminology(request), parameters_in(await fhir_json(request)))
