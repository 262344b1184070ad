"""`GET /admin/runs` and `GET /admin/runs/{id}`: what ran, with which versions (scope `admin`).

A run is a load, a FHIR batch, a re-process, `db init` or a vocabulary load
(adapter/stores/run_list.py): software, map and vocabulary versions, counts, started and
finished (null while running). Newest first, paged with the cursor `before` (`next` of a page).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import JSONResponse

from adapter.api.admin_common import MAX_ID, Admin, Limit, Text, admin_db, state_of
from adapter.api.outcomes import ApiError
from adapter.stores.run_list import list_runs, read_run

__all__ = ["get_run", "get_runs", "router"]

router = APIRouter(tags=["admin"])


@router.get("/admin/runs", response_class=JSONResponse)
def get_runs(
    request: Request,
    client: Admin,
    command: Text = None,
    limit: Limit = 50,
    before: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="cursor: `next` of a page")
    ] = None,
) -> JSONResponse:
    """Runs, newest first."""
    with admin_db(state_of(request)) as conn:
        runs = list_runs(conn, limit=limit, before=before, command=command)
    following = runs[-1]["id"] if len(runs) == limit else None
    return JSONResponse({"items": runs, "next": following})


@router.get("/admin/runs/{run_id}", response_class=JSONResponse)
def get_run(
    request: Request, client: Admin, run_id: Annotated[int, Path(ge=1, le=MAX_ID)]
) -> JSONResponse:
    """One run with its details as written."""
    with admin_db(state_of(request)) as conn:
        found = read_run(conn, run_id)
    if found is None:
        raise ApiError(404, "no such run", expression=["run_id"])
    return JSONResponse(found)
