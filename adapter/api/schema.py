"""The OpenAPI document FastAPI cannot infer: FHIR bodies and OperationOutcome errors.

Bodies are read by hand (adapter/api/body.py), so the Bundle and Parameters schemas are added
here, and every error response is declared as an OperationOutcome (FastAPI would announce its
own 422 shape, which this API never sends). adapter/api/openapi.py writes it to a file.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

__all__ = ["SCHEMAS", "openapi_schema"]

_FHIR = "application/fhir+json"


def _resource(kind: str, **properties: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["resourceType", *[p for p in properties if p == "type"]],
        "properties": {"resourceType": {"type": "string", "enum": [kind]}, **properties},
        "additionalProperties": True,
    }


SCHEMAS: dict[str, dict[str, Any]] = {
    "Bundle": _resource(
        "Bundle",
        type={"type": "string", "enum": ["batch", "transaction"]},
        entry={"type": "array", "items": {"type": "object"}},
    ),
    "Parameters": _resource("Parameters", parameter={"type": "array", "items": {"type": "object"}}),
    "OperationOutcome": _resource(
        "OperationOutcome", issue={"type": "array", "items": {"type": "object"}}
    ),
}
_ERRORS = {
    "400": "Bad request", "401": "No or unknown bearer token", "403": "Missing scope",
    "404": "Not found", "413": "Body too large", "415": "Not FHIR JSON",
    "422": "Rejected content", "503": "Database not reachable",
}  # fmt: skip


def openapi_schema(app: FastAPI) -> dict[str, Any]:
    """The app's OpenAPI document with FHIR bodies and OperationOutcome errors."""
    doc = get_openapi(title=app.title, version=app.version, summary=app.summary,
                      routes=app.routes)  # fmt: skip
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schemas.update(SCHEMAS)
    outcome = {_FHIR: {"schema": {"$ref": "#/components/schemas/OperationOutcome"}}}
    for path, methods in doc.get("paths", {}).items():
        for operation in methods.values():
            responses = operation.setdefault("responses", {})
            ok = responses.get("200", {})
            if path.startswith(("/fhir", "/health")) and "content" in ok:
                ok["content"] = {_FHIR: {"schema": {"type": "object"}}}
            for status, text in _ERRORS.items():
                responses[status] = {"description": text, "content": outcome}
    return doc
