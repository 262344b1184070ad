"""/docs and /redoc load everything from this server (issue 16 item 5): no CDN, no web fonts."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize(
    ("page", "script"), [("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")]
)
def test_docs_pages_use_only_local_assets(client: TestClient, page: str, script: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert f"/docs/assets/{script}" in urls
    assert [u for u in urls if "://" in u or u.startswith("//")] == []
    assert "fonts.googleapis" not in html and "cdn" not in html.lower()
    asset = client.get(f"/docs/assets/{script}")
    assert asset.status_code == 200 and len(asset.content) > 100_000
    assert client.get("/openapi.json").json()["info"]["title"] == "mds-adapter"
