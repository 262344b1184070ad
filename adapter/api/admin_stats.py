"""Statistics a registry sends its centres (scope `admin`): daily counts, completeness, missing.

    GET /admin/stats/daily?from=&to=&institution=     received / accepted / rejected per day
    GET /admin/stats/completeness?institution=        per institution and core element
    GET /admin/stats/missing?institution=&limit=&offset=   records lacking core elements

What each count counts is defined in adapter/stores/stats.py (and docs/api.md): records, not
HTTP requests. The missing list names the centres' own pseudonymous record ids so a centre can
be reminded; it is for admin tokens only and is never logged (the access log has no query
string and no body).
"""

from __future__ import annotations

from contextlib import closing
from datetime import date
from itertools import islice
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import JSONResponse

from adapter.api.admin_common import Admin, Limit, Text, admin_db, state_of
from adapter.api.outcomes import ApiError
from adapter.stores.stats import (
    completeness,
    core_elements,
    daily,
    missing,
    read_daily_rows,
    stored_records,
)

__all__ = ["get_completeness", "get_daily", "get_missing", "router"]

Institution = Text

router = APIRouter(tags=["admin"])


@router.get("/admin/stats/daily", response_class=JSONResponse)
def get_daily(
    request: Request,
    client: Admin,
    start: Annotated[date | None, Query(alias="from", description="first day (UTC)")] = None,
    end: Annotated[date | None, Query(alias="to", description="last day, included")] = None,
    institution: Institution = None,
) -> JSONResponse:
    """Per day and institution: records received, accepted, rejected."""
    if start is not None and end is not None and end < start:
        raise ApiError(400, "to: must not be before from", expression=["to"])
    with admin_db(state_of(request)) as conn:
        days, accepted, rejected = read_daily_rows(conn)
    found = daily(days, accepted, rejected, start=start, end=end, institution=institution)
    return JSONResponse({"days": found})


@router.get("/admin/stats/completeness", response_class=JSONResponse)
def get_completeness(request: Request, client: Admin, institution: Institution = None
                     ) -> JSONResponse:  # fmt: skip
    """Per institution, per core element: records with it present, total, fraction."""
    core = core_elements()
    with admin_db(state_of(request)) as conn:
        found = completeness(stored_records(conn, institution), core)
    return JSONResponse({"core_elements": list(core), "institutions": found})


@router.get("/admin/stats/missing", response_class=JSONResponse)
def get_missing(
    request: Request,
    client: Admin,
    institution: Institution = None,
    limit: Limit = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> JSONResponse:
    """The records lacking core elements (ordered by institution, record id), with which."""
    state = state_of(request)
    with admin_db(state) as conn, closing(stored_records(conn, institution)) as records:
        found = list(islice(missing(records, core_elements()), offset, offset + limit + 1))
    following = offset + limit if len(found) > limit else None
    return JSONResponse({"items": found[:limit], "next_offset": following})
