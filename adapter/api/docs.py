"""`/docs` (Swagger UI) and `/redoc` (ReDoc) from assets installed with the package, no CDN.

FastAPI's own pages load their scripts from a CDN and a favicon and fonts from the web: a
hospital network that blocks outside hosts sees a blank page, and every view tells a third
party who reads our API. The fastapi-offline package ships the same three files (MIT; Swagger
UI and ReDoc are Apache-2.0 / MIT), so the pages here load only from this server. The pages
read the live schema at /openapi.json (openapi/openapi.json is the checked-in copy).
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

__all__ = ["ASSETS", "add_docs"]

ASSETS = "/docs/assets"
_STATIC = Path(fastapi_offline.__file__).resolve().parent / "static"


def add_docs(app: FastAPI) -> None:
    """Mount the assets and the two pages on `app` (not part of the OpenAPI schema)."""
    app.mount(ASSETS, StaticFiles(directory=_STATIC), name="docs-assets")
    title = f"{app.title} {app.version}"
    schema = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=schema, title=f"{title}: Swagger UI",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon.png",
        )  # fmt: skip

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=schema, title=f"{title}: ReDoc",
            redoc_js_url=f"{ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS}/favicon.png", with_google_fonts=False,
        )  # fmt: skip
