"""A load killed with SIGKILL at any point, then run again, ends in the same database as an
uninterrupted load: whole chunks commit or vanish, and ids are allocated in the same order.

The load runs in a child process that kills itself (a) right after chunk k commits and (b) in
the middle of a chunk, between two bulk inserts of the same transaction. The re-run's database
is compared, table by table and row by row, with a clean load's (run ids aside, tests/db/
loading.VOLATILE).
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapter.stores.omop_db import init_db
from tests.db.conftest import new_postgres_database
from tests.db.helpers import dialect_of
from tests.db.loading import count, dump, fake_load, projected, write_lines

ROOT = Path(__file__).resolve().parents[2]
N = 60  # 9 chunks of 7 lines with the fake_load defaults
CHILD = """
import os, signal, sys
from pathlib import Path
import adapter.stores.load_write as load_write
from tests.db.loading import fake_load

url, path, mode, n = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])

def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)

if mode == "between":
    fake_load(url, path, on_chunk=lambda k, report: die() if k == n else None)
else:
    real, calls = load_write.insert_tables, [0]
    def insert_tables(conn, batches):  # the chunk's tables one by one, dying before the n-th
        counts = []
        for batch in batches:
            calls[0] += 1
            if calls[0] == n:
                die()
            counts += real(conn, [batch])
        return counts
    load_write.insert_tables = insert_tables
    fake_load(url, path)
"""


@pytest.fixture
def clean_url(db_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A second empty database of the same kind, for the uninterrupted load."""
    if dialect_of(db_url) == "sqlite":
        yield f"sqlite:///{tmp_path / 'clean.sqlite'}"
        return
    with new_postgres_database(request.getfixturevalue("postgres_server")) as url:
        yield url


@pytest.fixture
def input_file(tmp_path: Path) -> Path:
    records = projected(N)
    lines: list[object] = [*records[:20], b"[1, 2]", *records[20:],
                           {"record_id": records[5].record_id, "_deleted": True}]  # fmt: skip
    return write_lines(tmp_path / "in.jsonl", lines)  # type: ignore[arg-type]


@pytest.mark.parametrize(("mode", "n"), [("between", 3), ("inside", 9)])
def test_killed_load_resumes_to_the_same_database(
    db_url: str, clean_url: str, input_file: Path, mode: str, n: int
) -> None:
    init_db(clean_url)
    fake_load(clean_url, input_file)
    expected = dump(clean_url)
    init_db(db_url)
    child = subprocess.run(
        [sys.executable, "-c", CHILD, db_url, str(input_file), mode, str(n)],
        cwd=ROOT, capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()
    loaded = count(db_url, "person")
    assert 0 < loaded < N - 1  # killed part-way: some chunks in, not all
    assert dump(db_url) != expected
    report = fake_load(db_url, input_file)
    assert report.unchanged == loaded
    assert dump(db_url) == expected
