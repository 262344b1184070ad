"""Group commit (adapter/stores/submissions.py): several submissions, one transaction, each in
its own savepoint; on both databases, with the real mapping and the bundled vocabulary."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import sqlalchemy as sa

from adapter.mds.synth import generate
from adapter.sources.jsonl import dumps
from adapter.stores.bulk import run_many
from adapter.stores.incoming import Incoming
from adapter.stores.load_report import LoadReport
from adapter.stores.omop_db import bundled_vocabulary, connect, init_db, load_vocabulary
from adapter.stores.pseudonym import Pseudonymiser
from adapter.stores.submissions import GroupWriter, Job, write_submissions
from adapter.terminology import Terminology
from tests.db.helpers import rows
from tests.db.loading import KEY, count


@pytest.fixture(scope="module")
def terminology() -> Terminology:
    return Terminology.load()


@pytest.fixture
def url(db_url: str) -> str:
    init_db(db_url)
    load_vocabulary(db_url, bundled_vocabulary())
    return db_url


def _records(n: int) -> list[Any]:
    """Synthetic records the API would accept (no labelled defect)."""
    return [r for r, defects in generate(3 * n, 11) if not defects][:n]


def _job(record: Any, before: Any = None) -> Job:
    return Job([Incoming("Bundle.entry[0]", dumps(record), record)], "api:test",
               settle=before)  # fmt: skip


def _stored(url: str) -> list[str]:
    q = "adapter.records" if url.startswith("postgresql") else "adapter_records"
    return [r[0] for r in rows(url, f"SELECT record_id FROM {q} ORDER BY record_id")]


def test_a_failing_submission_is_rolled_back_alone(url: str, terminology: Terminology) -> None:
    a, b, c = _records(3)

    def refuse(report: LoadReport) -> None:
        raise RuntimeError("receipt failed")

    jobs = [_job(a), _job(b, refuse), _job(c)]
    engine = connect(url)
    try:
        write_submissions(engine, jobs, pseudonym=Pseudonymiser(KEY), terminology=terminology)
    finally:
        engine.dispose()
    assert [j.error is None for j in jobs] == [True, False, True]
    assert str(jobs[1].error) == "receipt failed"
    assert jobs[0].report is not None and jobs[2].report is not None
    assert (jobs[0].report.outcomes or {})["Bundle.entry[0]"].outcome == "created"
    assert _stored(url) == sorted([a.record_id, c.record_id])
    assert count(url, "person") == 2
    assert count(url, "cdm_source") == 1
    # ids of the rolled-back submission are given back: c got the ids after a's
    persons = [
        r[0]
        for r in rows(
            url,
            "SELECT person_id FROM "
            + ("cdm.person" if url.startswith("postgresql") else "person")
            + " ORDER BY person_id",
        )
    ]
    assert persons == [1, 2]


def test_the_same_record_twice_in_one_batch_is_created_once(
    url: str, terminology: Terminology
) -> None:
    (a,) = _records(1)
    jobs = [_job(a), _job(a)]
    engine = connect(url)
    try:
        write_submissions(engine, jobs, pseudonym=Pseudonymiser(KEY), terminology=terminology)
    finally:
        engine.dispose()
    outcomes = [(j.report.outcomes or {})["Bundle.entry[0]"] for j in jobs if j.report]
    assert [(o.outcome, o.version) for o in outcomes] == [("created", 1), ("unchanged", 1)]
    assert count(url, "person") == 1


def test_concurrent_writers_each_get_their_own_outcome_and_run(
    url: str, terminology: Terminology
) -> None:
    records = _records(12)
    engine = connect(url)
    writer = GroupWriter(engine, pseudonym=Pseudonymiser(KEY), terminology=terminology)
    found: dict[str, str] = {}

    def post(record: Any) -> None:
        report = writer.submit([Incoming("Bundle.entry[0]", dumps(record), record)],
                               source="api:test")  # fmt: skip
        found[record.record_id] = (report.outcomes or {})["Bundle.entry[0]"].outcome

    threads = [threading.Thread(target=post, args=(r,)) for r in records]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        with engine.connect() as conn:
            runs = "adapter.runs" if url.startswith("postgresql") else "adapter_runs"
            finished = conn.execute(
                sa.text(f"SELECT count(*) FROM {runs} WHERE details LIKE '%finished%'")
            ).scalar_one()
    finally:
        engine.dispose()
    assert found == {r.record_id: "created" for r in records}
    assert count(url, "person") == 12
    assert finished == 12  # one run per submission, whatever the batching


def test_a_failing_submission_alone_leaves_nothing(url: str, terminology: Terminology) -> None:
    (a,) = _records(1)

    def refuse(report: LoadReport) -> None:
        raise RuntimeError("receipt failed")

    job = _job(a, refuse)
    engine = connect(url)
    try:
        write_submissions(engine, [job], pseudonym=Pseudonymiser(KEY), terminology=terminology)
    finally:
        engine.dispose()
    assert str(job.error) == "receipt failed" and job.report is None
    assert _stored(url) == []
    runs = "adapter.runs" if url.startswith("postgresql") else "adapter_runs"
    assert (
        count(url, "person"),
        rows(url, f"SELECT count(*) FROM {runs} WHERE command = 'load'"),
    ) == (0, [(0,)])


def test_a_database_failure_fails_the_batch_at_once(url: str, terminology: Terminology) -> None:
    """A failure of the database, not of one submission, is not retried job by job: each job
    alone would wait out the same busy or lost database."""
    records = _records(3)
    calls: list[str] = []

    def settle(report: LoadReport) -> None:
        calls.append("settle")
        raise sa.exc.OperationalError("COMMIT", None, Exception("server closed the connection"))

    def note(report: LoadReport) -> None:
        calls.append("note")

    jobs = [_job(records[0], note), _job(records[1], settle), _job(records[2], note)]
    engine = connect(url)
    try:
        write_submissions(engine, jobs, pseudonym=Pseudonymiser(KEY), terminology=terminology)
    finally:
        engine.dispose()
    assert calls == ["note", "settle"]  # the merged attempt only: no job was written again
    assert [type(j.error).__name__ for j in jobs] == ["OperationalError"] * 3
    assert _stored(url) == [] and count(url, "person") == 0


def test_driver_errors_of_pipelined_statements_are_sqlalchemy_errors(url: str) -> None:
    """run_many talks to psycopg directly on PostgreSQL; its errors must still be SQLAlchemy's
    (the API answers 503 for an OperationalError, and the writer tells database failures from
    a submission's by their class)."""
    engine = connect(url)
    try:
        with pytest.raises(sa.exc.DBAPIError) as caught, engine.begin() as conn:
            run_many(conn, [("SELECT 1", {}), ("SELECT * FROM no_such_table", {})])
    finally:
        engine.dispose()
    assert "no_such_table" in str(caught.value.orig)
