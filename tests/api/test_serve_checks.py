"""`serve` refuses, with one line and exit 2, what would only fail later (issue 16 item 6):
no pseudonym key, a database `db init` has not made, or one an older version made."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from adapter.cli import app as cli
from adapter.stores.omop_db import connect, init_db

KEY = "serve-check-key-0123456789"


def _serve(*args: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(cli, ["serve", *args])
    return result.exit_code, result.stderr.splitlines()


def test_without_a_pseudonym_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("MDS_ADAPTER_PSEUDONYM_KEY", raising=False)
    assert _serve("--db", f"sqlite:///{tmp_path / 'omop.sqlite'}") == (2, [
        "error: MDS_ADAPTER_PSEUDONYM_KEY is not set: the API writes pseudonymised records, so "
        "set it to the key the database was loaded with (docs/deployment.md)"
    ])  # fmt: skip


def test_on_an_uninitialised_database(monkeypatch: pytest.MonkeyPatch, db_url: str) -> None:
    monkeypatch.setenv("MDS_ADAPTER_PSEUDONYM_KEY", KEY)
    assert _serve("--db", db_url) == (2, [
        "error: the database is not initialised (no OMOP CDM tables): run `mds-adapter db init` "
        f"--db {db_url}"
    ])  # fmt: skip


def test_on_a_database_an_older_version_made(monkeypatch: pytest.MonkeyPatch, db_url: str) -> None:
    monkeypatch.setenv("MDS_ADAPTER_PSEUDONYM_KEY", KEY)
    init_db(db_url)
    engine = connect(db_url)
    pg = db_url.startswith("postgresql")
    with engine.begin() as conn:  # the worklist tables came with a later version
        for name in ("unmapped_code_records", "unmapped_codes"):
            conn.execute(sa.text(f"DROP TABLE {'adapter.' if pg else 'adapter_'}{name}"))
    engine.dispose()
    code, lines = _serve("--db", db_url)
    prefix = "adapter." if pg else "adapter_"
    assert (code, lines) == (2, [
        f"error: the database was made by an older version (missing {prefix}unmapped_codes, "
        f"{prefix}unmapped_code_records): run `mds-adapter db init`, which adds what is missing "
        f"and keeps every row --db {db_url}"
    ])  # fmt: skip
    init_db(db_url)  # the upgrade it names
    engine = connect(db_url)
    try:
        from adapter.stores.schema_check import schema_problem

        with engine.connect() as conn:
            assert schema_problem(conn) is None
    finally:
        engine.dispose()
