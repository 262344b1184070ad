"""Apps over a fresh database, with TestClient and no server; the db fixtures of tests/db."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from adapter.api import create_app
from adapter.config import Settings
from adapter.fhir import to_fhir
from adapter.mds.synth import generate
from adapter.stores.omop_db import init_db
from adapter.terminology import Terminology
from tests.db.conftest import db_url, postgres_database, postgres_server

__all__ = ["db_url", "postgres_database", "postgres_server"]

KEYS: dict[str, Any] = {
    "tok-write-0123456789": {"client": "oslo", "scopes": ["bundle.write"]},
    "tok-admin-0123456789": {"client": "ops", "scopes": ["admin"]},
    "tok-other-0123456789": {"client": "milan", "scopes": ["bundle.write"]},
    "tok-none-0123456789": {"client": "nobody", "scopes": []},
    "tok-read-0123456789": {"client": "registry", "scopes": ["export.read"]},
    "tok-read-0123456789-2": {"client": "analyst", "scopes": ["export.read"]},
}
WRITE = {"Authorization": "Bearer tok-write-0123456789", "Content-Type": "application/fhir+json"}
ADMIN = {"Authorization": "Bearer tok-admin-0123456789"}
READ = {"Authorization": "Bearer tok-read-0123456789"}


def settings(url: str = "sqlite://", **changes: Any) -> Settings:
    given: dict[str, Any] = {"pseudonym_key": "api-test-key-0123456789", "api_keys": KEYS}
    return Settings(db_url=url, **{**given, **changes})


@pytest.fixture
def make_client() -> Iterator[Callable[..., TestClient]]:
    made: list[TestClient] = []

    def make(url: str = "sqlite://", **changes: Any) -> TestClient:
        client = TestClient(create_app(settings(url, **changes)), raise_server_exceptions=False)
        made.append(client)
        return client

    yield make
    for client in made:
        client.app.state.api.engine.dispose()  # type: ignore[attr-defined]


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    """An app over an in-memory SQLite database (no tables): for routes that need none."""
    return make_client()


@pytest.fixture
def db_client(db_url: str, make_client: Callable[..., TestClient]) -> TestClient:
    """An app over an initialised database of each kind."""
    init_db(db_url)
    return make_client(db_url)


def entries(n: int, seed: int = 5) -> list[dict[str, Any]]:
    """The transaction entries of n synthetic records, one after the other."""
    terminology = Terminology.load()
    return [e for r, _ in generate(n, seed) for e in to_fhir(r, terminology)["entry"]]


def bundle(kind: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": kind, "entry": items}


Dump = dict[str, list[tuple[Any, ...]]]
"""Every row of every table, by table (tests.db.loading.dump)."""


def url_of(client: TestClient) -> str:
    return str(client.app.state.api.settings.db_url)  # type: ignore[attr-defined]


@pytest.fixture
def posted(db_client: TestClient) -> tuple[list[dict[str, Any]], Dump]:
    """Three synthetic records posted as one batch, and every table's rows afterwards."""
    from tests.db.loading import dump

    items = entries(3)
    response = db_client.post("/fhir", json=bundle("batch", items), headers=WRITE)
    assert response.status_code == 200
    return items, dump(url_of(db_client))
