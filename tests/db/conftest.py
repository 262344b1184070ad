"""Every test here runs on SQLite and on PostgreSQL: the `db_url` fixture is parametrised.

SQLite is a file in the test's tmp_path. PostgreSQL is the local server on 127.0.0.1:5432
(user postgres, trust auth): each test gets its own freshly created database, dropped at the
end. When the server is down, set-up tries to start it (`pg_ctlcluster`); if it still cannot
be reached the PostgreSQL cases are skipped with a how-to, except on CI (CI=true), where that
is a failure: a green CI run must have exercised both databases.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

PG_HOST = "127.0.0.1"
PG_PORT = int(os.environ.get("MDS_ADAPTER_TEST_PG_PORT", "5432"))  # another local server
PG_ADMIN = f"host={PG_HOST} port={PG_PORT} user=postgres dbname=postgres connect_timeout=3"
HOW_TO = (
    f"PostgreSQL tests need a server on {PG_HOST}:{PG_PORT} with user postgres and trust auth "
    "(e.g. `pg_ctlcluster --skip-systemctl-redirect 15 main start`, or "
    "`docker run -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:15`); "
    "on CI (CI=true) they fail instead of skipping"
)
ATHENA = Path(__file__).parent / "athena"


def _reachable() -> bool:
    try:
        psycopg.connect(PG_ADMIN).close()
    except psycopg.OperationalError:
        return False
    return True


def _start_local_cluster() -> None:
    """What the brief's machines need: the Debian cluster, started without systemd."""
    if shutil.which("pg_ctlcluster") is None or not Path("/etc/postgresql").is_dir():
        return
    for version in sorted(p.name for p in Path("/etc/postgresql").iterdir()):
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
            check=False,
            capture_output=True,
            timeout=60,
        )
    for _ in range(40):
        if _reachable():
            return
        time.sleep(0.25)


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The admin connection string of a running server, or skip (fail on CI) with a how-to."""
    if not _reachable():
        _start_local_cluster()
    if not _reachable():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but PostgreSQL is unreachable. {HOW_TO}")
        pytest.skip(HOW_TO)
    return PG_ADMIN


@contextmanager
def new_postgres_database(admin_dsn: str) -> Iterator[str]:
    """A new, empty database (unique name) as a SQLAlchemy URL, dropped on exit."""
    name = f"mds_test_{os.getpid()}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def postgres_database(postgres_server: str) -> Iterator[str]:
    """A new, empty database for one test, dropped afterwards."""
    with new_postgres_database(postgres_server) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each kind, as a SQLAlchemy URL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'omop.sqlite'}"
    url: str = request.getfixturevalue("postgres_database")
    return url


@pytest.fixture
def athena_dir() -> Path:
    """A tiny vocabulary in the Athena download layout (see athena/README.md)."""
    return ATHENA
