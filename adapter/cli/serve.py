"""`mds-adapter serve`: the HTTP API (FHIR base at /fhir) under uvicorn.

Settings come from the environment (`MDS_ADAPTER_*`, adapter/config.py); the options override
the database and the address. Logs are one JSON line per request on stderr (no bodies, no
query strings), so uvicorn's own access log is off.

`--workers N` runs N server processes on one socket (uvicorn's supervisor). One process uses one
core at most (the GIL), so on a small machine two workers can take twice the load. Each worker
builds its app from the environment (`worker_app`), with `--db` passed on as
MDS_ADAPTER_DB_URL. Several processes are safe: every writer of the record store holds the
same PostgreSQL advisory lock (adapter/stores/record_store.py), and SQLite has one writer.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from adapter.config import settings
from adapter.errors import ConfigurationError

if TYPE_CHECKING:
    from fastapi import FastAPI
    from sqlalchemy.engine import Engine

__all__ = ["register", "serve", "worker_app"]


def _access_log() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    access = logging.getLogger("adapter.api.access")
    access.handlers[:] = [handler]
    access.setLevel(logging.INFO)
    access.propagate = False


def _freeze_startup_objects() -> None:
    """Keep the app's long-lived objects (terminology maps, profiles, routes: ~115k objects)
    out of the cyclic garbage collector's full passes.

    A full pass over them took ~55 ms, every few seconds under load: a request that met one
    waited that long (the API bench's p99). `gc.freeze` moves what exists now to a permanent
    generation; what requests allocate is collected as before."""
    gc.collect()
    gc.freeze()


def worker_app() -> FastAPI:
    """The app of one `--workers` process: settings from the environment, the access log on."""
    from adapter.api import create_app

    _access_log()
    app = create_app(settings())
    _freeze_startup_objects()
    return app


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
    workers: Annotated[
        int, typer.Option("--workers", min=1, max=64, help="Server processes (one core each)")
    ] = 1,
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
    if found.pseudonym_key is None:
        typer.echo("error: MDS_ADAPTER_PSEUDONYM_KEY is not set: the API writes pseudonymised "
                   "records, so set it to the key the database was loaded with "
                   "(docs/deployment.md)", err=True)  # fmt: skip
        raise typer.Exit(2)
    try:
        app = create_app(found)
    except ConfigurationError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    _check_database(app.state.api.engine, found.db_url)
    address, number = host or found.host, port or found.port
    if workers > 1:
        app.state.api.engine.dispose()  # the check above; each worker builds its own app
        if db is not None:
            os.environ["MDS_ADAPTER_DB_URL"] = db
        _supervise(workers, address, number)
        return
    _access_log()
    _freeze_startup_objects()
    uvicorn.run(app, host=address, port=number, access_log=False, log_level="warning",
                server_header=False)  # fmt: skip


def _check_database(engine: Engine, url: str) -> None:
    """Exit 2 with one line on a database `db init` has not made (or an older version did);
    start anyway, with a warning, when it cannot be reached now (it may come back: /health
    answers 503 meanwhile, and clients retry)."""
    from sqlalchemy.exc import SQLAlchemyError

    from adapter.stores.schema_check import schema_problem

    try:
        with engine.connect() as conn:
            problem = schema_problem(conn)
    except SQLAlchemyError as exc:
        reason = (str(getattr(exc, "orig", None) or exc).splitlines() or ["?"])[0]
        typer.echo(f"warning: the database is not reachable now ({reason}); serving anyway: "
                   "/health answers 503 until it is", err=True)  # fmt: skip
        return
    if problem is not None:
        engine.dispose()
        typer.echo(f"error: {problem} --db {url}", err=True)
        raise typer.Exit(2)


def _supervise(workers: int, host: str, port: int) -> None:
    """`uvicorn.run(..., workers=N)`, but with TCP_NODELAY on the listening socket.

    uvicorn binds the shared socket with proto 0, so asyncio does not set TCP_NODELAY on the
    connections it accepts, and each keep-alive response waits ~40 ms for the client's delayed
    ACK (uvicorn issue #3149: GET /fhir/metadata went from 1 ms to 45 ms). Accepted sockets
    inherit the option from the listener on Linux.
    """
    import socket

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config("adapter.cli.serve:worker_app", factory=True, workers=workers,
                            host=host, port=port, access_log=False, log_level="warning",
                            server_header=False)  # fmt: skip
    sock = config.bind_socket()
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    Multiprocess(config, sockets=[sock]).run()


def register(app: typer.Typer) -> None:
    app.command()(serve)
