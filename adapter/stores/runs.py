"""The run log of a load (adapter `runs`) and the CDM's own account of itself (CDM_SOURCE).

A load run is written twice: when it starts (status "running", with its host and process id,
so records and quarantine rows can name their run) and when it ends (counts, versions, status
"finished"; "interrupted" when Ctrl-C, SIGTERM or an error stopped it after some chunks; "stale"
when the next load on the same host finds its process gone, as after kill -9). CDM_SOURCE says
which software, maps and vocabulary produced the CDM; it is rewritten only by a run that
changed the CDM, so an idle re-load changes no row.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from functools import cache
from importlib.metadata import version
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapter.omop.schema import Dialect, qualified_name
from adapter.stores.bulk import Statement, dialect_of, run_sql

_HOST = socket.gethostname()
RUNNING = '%"status": "running"%'
"""LIKE pattern of a run row still running (its details JSON is written with sort_keys)."""

__all__ = [
    "CDM_V54_CONCEPT_ID",
    "RUNNING",
    "cdm_source_stale",
    "cdm_source_state",
    "cdm_source_statement",
    "finish_run",
    "finish_runs",
    "finish_runs_statement",
    "interrupt_run",
    "mapping_fingerprint",
    "mark_stale_runs",
    "run_ids",
    "software_version",
    "start_run",
    "start_runs",
    "start_runs_statement",
    "vocabulary_version",
    "write_cdm_source",
]

CDM_V54_CONCEPT_ID = 756265
"""The OMOP concept for "OMOP CDM Version 5.4" (CDM_SOURCE.cdm_version_concept_id)."""


@cache
def software_version() -> str:
    """The installed package's version, read once per process: importlib.metadata parses the
    package's METADATA file on each call (~1 ms), and the API asked four times per bundle."""
    return version("mds-adapter")


