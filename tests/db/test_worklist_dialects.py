"""The worklist flush has two implementations: SQLite's (insert the record rows, read the codes,
insert or update them in Python) and PostgreSQL's single statement (adapter/stores/worklist.py
`_flush_postgresql`). The same load must leave the same worklist in both: counts, first and
last versions, and the examples in the same order, capped at MAX_EXAMPLES across flushes."""

from __future__ import annotations

import io
from pathlib import Path

from adapter.mds.synth import generate
from adapter.sources.jsonl import dumps
from adapter.stores.incoming import read_incoming
from adapter.stores.load import load_records
from adapter.stores.omop_db import connect, init_db
from adapter.stores.pseudonym import Pseudonymiser
from adapter.stores.worklist import MAX_EXAMPLES, read_worklist
from adapter.terminology import Terminology
from adapter.terminology.usagi import WorklistEntry
from tests.db.loading import KEY


def _worklist(url: str, data: bytes, terminology: Terminology) -> list[WorklistEntry]:
    init_db(url)
    for _ in range(2):  # the second load of the same file must count nothing twice
        load_records(url, read_incoming(io.BytesIO(data)), pseudonym=Pseudonymiser(KEY),
                     source="in.jsonl", terminology=terminology, rules=None,
                     chunk_size=7)  # fmt: skip
    engine = connect(url)
    try:
        with engine.connect() as conn:
            return read_worklist(conn)
    finally:
        engine.dispose()


def test_postgresql_flush_leaves_the_sqlite_worklist(
    postgres_database: str, tmp_path: Path
) -> None:
    terminology = Terminology.load()
    data = b"".join(dumps(r) + b"\n" for r, _ in generate(60, 5))
    on_sqlite = _worklist(f"sqlite:///{tmp_path / 'omop.sqlite'}", data, terminology)
    on_postgresql = _worklist(postgres_database, data, terminology)

    def comparable(entries: list[WorklistEntry]) -> list[tuple[object, ...]]:
        # first/last seen are the flush times of each run: equal in kind, not in value
        return sorted((e.system, e.code, e.element, e.map, e.map_version, e.count, e.examples)
                      for e in entries)  # fmt: skip

    assert comparable(on_postgresql) == comparable(on_sqlite)
    # the load crosses chunks: some code was met in several flushes, more often than shown
    assert any(e.count > MAX_EXAMPLES and len(e.examples) == MAX_EXAMPLES for e in on_sqlite)
