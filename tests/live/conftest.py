"""Tests against a real `mds-adapter serve` process (tests/live/server.py) on each database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from adapter.stores.omop_db import init_db
from tests.api.conftest import KEYS
from tests.db.conftest import db_url, postgres_database, postgres_server
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
