"""`POST /fhir`: a batch or transaction Bundle of MDS records, answered entry by entry.

The checks and the write are adapter/api/ingest.py; this module is HTTP: the scope, `Prefer`,
the response Bundle, and the receipt. Every submission that passed authentication gets a
receipt (an audit row, adapter/stores/audit.py) whatever its outcome; its id is the id of the
response resource (the Bundle, or the OperationOutcome of a refused submission), the
`X-Receipt-Id` header and a Bundle.link with relation `receipt`; `GET /admin/receipts/{id}`
reads it back.

`Prefer: return=` (FHIR http.html#ops): `minimal` gives each entry's status only,
`representation` adds the resource as received (the adapter stores MDS records, not FHIR
resources), `OperationOutcome` (the default) adds each entry's issues (a delete then answers
200 with its outcome instead of 204 No Content).

Written entries carry `location` (`Type/id/_history/version`) and `etag` (`W/"version"`), the
record store version of their record (FHIR R4 Bundle.entry.response).
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.concurrency import run_in_threadpool

from adapter.api.auth import Client, require
from adapter.api.body import fhir_json
from adapter.api.ingest import Submission, commit, entry_location, entry_outcome, plan
from adapter.api.metrics import note_refused, note_submission
from adapter.api.outcomes import ApiError, FhirResponse, operation_outcome
from adapter.api.state import ApiState
from adapter.config import Scope
from adapter.stores.audit import AuditEntry, write_audit

__all__ = ["RECEIPT_HEADER", "RETRY_AFTER", "post_bundle", "prefer_return", "router"]

RECEIPT_HEADER = "X-Receipt-Id"
RETRY_AFTER = 2
"""Seconds a client is asked to wait after a 503: the database was locked longer than the
SQLite busy timeout (adapter/stores/omop_db.py; for in-memory SQLite, the wait for its one
connection) or could not be reached."""
_REASONS = {200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request",
            403: "Forbidden", 422: "Unprocessable Entity"}  # fmt: skip
_RETURNS = ("minimal", "representation", "OperationOutcome")
_BUNDLE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/fhir+json": {"schema": {"$ref": "#/components/schemas/Bundle"}}},
    }
}

router = APIRouter(tags=["fhir"])


def prefer_return(header: str | None) -> str:
    """The `return=` preference; OperationOutcome when absent or unknown (FHIR lets us pick)."""
    for part in (header or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == "return" and value.strip().strip('"') in _RETURNS:
            return value.strip().strip('"')
    return "OperationOutcome"


def _audit(state: ApiState, entry: AuditEntry) -> None:
    with state.audit_engine().begin() as conn:
        write_audit(conn, entry)


def _response(s: Submission, receipt: str, prefer: str, base: str) -> dict[str, Any]:
    entries = []
    for i, posted in enumerate(s.entries):
        status, issues = entry_outcome(s, i)
        if status == 204 and prefer == "OperationOutcome":
            status = 200  # the outcome is a payload
        response: dict[str, Any] = {"status": f"{status} {_REASONS.get(status, '')}".strip()}
        if (written := entry_location(s, i)) is not None:
            response["location"] = f"{written[0]}/_history/{written[1]}"
            response["etag"] = f'W/"{written[1]}"'
        entry: dict[str, Any] = {"response": response}
        if prefer == "representation" and status < 300 and "resource" in posted:
            entry["resource"] = posted["resource"]
        if prefer == "OperationOutcome":
            response["outcome"] = operation_outcome(issues)
        entries.append(entry)
    return {
        "resourceType": "Bundle",
        "id": receipt,
        "type": f"{s.kind}-response",
        "link": [{"relation": "receipt", "url": f"{base}/admin/receipts/{receipt}"}],
        "entry": entries,
    }


@router.post("/fhir", response_class=FhirResponse, openapi_extra=_BUNDLE_BODY)
async def post_bundle(
    request: Request, client: Annotated[Client, Depends(require(Scope.BUNDLE_WRITE))]
) -> FhirResponse:
    """A batch or transaction Bundle of MDS records (see the module docstring)."""
    state: ApiState = request.app.state.api
    receipt_id = str(uuid.uuid4())
    at = datetime.now(UTC)
    action = "bundle"
    headers = {RECEIPT_HEADER: receipt_id}
    body: Any = None
    try:
        body = await fhir_json(request)
        if isinstance(body, dict) and body.get("type") in ("batch", "transaction"):
            action = f"bundle.{body['type']}"
        s = await run_in_threadpool(plan, body, state)

        def receipt(s: Submission) -> AuditEntry:
            issues = [x for i in range(len(s.entries)) for x in entry_outcome(s, i)[1]]
            return AuditEntry(receipt_id, at, client.id, action, 200,
                              s.report.run_id if s.report else None, s.counts(),
                              operation_outcome(issues))  # fmt: skip

        try:
            await run_in_threadpool(commit, s, state, f"api:{client.id}", receipt,
                                    client.institutions)  # fmt: skip
        except (OperationalError, PoolTimeout) as exc:  # PoolTimeout: in-memory SQLite
            raise ApiError(503, "the database is busy or not reachable; no record of this "
                           "Bundle was written: retry", code="transient",
                           headers={"Retry-After": str(RETRY_AFTER)}) from exc  # fmt: skip
        note_submission(request.app, s)
    except ApiError as exc:
        exc.outcome_id = receipt_id
        exc.headers.update(headers)
        outcome = exc.response()
        entry = AuditEntry(
            receipt_id,
            at,
            client.id,
            action,
            exc.status,
            outcome=operation_outcome(exc.issues or [_only_issue(outcome)]),
        )
        with contextlib.suppress(SQLAlchemyError):  # a 503 is the answer even if this fails
            await run_in_threadpool(_audit, state, entry)
        note_refused(request.app, action, body)
        raise
    base = str(request.base_url).rstrip("/")
    prefer = prefer_return(request.headers.get("prefer"))
    return FhirResponse(_response(s, receipt_id, prefer, base),
                        headers=headers)  # fmt: skip


def _only_issue(response: FhirResponse) -> dict[str, Any]:
    found: dict[str, Any] = orjson.loads(response.body)["issue"][0]
    return found
