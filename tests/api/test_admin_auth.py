"""Every admin route and /metrics: 401 without a token, 403 with a bundle.write token.

The routes are listed from the app's OpenAPI document, so a new admin route is covered
without editing this file. `/admin/receipts/{id}` is the exception on purpose: a writer
reads its own receipts (tests/api/test_bundles.py).
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from adapter.api import create_app
from adapter.api.outcomes import FHIR_JSON
from tests.api.conftest import settings

OWN_RECEIPTS = "/admin/receipts/{receipt_id}"


def admin_routes() -> list[tuple[str, str]]:
    paths = create_app(settings()).openapi()["paths"]
    found = [(method.upper(), path) for path, operations in paths.items()
             if (path.startswith("/admin/") or path == "/metrics") and path != OWN_RECEIPTS
             for method in operations]  # fmt: skip
    return sorted(found)


def test_the_admin_routes_are_the_expected_ones() -> None:
    assert admin_routes() == [
        ("GET", "/admin/quarantine"),
        ("GET", "/admin/quarantine/{quarantine_id}"),
        ("GET", "/admin/runs"),
        ("GET", "/admin/runs/{run_id}"),
        ("GET", "/admin/stats/completeness"),
        ("GET", "/admin/stats/daily"),
        ("GET", "/admin/stats/missing"),
        ("GET", "/metrics"),
        ("POST", "/admin/quarantine/{quarantine_id}/$reprocess"),
    ]


@pytest.mark.parametrize(("method", "path"), admin_routes())
@pytest.mark.parametrize(
    ("token", "status", "code"),
    [(None, 401, "login"), ("tok-nope", 401, "login"), ("tok-write-0123456789", 403, "forbidden"),
     ("tok-none-0123456789", 403, "forbidden")],
)  # fmt: skip
def test_admin_scope_is_required(
    client: TestClient, method: str, path: str, token: str | None, status: int, code: str
) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.request(method, re.sub(r"\{[^}]+\}", "1", path), headers=headers)
    assert response.status_code == status
    assert response.headers["content-type"] == FHIR_JSON
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert [i["code"] for i in body["issue"]] == [code]
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="mds-adapter"')
    if status == 403:
        assert body["issue"][0]["diagnostics"] == "this token lacks the scope admin"