def mapping_fingerprint(maps: Mapping[str, str], key_fingerprint: str) -> str:
    """What decides how a record maps, besides the record: software, map versions, key.

    Stored with each record; when it changes, an unchanged record is mapped again instead of
    taking the fast path, so the CDM never mixes two mappings or two pseudonym keys.
    """
    basis = {"software": software_version(), "maps": dict(maps), "key": key_fingerprint}
    return hashlib.sha256(orjson.dumps(basis, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


def _runs(conn: Connection) -> str:
    return qualified_name("runs", "adapter", dialect_of(conn))


def start_run(conn: Connection, command: str, details: Mapping[str, Any]) -> int:
    """Insert the run row (status running) and return its id; commit it at once."""
    return start_runs(conn, command, [details])[0]


def start_runs(conn: Connection, command: str, details: Sequence[Mapping[str, Any]]) -> list[int]:
    """`start_run` for several runs in one statement; their ids in the order of `details`."""
    if not details:
        return []
    return run_ids(run_sql(conn, *start_runs_statement(dialect_of(conn), command, details)))


def start_runs_statement(
    dialect: Dialect, command: str, details: Sequence[Mapping[str, Any]]
) -> Statement:
    """`start_runs` as a statement; `run_ids` reads its rows."""
    now = datetime.now(UTC).isoformat()
    values = ", ".join(f"(:command, :now, :now, :version, :d{i})" for i in range(len(details)))
    params: dict[str, Any] = {"command": command, "now": now, "version": software_version()}
    me = {"status": "running", "host": _HOST, "pid": os.getpid()}
    for i, d in enumerate(details):
        params[f"d{i}"] = json.dumps({**d, **me}, sort_keys=True)
    return (
        f"INSERT INTO {qualified_name('runs', 'adapter', dialect)} "
        f"(command, started_at, finished_at, software_version, details) VALUES {values} "
        "RETURNING run_id",
        params,
    )


def run_ids(rows: Iterable[Sequence[Any]]) -> list[int]:
    """The new runs' ids in the order they were listed: they come from one sequence in row
    order, so sorting restores it (RETURNING itself promises no order)."""
    return sorted(int(r[0]) for r in rows)


def finish_run(conn: Connection, run_id: int, details: Mapping[str, Any]) -> None:
    finish_runs(conn, [(run_id, details)])


def finish_runs(conn: Connection, runs: Sequence[tuple[int, Mapping[str, Any]]]) -> None:
    """Mark runs finished with their final details (one executemany)."""
    if runs:
        run_sql(conn, *finish_runs_statement(dialect_of(conn), runs))


def interrupt_run(conn: Connection, run_id: int, details: Mapping[str, Any]) -> None:
    """Mark a run interrupted (Ctrl-C, SIGTERM, an error) with what it had done by then: the
    chunks it committed stay, the record store says which records it wrote."""
    run_sql(conn, *finish_runs_statement(dialect_of(conn), [(run_id, details)], "interrupted"))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists (another user's), or cannot tell: not ours to call stale
    return True


def mark_stale_runs(conn: Connection) -> list[int]:
    """Runs still "running" whose process on this host is gone (kill -9, a crash, a lost
    machine's power): marked "stale", so the run list stops showing them as in progress. A run
    of another host, or of a live process, is left as it is. Returns their ids."""
    name = qualified_name("runs", "adapter", dialect_of(conn))
    rows = conn.execute(sa.text(f"SELECT run_id, details FROM {name} WHERE details LIKE :running"),
                        {"running": RUNNING}).all()  # fmt: skip
    stale: list[tuple[int, Mapping[str, Any]]] = []
    for run_id, text in rows:
        details = json.loads(text or "{}")
        pid = details.get("pid")
        if details.get("host") == _HOST and isinstance(pid, int) and not _alive(pid):
            stale.append((int(run_id), details))
    if stale:
        run_sql(conn, *finish_runs_statement(dialect_of(conn), stale, "stale"))
    return [run_id for run_id, _ in stale]


def finish_runs_statement(
    dialect: Dialect, runs: Sequence[tuple[int, Mapping[str, Any]]], status: str = "finished"
) -> Statement:
    now = datetime.now(UTC).isoformat()
    return (
        f"UPDATE {qualified_name('runs', 'adapter', dialect)} SET finished_at = :now, "
        "details = :details WHERE run_id = :run_id",
        [
            {
                "run_id": run_id,
                "now": now,
                "details": json.dumps({**details, "status": status}, sort_keys=True),
            }
            for run_id, details in runs
        ],
    )


def vocabulary_version(conn: Connection) -> str:
    """Athena's release string (the `None` vocabulary row), or "unknown" without one."""
    name = qualified_name("vocabulary", "vocab", dialect_of(conn))
    found = conn.execute(
        sa.text(f"SELECT vocabulary_version FROM {name} WHERE vocabulary_id = 'None'")
    ).scalar()
    return "unknown" if found is None else str(found)[:20]


def cdm_source_stale(conn: Connection, maps: str) -> tuple[bool, str]:
    """Whether CDM_SOURCE is missing or states other versions than the software, `maps` and
    the vocabulary now have (one query, for the API's one-transaction writes), and that
    vocabulary version."""
    rows = list(run_sql(conn, *cdm_source_statement(dialect_of(conn))))
    return cdm_source_state(rows, maps)


def cdm_source_statement(dialect: Dialect) -> Statement:
    """`cdm_source_stale` as a statement; `cdm_source_state` reads its rows."""
    vocabulary = qualified_name("vocabulary", "vocab", dialect)
    source = qualified_name("cdm_source", "cdm", dialect)
    return (
        f"SELECT (SELECT vocabulary_version FROM {vocabulary} WHERE vocabulary_id = 'None'), "
        f"(SELECT count(*) FROM {source}), (SELECT min(cdm_etl_reference) FROM {source}), "
        f"(SELECT min(vocabulary_version) FROM {source})",
        {},
    )


def cdm_source_state(rows: Sequence[Sequence[Any]], maps: str) -> tuple[bool, str]:
    found = rows[0]
    now = "unknown" if found[0] is None else str(found[0])[:20]
    stated = (int(found[1]), found[2], found[3])
    return stated != (1, _etl(maps), now), now


def _etl(maps: str) -> str:
    return f"mds-adapter {software_version()}; maps {maps}"


def write_cdm_source(
    conn: Connection,
    run_id: int,
    maps: str,
    counts: Mapping[str, int],
    vocabulary: str | None = None,
) -> None:
    """Replace the single CDM_SOURCE row with what produced the CDM now.

    Holds no institution name or record id: the CDM stays free of clear identifiers, and the
    holder is the registry, not one contributing site.
    """
    dialect = dialect_of(conn)
    name = qualified_name("cdm_source", "cdm", dialect)
    summary = ", ".join(f"{k} {v}" for k, v in counts.items())
    today = date.today()
    values: dict[str, Any] = {
        "name": "Sarcoma Minimal Data Set registry",
        "abbreviation": "MDS",
        "holder": "MDS registry (mds-adapter)",
        "description": f"MDS records converted by mds-adapter; last load run {run_id}: {summary}",
        "etl": _etl(maps),
        "release": today if dialect == "postgresql" else today.isoformat(),
        "cdm_version": "v5.4",
        "concept": CDM_V54_CONCEPT_ID,
        "vocabulary": vocabulary or vocabulary_version(conn),
    }
    conn.execute(sa.text(f"DELETE FROM {name}"))
    conn.execute(
        sa.text(
            f"INSERT INTO {name} (cdm_source_name, cdm_source_abbreviation, cdm_holder, "
            "source_description, cdm_etl_reference, source_release_date, cdm_release_date, "
            "cdm_version, cdm_version_concept_id, vocabulary_version) VALUES (:name, "
            ":abbreviation, :holder, :description, :etl, :release, :release, :cdm_version, "
            ":concept, :vocabulary)"
        ),
        values,
    )
