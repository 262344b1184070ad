"""The checked-in OpenAPI document, openapi/openapi.json, and the command that writes it.

A test fails when the file differs from the app's document (adapter/api/schema.py).
Regenerate it with

    python -m adapter.api.openapi
"""

from __future__ import annotations

import sys
from pathlib import Path

import orjson
from fastapi import FastAPI

__all__ = ["OPENAPI_FILE", "main", "render"]

OPENAPI_FILE = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"


def render(app: FastAPI) -> bytes:
    """The document as the checked-in file holds it: sorted keys, indented, final newline."""
    return orjson.dumps(app.openapi(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def main() -> int:
    from adapter.api.app import create_app
    from adapter.config import Settings

    app = create_app(Settings(db_url="sqlite://"))
    OPENAPI_FILE.parent.mkdir(parents=True, exist_ok=True)
    OPENAPI_FILE.write_bytes(render(app))
    sys.stdout.write(f"wrote {OPENAPI_FILE}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
