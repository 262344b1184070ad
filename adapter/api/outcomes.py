"""The one error shape of the HTTP surface: a FHIR OperationOutcome as `application/fhir+json`.

Every error, whoever raises it (a route, the router's 404/405, request validation, the auth
check, the body-size limit, an unexpected exception), leaves through `error_response`, so a
client needs one parser and tests/api pins the shape. Diagnostics name codes, elements and
FHIRPath locations, never submitted values: an error must not echo patient data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from starlette.responses import Response

__all__ = [
    "FHIR_JSON",
    "ApiError",
    "FhirResponse",
    "error_response",
    "issue",
    "operation_outcome",
    "status_code",
]

FHIR_JSON = "application/fhir+json"

# HTTP status → the OperationOutcome issue code (http://hl7.org/fhir/issue-type) it stands for.
_CODES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    413: "too-costly",
    415: "not-supported",
    422: "processing",
    500: "exception",
    503: "transient",
}


class FhirResponse(Response):
    """JSON rendered by orjson with the FHIR media type."""

    media_type = FHIR_JSON

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def issue(
    code: str,
    diagnostics: str,
    *,
    severity: str = "error",
    expression: Sequence[str] = (),
) -> dict[str, Any]:
    """One OperationOutcome.issue; `expression` holds FHIRPath locations."""
    out: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if expression:
        out["expression"] = list(expression)
    return out


def operation_outcome(
    issues: Sequence[Mapping[str, Any]], outcome_id: str | None = None
) -> dict[str, Any]:
    """An OperationOutcome; FHIR needs at least one issue, so an empty list says `informational`."""
    found = list(issues) or [issue("informational", "all ok", severity="information")]
    out: dict[str, Any] = {"resourceType": "OperationOutcome"}
    if outcome_id is not None:
        out["id"] = outcome_id
    out["issue"] = found
    return out


def error_response(
    status: int,
    diagnostics: str,
    *,
    code: str | None = None,
    expression: Sequence[str] = (),
    headers: Mapping[str, str] | None = None,
) -> FhirResponse:
    """A one-issue OperationOutcome response; the issue code follows the status by default."""
    body = operation_outcome([issue(status_code(status, code), diagnostics, expression=expression)])
    return FhirResponse(body, status_code=status, headers=dict(headers or {}))


class ApiError(Exception):
    """Raised by routes and dependencies; the app's handler turns it into an OperationOutcome.

    `issues` replaces the single issue when a route has several to report (a rejected
    transaction names every bad entry).
    """

    def __init__(
        self,
        status: int,
        diagnostics: str,
        *,
        code: str | None = None,
        expression: Sequence[str] = (),
        headers: Mapping[str, str] | None = None,
        issues: Sequence[Mapping[str, Any]] = (),
        outcome_id: str | None = None,
    ) -> None:
        super().__init__(diagnostics)
        self.status = status
        self.diagnostics = diagnostics
        self.code = code
        self.expression = tuple(expression)
        self.headers = dict(headers or {})
        self.issues = list(issues)
        self.outcome_id = outcome_id

    def response(self) -> FhirResponse:
        issues = self.issues or [issue(status_code(self.status, self.code), self.diagnostics,
                                       expression=self.expression)]  # fmt: skip
        body = operation_outcome(issues, self.outcome_id)
        return FhirResponse(body, status_code=self.status, headers=self.headers)


def status_code(status: int, code: str | None = None) -> str:
    """The issue code of an error response: `code` when given, else the one of the status."""
    return code or _CODES.get(status, "exception" if status >= 500 else "invalid")
