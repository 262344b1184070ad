"""The checked-in openapi/openapi.json is the app's; a bounded schemathesis run finds no 5xx.

Regenerate the file with `python -m adapter.api.openapi`. The schemathesis run is in process
(ASGI, no server), over an initialised SQLite database, with a write token so the bundle route
runs past authentication (an admin token on the admin routes and /metrics); every error it
provokes must be an OperationOutcome.
"""

from __future__ import annotations

from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, given, settings

from adapter.api import create_app
from adapter.api.openapi import OPENAPI_FILE, render
from adapter.api.outcomes import FHIR_JSON
from adapter.stores.omop_db import init_db
from tests.api.conftest import settings as api_settings


def test_checked_in_openapi_is_current() -> None:
    app = create_app(api_settings())
    assert OPENAPI_FILE.read_bytes() == render(app), (
        "openapi/openapi.json is stale: run `python -m adapter.api.openapi`"
    )


def check(case: schemathesis.Case) -> None:
    admin = case.path.startswith("/admin/") or case.path == "/metrics"
    token = "tok-admin-0123456789" if admin else "tok-write-0123456789"
    response = case.call(headers={"Authorization": f"Bearer {token}"})
    assert response.status_code < 500, f"{case.method} {case.path}: {response.text}"
    if response.status_code >= 400:
        assert response.headers["content-type"][0] == FHIR_JSON
        body = response.json()
        assert body["resourceType"] == "OperationOutcome"
        assert body["issue"] and all(i["severity"] == "error" for i in body["issue"])


def test_no_server_errors_and_every_error_is_an_operation_outcome(tmp_path: Path) -> None:
    init_db(f"sqlite:///{tmp_path / 'omop.sqlite'}")
    app = create_app(api_settings(f"sqlite:///{tmp_path / 'omop.sqlite'}"))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 27
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=15, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        def run(case: schemathesis.Case) -> None:
            check(case)

        run()
