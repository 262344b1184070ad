"""The quarantine for operators: list, detail, and `$reprocess` after a fix (scope `admin`).

    GET  /admin/quarantine?source=&institution=&run=&resolved=&limit=&before=
    GET  /admin/quarantine/{id}
    POST /admin/quarantine/{id}/$reprocess        (optional body: the corrected input)

The list is newest first and pages with a cursor: `next` is the `before` of the next page. It
shows where each item came from and its finding codes and messages (values cut out), never the
raw input, which may hold patient data; the detail has it. A re-process (adapter/api/
reprocess.py) that stores the record marks the item resolved (kept, with resolved_at and
resolved_run); one that fails answers 422 with today's findings and changes nothing. Every
re-process is audited (adapter/stores/audit.py), its receipt id in `X-Receipt-Id`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from adapter.api.admin_common import MAX_ID, Admin, Limit, Text, admin_db, state_of
from adapter.api.metrics import metrics_of
from adapter.api.outcomes import ApiError, FhirResponse, issue, operation_outcome, status_code
from adapter.api.reprocess import Outcome, reprocess
from adapter.api.state import ApiState
from adapter.stores.audit import AuditEntry, write_audit
from adapter.stores.quarantine import (
    QuarantineFilter,
    QuarantineItem,
    list_quarantine,
    mark_resolved,
    quarantine_item,
)

__all__ = ["get_quarantine", "list_items", "post_reprocess", "router"]

RECEIPT_HEADER = "X-Receipt-Id"
ItemId = Annotated[int, Path(ge=1, le=MAX_ID, description="the quarantine item id")]

router = APIRouter(tags=["admin"])


@router.get("/admin/quarantine", response_class=JSONResponse)
def list_items(
    request: Request,
    client: Admin,
    source: Text = None,
    institution: Text = None,
    run: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    resolved: bool | None = None,
    limit: Limit = 50,
    before: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="cursor: `next` of a page")
    ] = None,
) -> JSONResponse:
    """Quarantine items, newest first, without their raw input."""
    state = state_of(request)
    where = QuarantineFilter(source, institution, run, resolved)
    with admin_db(state) as conn:
        items = list_quarantine(conn, where, limit=limit, before=before)
    following = items[-1].quarantine_id if len(items) == limit else None
    return JSONResponse({"items": [i.listing() for i in items], "next": following})


def _item(state: ApiState, quarantine_id: int) -> QuarantineItem:
    with admin_db(state) as conn:
        found = quarantine_item(conn, quarantine_id)
    if found is None:
        raise ApiError(404, "no such quarantine item", expression=["quarantine_id"])
    return found


@router.get("/admin/quarantine/{quarantine_id}", response_class=JSONResponse)
def get_quarantine(request: Request, client: Admin, quarantine_id: ItemId) -> JSONResponse:
    """One item with its raw input and its findings as stored."""
    return JSONResponse(_item(state_of(request), quarantine_id).detail())


def _run(state: ApiState, quarantine_id: int, corrected: bytes | None,
         receipt: str, client: str) -> tuple[int, dict[str, Any], int]:  # fmt: skip
    """The re-process and its audit row; returns (status, JSON body, CDM rows written)."""
    at = datetime.now(UTC)
    out, status = Outcome(), 200
    try:
        item = _item(state, quarantine_id)
        if item.resolved_at is not None:
            raise ApiError(409, f"the item was resolved by run {item.resolved_run}",
                           code="conflict", expression=["quarantine_id"])  # fmt: skip
        out = reprocess(item, corrected, state)
        status = 200 if out.accepted else 422
        if out.accepted:
            with state.engine.begin() as conn:
                mark_resolved(conn, quarantine_id, at, out.run_id, receipt)
    except ApiError as exc:
        status = exc.status
        one = issue(status_code(exc.status, exc.code), exc.diagnostics, expression=exc.expression)
        out.issues = [dict(x) for x in exc.issues] or [one]
    except SQLAlchemyError:
        status, out.issues = 503, [issue("transient", "the database is not reachable")]
    counts = {"quarantine_id": quarantine_id, "corrected": int(bool(corrected)),
              "accepted": len(out.records) if out.accepted else 0, "rows": out.rows}  # fmt: skip
    entry = AuditEntry(receipt, at, client, "quarantine.reprocess", status, out.run_id,
                       counts, operation_outcome(out.issues))  # fmt: skip
    try:
        with state.audit_engine().begin() as conn:
            write_audit(conn, entry)
    except SQLAlchemyError:  # the database went away: say so rather than answer 500
        status, out.issues = 503, [issue("transient", "the database is not reachable")]
    if status != 200:
        return status, operation_outcome(out.issues, receipt), out.rows
    return 200, {"id": quarantine_id, "resolved_at": at.isoformat(), "resolved_run": out.run_id,
                 "receipt": receipt, "records": out.records}, out.rows  # fmt: skip


@router.post("/admin/quarantine/{quarantine_id}/$reprocess", response_class=JSONResponse)
async def post_reprocess(request: Request, client: Admin, quarantine_id: ItemId) -> Response:
    """Re-run the item through its own path; a body replaces its raw input (the fix)."""
    state = state_of(request)
    receipt = str(uuid.uuid4())
    corrected = await request.body()
    status, body, rows = await run_in_threadpool(_run, state, quarantine_id, corrected or None,
                                                 receipt, client.id)  # fmt: skip
    if (metrics := metrics_of(request.app)) is not None and rows:
        metrics.rows.inc(rows)
    headers = {RECEIPT_HEADER: receipt}
    if status != 200:
        return FhirResponse(body, status_code=status, headers=headers)
    return JSONResponse(body, headers=headers)
