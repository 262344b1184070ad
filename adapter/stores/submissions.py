"""The API's writes: each submission one load run, several submissions one transaction.

`load_records` (adapter/stores/load.py) is the CLI's load: chunks that commit alone, a run
row committed before them. A submission (one posted Bundle's records, deletes and rejects)
is smaller and answered at once, so its write is folded into as few round trips and commits
as its semantics allow:

- `write_submissions(engine, jobs)`: one transaction for several submissions, with the
  statements of all of them merged, so a batch costs about what one submission costs. Before
  the record store lock: the concept prefetch, the committed state and the mapping of what
  looks new or changed, for all jobs at once, then the run rows (one INSERT). Under the lock:
  the stored state as it is now, each job's decisions on it (its own run, report and
  outcomes), then one write for all of them (adapter/stores/load_write.py `write_chunk`: ids,
  every table's rows in one batch), the runs' ends and the receipts (`settle`), CDM_SOURCE
  when the versions it states change. One commit, one fsync for all of them. Jobs that name
  the same record are decided in turn (a job meets the state the jobs before it wrote).
- If any of that fails, the transaction is rolled back and each job is written again in a
  transaction of its own, so one bad submission fails alone and the others commit (a
  submission alone in its transaction is all-or-nothing: a transaction Bundle). A failure of
  the database itself (unreachable, busy past its timeout, connection lost) fails every job at
  once instead (`_TRANSIENT`).
- `GroupWriter`: group commit. Request threads hand their submission to one writer thread
  and wait; the writer takes every submission queued while the previous transaction ran
  (up to `max_batch`) and writes them with `write_submissions`. Under load, a commit and a
  lock acquisition serve many Bundles; alone, a submission is written at once.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from adapter.mds.rules import RuleConfig
from adapter.stores.audit import AuditEntry, audits_statement
from adapter.stores.bulk import dialect_of, run_many
from adapter.stores.concepts import DbResolver
from adapter.stores.incoming import Incoming
from adapter.stores.load import (
    _by_key,
    _committed_state,
    _decide,
    _details,
    _Early,
    _known_statement,
    _map_needed,
    _maps,
    _new_run,
    _Run,
)
from adapter.stores.load_report import LoadReport
from adapter.stores.load_write import Part, write_chunk
from adapter.stores.pseudonym import Pseudonymiser
from adapter.stores.record_store import lock_statement, stored_rows
from adapter.stores.runs import (
    cdm_source_state,
    cdm_source_statement,
    finish_runs_statement,
    run_ids,
    start_runs_statement,
    write_cdm_source,
)
from adapter.stores.worklist import Collector

__all__ = ["GroupWriter", "Job", "Settle", "write_submissions"]

Settle = Callable[[LoadReport], AuditEntry | None]
"""Called once a job's outcomes are final, inside its transaction: may raise (the job fails
and nothing of it is written), returns the audit row (receipt) to write with it, or None."""


@dataclass
class Job:
    """One submission: its load items, and what becomes of it."""

    items: list[Incoming]
    source: str
    create_only: frozenset[str] = frozenset()
    settle: Settle | None = None
    report: LoadReport | None = None
    error: BaseException | None = None
    done: threading.Event = field(default_factory=threading.Event)


def write_submissions(
    engine: Engine, jobs: Sequence[Job], *, pseudonym: Pseudonymiser, terminology: Any
) -> None:
    """Write the jobs in one transaction (see the module docstring); sets report or error."""
    try:
        try:
            _write_together(engine, jobs, pseudonym, terminology)
        except Exception as exc:  # nothing was committed (unless the connection broke in COMMIT)
            if len(jobs) == 1 or isinstance(exc, _TRANSIENT):
                for job in jobs:  # the database, not a job: each alone would wait and fail too
                    job.report, job.error = None, exc
            else:
                for job in jobs:  # one at a time: the failing one fails alone
                    job.report = job.error = None
                    write_submissions(engine, [job], pseudonym=pseudonym,
                                      terminology=terminology)  # fmt: skip
    finally:
        for job in jobs:
            job.done.set()


_TRANSIENT = (OperationalError, InterfaceError, PoolTimeout, DisconnectionError)
"""Failures of the database or the connection, not of a submission: every job of the batch
gets the error at once (the API answers 503 with Retry-After). Writing each job again alone
would wait out the same busy or lost database once per job, holding the writer for all of
them, and after a connection lost in COMMIT could write the batch a second time."""


def _rounds(jobs: Sequence[Job]) -> list[list[Job]]:
    """The jobs in order, cut before one that names a record an earlier job of the round named
    (it must meet the state that job leaves)."""
    out: list[list[Job]] = [[]]
    seen: set[str] = set()
    for job in jobs:
        ids = {i.record_id for i in job.items if i.record_id is not None}
        if ids & seen:
            out.append([])
            seen = set()
        out[-1].append(job)
        seen |= ids
    return [r for r in out if r]


def _write_together(
    engine: Engine, jobs: Sequence[Job], pseudonym: Pseudonymiser, terminology: Any
) -> None:
    """The merged write (see the module docstring). Statements that do not wait for each
    other's answers travel together (adapter.stores.bulk `run_many`: one round trip each group
    on PostgreSQL): the concept prefetch with the committed-state read; the run rows, the lock,
    the CDM_SOURCE check and the state read under the lock; the runs' ends with the receipts."""
    terminology, maps, label = _maps(terminology)
    started = time.perf_counter()
    resolve, worklist = DbResolver(terminology), Collector(terminology, pseudonym)
    with engine.begin() as conn:
        dialect = dialect_of(conn)
        known = _committed_state(conn, resolve, [i for job in jobs for i in job.items])
        runs: list[tuple[Job, _Run, dict[str, _Early]]] = []
        for job in jobs:
            run = _new_run(LoadReport(0), job.source, maps, pseudonym, terminology, None,
                           RuleConfig(), job.create_only)  # fmt: skip
            run = replace(run, resolve=resolve, worklist=worklist)
            runs.append((job, run, _map_needed(run, job.items, known)))
        rounds = _rounds(jobs)
        lock = lock_statement(dialect)
        ids, *_, source, current = run_many(conn, [
            start_runs_statement(dialect, "load", [{"source": job.source} for job in jobs]),
            *([lock] if lock is not None else []),
            cdm_source_statement(dialect),
            _known_statement(dialect, [i for job in rounds[0] for i in job.items]),
        ])  # fmt: skip
        reports = [LoadReport(run_id, outcomes={}) for run_id in run_ids(ids)]
        stale, vocabulary = cdm_source_state(source, label)
        at = 0
        for number, round_ in enumerate(rounds):
            if number:
                items = [i for job in round_ for i in job.items]
                current = run_many(conn, [_known_statement(dialect, items)])[0]
            known = _by_key(stored_rows(current))
            parts: list[Part] = []
            end = at + len(round_)
            for (job, run, premapped), report in zip(runs[at:end], reports[at:end], strict=True):
                run = replace(run, run_id=report.run_id, unmapped=report.unmapped)
                parts.append(_decide(run, job.items, report, premapped, known))
            worklist.flush(conn)
            write_chunk(conn, parts)
            at = end
        seconds = time.perf_counter() - started
        receipts: list[AuditEntry] = []
        for (job, _, _), report in zip(runs, reports, strict=True):
            report.seconds = seconds
            if job.settle is not None and (entry := job.settle(report)) is not None:
                receipts.append(entry)
        run_many(conn, [
            finish_runs_statement(dialect, [(r.run_id, _details(job.source, maps, label,
                                                                vocabulary, r))
                                            for job, r in zip(jobs, reports, strict=True)]),
            *([audits_statement(dialect, receipts)] if receipts else []),
        ])  # fmt: skip
        if stale:
            write_cdm_source(conn, reports[-1].run_id, label, reports[-1].counts(), vocabulary)
    for job, report in zip(jobs, reports, strict=True):
        job.report = report


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
        settle: Settle | None = None,
    ) -> LoadReport:
        """Write one submission with whatever else is queued; raises what its write raised."""
        job = Job(items, source, frozenset(create_only), settle)
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
