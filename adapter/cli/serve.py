"""`mds-adapter serve`: the HTTP API (FHIR base at /fhir) under uvicorn.

Settings come from the environment (`MDS_ADAPTER_*`, adapter/config.py); the options override
the database and the address. Logs are one JSON line per request on stderr (no bodies, no
query strings), so uvicorn's own access log is off.
"""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from adapter.config import settings
from adapter.errors import ConfigurationError

__all__ = ["register", "serve"]


def serve(
    db: Annotated[
        str | None,
        typer.Option(
            "--db", help="SQLAlchemy URL [default: MDS_ADAPTER_DB_URL]", show_default=False
        ),
    ] = None,
    host: Annotated[
        str | None,
        typer.Option(
            "--host",
            help="Address to listen on [default: MDS_ADAPTER_HOST, else 127.0.0.1]",
            show_default=False,
        ),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option(
            "--port",
            min=1,
            max=65535,
            help="Port [default: MDS_ADAPTER_PORT, else 8080]",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve the HTTP API: bundles in, terminology operations, receipts (docs/api.md)."""
    import uvicorn

    from adapter.api import create_app
    from adapter.stores.omop_db import in_memory

    found = settings()
    if db is not None:
        found = found.model_copy(update={"db_url": db})
    if in_memory(found.db_url):  # nothing else can reach it to run `db init`: always empty
        typer.echo("error: an in-memory database (sqlite://) is private to one process and "
                   "starts empty: serve a file, sqlite:///FILE, after `mds-adapter db init`",
                   err=True)  # fmt: skip
        raise typer.Exit(2)
    try:
        app = create_app(found)
    except ConfigurationError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    access = logging.getLogger("adapter.api.access")
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    access.propagate = False
    uvicorn.run(app, host=host or found.host, port=port or found.port, access_log=False,
                log_level="warning", server_header=False)  # fmt: skip


def register(app: typer.Typer) -> None:
    app.command()(serve)
