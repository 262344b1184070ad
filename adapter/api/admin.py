"""`GET /admin/receipts/{id}`: a submission's receipt (its audit row), read back.

Scope `admin` reads any receipt; a `bundle.write` client reads its own (a receipt of another
client answers 404, so ids cannot be probed). A receipt holds counts and issue codes, no
patient data (adapter/stores/audit.py).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials
from sqlalchemy.exc import SQLAlchemyError
from starlette.responses import JSONResponse

from adapter.api.auth import BEARER, identify
from adapter.api.outcomes import ApiError
from adapter.api.state import ApiState
from adapter.config import Scope
from adapter.stores.audit import read_audit

__all__ = ["get_receipt", "router"]

router = APIRouter(tags=["admin"])


@router.get("/admin/receipts/{receipt_id}", response_class=JSONResponse)
def get_receipt(
    request: Request,
    receipt_id: Annotated[str, Path(max_length=64)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)],
) -> JSONResponse:
    """The receipt: id, time, client, action, HTTP status, run id, counts, OperationOutcome."""
    client = identify(request, credentials)
    if Scope.ADMIN not in client.scopes and Scope.BUNDLE_WRITE not in client.scopes:
        raise ApiError(403, "this token lacks the scope admin")
    state: ApiState = request.app.state.api
    try:
        with state.audit_engine().connect() as conn:
            entry = read_audit(conn, receipt_id)
    except SQLAlchemyError as exc:
        raise ApiError(503, "the database is not reachable", code="transient") from exc
    if entry is None or (Scope.ADMIN not in client.scopes and entry.client != client.id):
        raise ApiError(404, "no such receipt", expression=["receipt_id"])
    body: dict[str, Any] = {
        "id": entry.audit_id, "time": entry.at.isoformat(), "client": entry.client,
        "action": entry.action, "status": entry.status, "run_id": entry.run_id,
        "counts": dict(entry.counts), "outcome": dict(entry.outcome),
    }  # fmt: skip
    return JSONResponse(body)
