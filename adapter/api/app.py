"""The FastAPI app: `create_app(settings)` wires state, routers, error handlers, the guard.

A factory, not a module-level app, so tests build apps over their own databases with
TestClient and no server, and `mds-adapter serve` builds one from the environment.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from adapter.api import (
    admin,
    admin_quarantine,
    admin_runs,
    admin_stats,
    bulk,
    bundles,
    everything,
    metadata,
    metrics,
    operations,
    patient_read,
)
from adapter.api.docs import add_docs
from adapter.api.middleware import RequestGuard
from adapter.api.outcomes import ApiError, error_response
from adapter.api.schema import openapi_schema
from adapter.api.state import ApiState
from adapter.config import Settings
from adapter.stores.runs import software_version

__all__ = ["create_app"]


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return error_response(exc.status_code, str(exc.detail), headers=exc.headers)


async def _invalid_request(request: Request, exc: Exception) -> Response:
    """400 naming the parameter; pydantic's messages, never the input it saw."""
    assert isinstance(exc, RequestValidationError)
    errors: list[dict[str, Any]] = list(exc.errors())
    first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
    where = ".".join(str(p) for p in first.get("loc", ())[1:]) or "request"
    return error_response(400, f"{where}: {first.get('msg', 'invalid')}", expression=[where])


def create_app(settings: Settings | None = None) -> FastAPI:
    """An app over `settings` (default: the environment); nothing connects until a request."""
    found = settings or Settings()
    app = FastAPI(
        title="mds-adapter",
        version=software_version(),
        summary="Sarcoma MDS records as FHIR R4 (IDEA4RC) in, OMOP CDM v5.4 out",
        docs_url=None,
        redoc_url=None,
    )
    app.state.api = ApiState.build(found)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_middleware(RequestGuard, max_body_bytes=found.max_body_bytes,
                       trusted_hosts=found.trusted_hosts)  # fmt: skip
    app.state.metrics = metrics.Metrics()
    # patient_read after bulk: its /fhir/Patient/{id} would otherwise take /fhir/Patient/$export
    for module in (metadata, operations, bundles, everything, bulk, patient_read, admin,
                   admin_quarantine, admin_runs, admin_stats, metrics):  # fmt: skip
        app.include_router(module.router)

    def schema() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = openapi_schema(app)
        return app.openapi_schema

    app.openapi = schema  # type: ignore[method-assign]
    add_docs(app)
    return app
