"""A load that is stopped says so in its run (issue 16 item 6): Ctrl-C or SIGTERM mark it
"interrupted" with what it had committed; a run whose process was killed is marked "stale" by
the next load on the same host. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from adapter.stores.omop_db import init_db
from tests.db.helpers import dialect_of, rows
from tests.db.loading import KEY, count, fake_load, projected, write_lines

ROOT = Path(__file__).resolve().parents[2]
N = 40  # 6 chunks of 7 with fake_load's default
KILLED = """
import os, signal, sys
from pathlib import Path
from tests.db.loading import fake_load
fake_load(sys.argv[1], Path(sys.argv[2]),
          on_chunk=lambda k, report: os.kill(os.getpid(), signal.SIGKILL) if k == 2 else None)
"""
TERMINATED = """
import os, signal, sys
import adapter.stores.load_write as load_write
from adapter.cli import app
real = load_write.insert_tables
def insert_tables(conn, batches):  # SIGTERM while the second chunk writes
    insert_tables.calls += 1
    if insert_tables.calls == 2:
        os.kill(os.getpid(), signal.SIGTERM)
    return real(conn, batches)
insert_tables.calls = 0
load_write.insert_tables = insert_tables
app(["load", sys.argv[2], "--db", sys.argv[1], "--chunk-size", "10"])
"""


def _runs(url: str) -> list[tuple[int, str, dict[str, Any]]]:
    name = "adapter.runs" if dialect_of(url) == "postgresql" else "adapter_runs"
    found = rows(url, f"SELECT run_id, command, details FROM {name} ORDER BY run_id")
    return [(int(r[0]), r[1], json.loads(r[2])) for r in found]


def test_ctrl_c_marks_the_run_interrupted_with_what_it_committed(
    db_url: str, tmp_path: Path
) -> None:
    init_db(db_url)
    path = write_lines(tmp_path / "in.jsonl", projected(N))

    def stop(k: int, _report: object) -> None:
        if k == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fake_load(db_url, path, on_chunk=stop)
    [(_, command, details)] = _runs(db_url)
    assert (command, details["status"], details["stopped_by"]) == (
        "load", "interrupted", "KeyboardInterrupt")  # fmt: skip
    assert details["counts"]["loaded"] == count(db_url, "person") == 21  # three chunks of 7
    assert fake_load(db_url, path).counts()["loaded"] == N - 21  # a re-run finishes


def test_a_killed_load_is_marked_stale_by_the_next(db_url: str, tmp_path: Path) -> None:
    init_db(db_url)
    path = write_lines(tmp_path / "in.jsonl", projected(N))
    child = subprocess.run([sys.executable, "-c", KILLED, db_url, str(path)], cwd=ROOT,
                           capture_output=True, timeout=120, check=False)  # fmt: skip
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()
    [(killed, _, details)] = _runs(db_url)
    assert details["status"] == "running" and details["pid"] != os.getpid()
    fake_load(db_url, path)
    statuses = {run_id: d["status"] for run_id, _, d in _runs(db_url)}
    assert statuses[killed] == "stale"
    assert sorted(statuses.values()) == ["finished", "stale"]


def test_sigterm_stops_the_cli_load_with_one_line(db_url: str, tmp_path: Path) -> None:
    init_db(db_url)
    path = write_lines(tmp_path / "in.jsonl", projected(N))
    env = {**os.environ, "MDS_ADAPTER_PSEUDONYM_KEY": KEY}
    child = subprocess.run([sys.executable, "-c", TERMINATED, db_url, str(path)], cwd=ROOT,
                           env=env, capture_output=True, timeout=120, check=False)  # fmt: skip
    stderr = child.stderr.decode()
    assert child.returncode == 128 + signal.SIGTERM, stderr
    assert "load interrupted: the chunks committed so far are kept" in stderr
    assert "Traceback" not in stderr
    [(_, _, details)] = _runs(db_url)
    assert (details["status"], details["stopped_by"]) == ("interrupted", "SystemExit")
