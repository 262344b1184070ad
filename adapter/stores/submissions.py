"""The API's writes: each submission one load run, several submissions one transaction.

`load_records` (adapter/stores/load.py) is the CLI's load: chunks that commit alone, a run
row committed before them. A submission (one posted Bundle's records, deletes and rejects)
is smaller and answered at once, so its write is folded into as few round trips and commits
as its semantics allow:

- `write_submissions(engine, jobs)`: one transaction for several submissions. Per
  submission, before the record store lock: its run row, the concept prefetch and the
  mapping of what looks new or changed (adapter.stores.load `_premap`). Then the lock, and
  per submission in its own SAVEPOINT (none for a submission alone in its transaction): its
  decisions on the stored state as it is now (the submissions before it in the same
  transaction included), ids, rows, the run's end and what `before_commit` adds (the
  receipt). A submission that fails is rolled back to its savepoint (alone: the whole
  transaction) and gets its error; the others commit. CDM_SOURCE is written once, under the
  lock, when the versions it states change. One commit, one fsync for all of them.
- `GroupWriter`: group commit. Request threads hand their submission to one writer thread
  and wait; the writer takes every submission queued while the previous transaction ran
  (up to `max_batch`) and writes them with `write_submissions`. Under load, a commit and a
  lock acquisition serve many Bundles; alone, a submission is written at once.

A transaction Bundle stays all-or-nothing: it is one submission, so one savepoint.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection, Engine

from adapter.mds.rules import RuleConfig
from adapter.stores.incoming import Incoming
from adapter.stores.load import _details, _Early, _locked_chunk, _maps, _new_run, _premap, _Run
from adapter.stores.load_report import LoadReport
from adapter.stores.pseudonym import Pseudonymiser
from adapter.stores.record_store import lock
from adapter.stores.runs import cdm_source_stale, finish_run, start_run, write_cdm_source

__all__ = ["GroupWriter", "Job", "write_submissions"]


@dataclass
class Job:
    """One submission: its load items, and what becomes of it."""

    items: list[Incoming]
    source: str
    create_only: frozenset[str] = frozenset()
    before_commit: Callable[[Connection, LoadReport], None] | None = None
    report: LoadReport | None = None
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)


def write_submissions(
    engine: Engine, jobs: Sequence[Job], *, pseudonym: Pseudonymiser, terminology: Any
) -> None:
    """Write the jobs in one transaction (see the module docstring); sets report or error."""
    terminology, maps, label = _maps(terminology)
    started = time.perf_counter()
    try:
        with engine.begin() as conn:
            ready: list[tuple[Job, _Run, LoadReport, dict[str, _Early]]] = []
            for job in jobs:
                report = LoadReport(start_run(conn, "load", {"source": job.source}), outcomes={})
                run = _new_run(report, job.source, maps, pseudonym, terminology, None,
                               RuleConfig(), job.create_only)  # fmt: skip
                try:
                    ready.append((job, run, report, _premap(conn, run, job.items)))
                except Exception as exc:  # a bug in one mapping: that job's 500
                    job.error = exc
            lock(conn)
            stale, vocabulary = cdm_source_stale(conn, label)
            last: LoadReport | None = None
            for job, run, report, premapped in ready:
                alone = len(ready) == 1  # no savepoint (two round trips) for one submission
                try:
                    with contextlib.nullcontext() if alone else conn.begin_nested():
                        _locked_chunk(conn, run, job.items, report, premapped, locked=True)
                        report.seconds = time.perf_counter() - started
                        details = _details(job.source, maps, label, vocabulary, report)
                        finish_run(conn, report.run_id, details)
                        if job.before_commit is not None:
                            job.before_commit(conn, report)
                    job.report = last = report
                except Exception as exc:  # rolled back to its savepoint alone
                    job.error = exc
                    if alone:
                        raise  # the whole transaction is this submission's: roll it back
            if stale and last is not None:
                write_cdm_source(conn, last.run_id, label, last.counts(), vocabulary)
    except Exception as exc:  # the commit or the connection failed: all of them
        for job in jobs:
            job.report, job.error = None, job.error or exc
    finally:
        for job in jobs:
            job.done.set()


class GroupWriter:
    """One writer thread per engine for concurrent submissions (see the module docstring).

    The thread starts on the first submission and ends after `idle` seconds without one, so
    an app that is not writing holds no thread."""

    def __init__(
        self,
        engine: Engine,
        *,
        pseudonym: Pseudonymiser,
        terminology: Any,
        max_batch: int = 32,
        idle: float = 5.0,
    ) -> None:
        self._engine = engine
        self._pseudonym = pseudonym
        self._terminology = terminology
        self._max_batch = max_batch
        self._idle = idle
        self._queue: queue.Queue[Job] = queue.Queue()
        self._guard = threading.Lock()
        self._thread: threading.Thread | None = None

    def submit(
        self,
        items: list[Incoming],
        *,
        source: str,
        create_only: Iterable[str] = (),
        before_commit: Callable[[Connection, LoadReport], None] | None = None,
    ) -> LoadReport:
        """Write one submission with whatever else is queued; raises what its write raised."""
        job = Job(items, source, frozenset(create_only), before_commit)
        with self._guard:
            self._queue.put(job)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="mds-writer", daemon=True)
                self._thread.start()
        job.done.wait()
        if job.error is not None:
            raise job.error
        assert job.report is not None
        return job.report

    def _run(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=self._idle)
            except queue.Empty:
                with self._guard:
                    if self._queue.empty():
                        self._thread = None
                        return
                continue
            batch = [first]
            while len(batch) < self._max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            write_submissions(self._engine, batch, pseudonym=self._pseudonym,
                              terminology=self._terminology)  # fmt: skip
