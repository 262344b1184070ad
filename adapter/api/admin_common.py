"""What the admin routes share: the `admin` scope, database errors as 503, paging limits.

Every admin route needs scope `admin` (401 without a valid token, 403 without the scope, as
OperationOutcomes, adapter/api/auth.py); answers are plain JSON, errors OperationOutcomes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from adapter.api.auth import Client, require
from adapter.api.outcomes import ApiError
from adapter.api.state import ApiState
from adapter.config import Scope
from adapter.stores.quarantine import ensure_quarantine_resolved

__all__ = ["MAX_ID", "MAX_LIMIT", "Admin", "Limit", "Text", "admin_db", "state_of"]

MAX_LIMIT = 500
MAX_ID = 2**63 - 1
"""The largest id a bigint holds: larger ones are a 400, not a driver overflow."""

Admin = Annotated[Client, Depends(require(Scope.ADMIN))]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="items per page")]
Text = Annotated[str | None, Query(max_length=500, pattern=r"^[^\x00-\x1f]*$")]
"""A text filter: no control characters (PostgreSQL refuses NUL; a 400 names the parameter)."""


def state_of(request: Request) -> ApiState:
    state: ApiState = request.app.state.api
    try:
        state.ensure(ensure_quarantine_resolved)
    except SQLAlchemyError as exc:
        raise ApiError(503, "the database is not reachable", code="transient") from exc
    return state


@contextmanager
def admin_db(state: ApiState) -> Iterator[Connection]:
    """A read connection; a database failure is 503 (no driver text: it can quote values)."""
    try:
        with state.engine.connect() as conn:
            yield conn
    except SQLAlchemyError as exc:
        raise ApiError(503, "the database is not reachable", code="transient") from exc
