"""Tests against a real `mds-adapter serve` process (tests/live/server.py) on each database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import psycopg
import pytest
from fastapi.testclient import TestClient

from adapter.api import create_app
from adapter.stores.omop_db import init_db
from tests.api.conftest import KEYS, settings
from tests.db.conftest import PG_HOST, PG_PORT, db_url, postgres_database, postgres_server
from tests.live.server import LiveServer, live_server

__all__ = ["db_url", "postgres_database", "postgres_server"]

SERVER_ENV = {
    "MDS_ADAPTER_PSEUDONYM_KEY": "live-test-key-0123456789",
    "MDS_ADAPTER_API_KEYS": orjson.dumps(KEYS).decode(),
}


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """A served, initialised database of each kind, with the API test tokens configured."""
    init_db(db_url)
    with live_server(db_url, tmp_path, SERVER_ENV) as found:
        yield found


@pytest.fixture
def reference_client(
    db_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[[], TestClient]]:
    """An in-process app over a second fresh database of db_url's kind: what a single post
    of the same data writes, to compare the served database with."""
    made: list[tuple[TestClient, str | None]] = []

    def make() -> TestClient:
        name = None
        if db_url.startswith("postgresql"):
            name = f"mds_ref_{os.getpid()}_{uuid.uuid4().hex[:10]}"
            admin: str = request.getfixturevalue("postgres_server")
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f"CREATE DATABASE {name}")
            url = f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/{name}"
        else:
            url = f"sqlite:///{tmp_path / 'reference.sqlite'}"
        init_db(url)
        key = SERVER_ENV["MDS_ADAPTER_PSEUDONYM_KEY"]  # the same pseudonyms as the server
        client = TestClient(create_app(settings(url, pseudonym_key=key)))
        made.append((client, name))
        return client

    yield make
    for client, name in made:
        client.app.state.api.engine.dispose()  # type: ignore[attr-defined]
        if name is not None:
            admin = request.getfixturevalue("postgres_server")
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
