"""Daily statistics and completeness of the core MDS elements, for registry coordinators.

What the counts count (docs/api.md says the same):

- a day is the UTC date a run started (adapter `runs`); a FHIR batch and a load are each a run;
- accepted: stored records (institution + record id, not deleted) whose current version was
  written by a run of that day. An unchanged re-submission writes nothing and is not counted
  again; a record changed later counts on the day of its latest version;
- rejected: quarantine items created by a run of that day, one per distinct rejected input (a
  record's FHIR entries, or a load line); re-processing one later does not un-count it;
- received: accepted + rejected.

Completeness is over the stored records (not deleted) per institution: an element is present
when the record's canonical JSON has it with a value (not null, not an empty list). The core
elements are those with level `core` in terminology/mds-dictionary.tsv. A record or item with
no institution is reported under institution null.

The queries read the store; `daily`, `completeness` and `missing` are pure over their rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapter.mds.dictionary import elements
from adapter.omop.schema import qualified_name
from adapter.stores.bulk import dialect_of
from adapter.stores.record_store import adapter_name

__all__ = [
    "DayCounts",
    "completeness",
    "core_elements",
    "daily",
    "missing",
    "missing_core",
    "read_daily_rows",
    "stored_records",
]

DayCounts = tuple[int, str | None, int]
"""(run_id, institution, count): accepted records or rejected items of one run."""


def core_elements() -> tuple[str, ...]:
    return tuple(e.name for e in elements() if e.level == "core")


def _day(value: Any) -> date:
    """The UTC date of a run's start (timestamptz on PostgreSQL, ISO text on SQLite)."""
    when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return (when if when.tzinfo is None else when.astimezone(UTC)).date()


def read_daily_rows(
    conn: Connection,
) -> tuple[dict[int, date], list[DayCounts], list[DayCounts]]:
    """Run → day, accepted records per run and institution, rejected items likewise."""
    dialect = dialect_of(conn)
    runs = qualified_name("runs", "adapter", dialect)
    days = {int(r[0]): _day(r[1]) for r in conn.execute(
        sa.text(f"SELECT run_id, started_at FROM {runs}"))}  # fmt: skip
    accepted = [(int(r[0]), r[1], int(r[2])) for r in conn.execute(sa.text(
        f"SELECT run_id, institution, count(*) FROM {adapter_name('records', dialect)} "
        "WHERE NOT deleted GROUP BY run_id, institution"))]  # fmt: skip
    rejected = [(int(r[0]), r[1], int(r[2])) for r in conn.execute(sa.text(
        f"SELECT run_id, institution, count(*) FROM {adapter_name('quarantine', dialect)} "
        "GROUP BY run_id, institution"))]  # fmt: skip
    return days, accepted, rejected


def daily(
    days: Mapping[int, date],
    accepted: Iterable[DayCounts],
    rejected: Iterable[DayCounts],
    *,
    start: date | None = None,
    end: date | None = None,
    institution: str | None = None,
) -> list[dict[str, Any]]:
    """Per day (from `start` to `end`, both included) and institution, oldest day first."""
    counts: dict[tuple[date, str | None], Counter[str]] = {}
    for kind, rows in (("accepted", accepted), ("rejected", rejected)):
        for run_id, inst, n in rows:
            day = days.get(run_id)
            if day is None or (start and day < start) or (end and day > end):
                continue
            if institution is not None and inst != institution:
                continue
            counts.setdefault((day, inst or None), Counter())[kind] += n
    return [
        {"day": day.isoformat(), "institution": inst, "received": c["accepted"] + c["rejected"],
         "accepted": c["accepted"], "rejected": c["rejected"]}
        for (day, inst), c in sorted(counts.items(), key=lambda x: (x[0][0], x[0][1] or ""))
    ]  # fmt: skip


def stored_records(
    conn: Connection, institution: str | None = None
) -> Generator[tuple[str, str, dict[str, Any]], None, None]:
    """(institution, record_id, record JSON) of every live record, in a stable order.

    Close the iterator (contextlib.closing) when stopping early: it holds an open cursor."""
    sql = (f"SELECT institution, record_id, record_json FROM "
           f"{adapter_name('records', dialect_of(conn))} WHERE NOT deleted")  # fmt: skip
    params: dict[str, Any] = {}
    if institution is not None:
        sql += " AND institution = :institution"
        params["institution"] = institution
    query = sa.text(sql + " ORDER BY institution, record_id")
    with conn.execution_options(stream_results=True).execute(query, params) as result:
        for row in result:  # streamed (a server-side cursor on PostgreSQL): constant memory
            yield str(row[0]), str(row[1]), orjson.loads(row[2])


def _present(value: Any) -> bool:
    return value is not None and value != [] and value != ""


def missing_core(record: Mapping[str, Any], core: Sequence[str]) -> list[str]:
    """The core elements this record (its JSON) lacks, in dictionary order."""
    return [name for name in core if not _present(record.get(name))]


def completeness(
    records: Iterable[tuple[str, str, Mapping[str, Any]]], core: Sequence[str]
) -> list[dict[str, Any]]:
    """Per institution: each core element's present count, the total and the fraction."""
    totals: Counter[str] = Counter()
    present: dict[str, Counter[str]] = {}
    for inst, _, record in records:  # "" is how the store keeps "no institution"
        totals[inst] += 1
        have = present.setdefault(inst, Counter())
        for name in core:
            have[name] += _present(record.get(name))
    return [
        {"institution": inst or None, "records": totals[inst], "elements": [
            {"element": name, "present": present[inst][name], "total": totals[inst],
             "fraction": round(present[inst][name] / totals[inst], 4)} for name in core]}
        for inst in sorted(totals)
    ]  # fmt: skip


def missing(
    records: Iterable[tuple[str, str, Mapping[str, Any]]], core: Sequence[str]
) -> Iterator[dict[str, Any]]:
    """The records lacking at least one core element, with which ones."""
    for inst, record_id, record in records:
        lacking = missing_core(record, core)
        if lacking:
            yield {"record_id": record_id, "institution": inst or None, "missing": lacking}
