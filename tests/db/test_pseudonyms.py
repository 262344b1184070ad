"""Pseudonyms: HMAC-SHA256 keyed from configuration, no clear identifier anywhere in cdm."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest

from adapter.errors import ConfigurationError
from adapter.omop.schema import Dialect, qualified_name, tables
from adapter.stores.omop_db import init_db
from adapter.stores.pseudonym import Pseudonymiser, PseudonymSettings, pseudonymiser_from_settings
from tests.db.helpers import dialect_of, rows
from tests.db.loading import KEY, count, fake_load, projected, write_lines


def test_pseudonym_is_truncated_hmac_sha256() -> None:
    p = Pseudonymiser(KEY)
    expected = hmac.new(KEY.encode(), b"OSL-000123", hashlib.sha256).hexdigest()[:40]
    assert p("OSL-000123") == expected
    assert p("OSL-000123") != Pseudonymiser(KEY + "x")("OSL-000123")
    assert KEY not in repr(p) and len(p.fingerprint) == 16


def test_missing_or_short_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MDS_ADAPTER_PSEUDONYM_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="MDS_ADAPTER_PSEUDONYM_KEY is not set"):
        pseudonymiser_from_settings()
    monkeypatch.setenv("MDS_ADAPTER_PSEUDONYM_KEY", "short")
    with pytest.raises(ConfigurationError, match="too short"):
        pseudonymiser_from_settings()
    monkeypatch.setenv("MDS_ADAPTER_PSEUDONYM_KEY", KEY)
    assert pseudonymiser_from_settings()("a") == Pseudonymiser(KEY)("a")
    assert "test-key" not in repr(PseudonymSettings())


def text_values(url: str) -> list[str]:
    """Every non-null value of every text column of every cdm table."""
    dialect: Dialect = "postgresql" if dialect_of(url) == "postgresql" else "sqlite"
    found: list[str] = []
    for t in tables(dialect):
        if t.part != "cdm":
            continue
        text = [c.sql for c in t.columns if c.type.lower().startswith(("varchar", "text"))]
        if text:
            name = qualified_name(t.name, "cdm", dialect)
            for row in rows(url, f"SELECT {', '.join(text)} FROM {name}"):
                found += [str(v) for v in row if v is not None]
    return found


def test_cdm_holds_no_record_id_or_institution(db_url: str, tmp_path: Path) -> None:
    init_db(db_url)
    records = projected(40)
    fake_load(db_url, write_lines(tmp_path / "in.jsonl", records))
    values = text_values(db_url)
    assert len(values) > 40
    secrets = {r.record_id for r in records} | {r.institution for r in records if r.institution}
    assert len(secrets) > 40
    assert [(v, s) for v in values for s in secrets if s in v] == []
    p = Pseudonymiser(KEY)
    person = qualified_name("person", "cdm", "postgresql" if "postgresql" in db_url else "sqlite")
    stored = {r[0] for r in rows(db_url, f"SELECT person_source_value FROM {person}")}
    assert stored == {p(r.record_id) for r in records}
    # The key itself is nowhere in the database either (adapter part included).
    assert KEY not in str(rows(db_url, f"SELECT * FROM {person}"))


def test_another_key_remaps_every_record(db_url: str, tmp_path: Path) -> None:
    init_db(db_url)
    path = write_lines(tmp_path / "in.jsonl", projected(12))
    fake_load(db_url, path)
    report = fake_load(db_url, path, key="another-key-0123456789")
    assert (report.updated, report.unchanged) == (12, 0)
    assert count(db_url, "person") == 12
    versions = rows(db_url, "SELECT DISTINCT version FROM "
                    + qualified_name("records", "adapter", "postgresql"
                                     if "postgresql" in db_url else "sqlite"))  # fmt: skip
    assert versions == [(1,)]  # the records did not change, only how they map
