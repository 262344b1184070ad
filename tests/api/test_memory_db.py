"""An app over in-memory SQLite (`sqlite://`): one database for all its threads, never a 500.

SQLAlchemy's default gives each thread its own connection, and for `:memory:` that is its own
empty database: tables made by one worker thread were missing in the next. adapter/stores/
omop_db.py `connect` hands the one connection to one transaction at a time instead; `serve`
refuses such a URL, since no `db init` can reach it.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from adapter.api import create_app
from adapter.cli import app as cli
from adapter.fhir import to_fhir
from adapter.mds.synth import generate
from adapter.stores.omop_db import in_memory, init_db
from adapter.terminology import Terminology
from tests.api.conftest import READ, WRITE, bundle, entries, settings

CLIENTS = 4


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite://", True),
        ("sqlite:///:memory:", True),
        ("sqlite:///file:x?mode=memory&uri=true", True),
        ("sqlite:///omop.sqlite", False),
        ("postgresql://postgres@127.0.0.1:5432/x", False),
        ("not a url", False),
    ],
)
def test_in_memory(url: str, expected: bool) -> None:
    assert in_memory(url) is expected


def test_threads_share_one_in_memory_database() -> None:
    """Four clients post four different records at once: each is created once, all readable."""
    api = create_app(settings())
    init_db(api.state.api.engine)  # made on the app's engine: every request thread must see it
    terminology = Terminology.load()
    bodies = [bundle("batch", to_fhir(r, terminology)["entry"]) for r, _ in generate(CLIENTS, 11)]
    barrier = threading.Barrier(CLIENTS)
    found: list[Any] = [None] * CLIENTS

    def post(n: int) -> None:
        client = TestClient(api, raise_server_exceptions=False)
        barrier.wait()
        found[n] = client.post("/fhir", json=bodies[n], headers=WRITE)

    threads = [threading.Thread(target=post, args=(n,)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in found] == [200] * CLIENTS
    for r, body in zip(found, bodies, strict=True):
        kinds = [e["resource"]["resourceType"] for e in body["entry"]]
        statuses = [e["response"]["status"] for e in r.json()["entry"]]
        assert statuses == ["200 OK" if k == "Organization" else "201 Created" for k in kinds]
    with api.state.api.engine.connect() as conn:
        persons = conn.execute(sa.text("SELECT count(*) FROM person")).scalar()
        stored = conn.execute(sa.text("SELECT count(*) FROM adapter_records")).scalar()
    assert (persons, stored) == (CLIENTS, CLIENTS)
    client = TestClient(api, raise_server_exceptions=False)
    for body in bodies:
        [patient] = [e["resource"] for e in body["entry"]
                     if e["resource"]["resourceType"] == "Patient"]  # fmt: skip
        got = client.get(f"/fhir/Patient/{patient['id']}/$everything", headers=READ)
        assert got.status_code == 200
        served = [e["resource"] for e in got.json()["entry"]]
        assert [r["identifier"] for r in served if r["resourceType"] == "Patient"] == [
            patient["identifier"]
        ]


def test_an_uninitialised_in_memory_database_is_503_not_500() -> None:
    client = TestClient(create_app(settings()), raise_server_exceptions=False)
    response = client.post("/fhir", json=bundle("batch", entries(1)), headers=WRITE)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "2"
    assert [i["code"] for i in response.json()["issue"]] == ["transient"]


def test_serve_refuses_an_in_memory_database() -> None:
    result = CliRunner().invoke(cli, ["serve", "--db", "sqlite://"])
    assert result.exit_code == 2
    assert "in-memory database (sqlite://) is private to one process" in result.output
