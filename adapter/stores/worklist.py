"""The unmapped-code worklist in the adapter part: what the maps miss, counted as data flows.

The loader hands every record it maps, with `to_omop`'s findings, to a `Collector`
(`collector.note(...)`), and the chunk's transaction writes what it gathered
(`collector.flush(conn)`), so an interrupted load counts exactly what it committed.

    unmapped_codes        (source_system, source_code) → element, map, map_version (the version
                          that left the gap, at the last sighting), record_count, first_seen,
                          last_seen, examples (up to 5 record pseudonyms, space-separated)
    unmapped_code_records (source_system, source_code, record) → seen: one row per record
                          pseudonym, so re-loading or re-mapping a record does not count it twice

The pseudonym is the keyed pseudonym of the record id that PERSON.person_source_value holds,
so an operator can find an example in the CDM, and the adapter part stays free of clear ids
here too. `remap` (adapter/stores/remap.py) deletes the entries a reviewed import covered.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapter.errors import Finding
from adapter.mds.record import MdsRecord
from adapter.omop.schema import Dialect
from adapter.stores.bulk import dialect_of, recordset_json
from adapter.stores.record_store import adapter_name
from adapter.terminology.service import Terminology
from adapter.terminology.usagi import WorklistEntry
from adapter.terminology.worklist import UnmappedCode, is_mapped, unmapped_codes

__all__ = [
    "MAX_EXAMPLES",
    "Collector",
    "delete_entries",
    "read_worklist",
    "worklist_statements",
]

MAX_EXAMPLES = 5


def worklist_statements(dialect: Dialect) -> list[str]:
    """CREATE … IF NOT EXISTS for the two worklist tables; run by `init_db`."""
    big, text = ("bigint", "text") if dialect == "postgresql" else ("INTEGER", "TEXT")
    codes, uses = adapter_name("unmapped_codes", dialect), adapter_name("unmapped_code_records",
                                                                          dialect)  # fmt: skip
    return [
        f"CREATE TABLE IF NOT EXISTS {codes} (source_system {text} NOT NULL, "
        f"source_code {text} NOT NULL, element {text} NOT NULL, map {text} NOT NULL, "
        f"map_version {text} NOT NULL, record_count {big} NOT NULL, "
        f"first_seen {text} NOT NULL, last_seen {text} NOT NULL, examples {text} NOT NULL, "
        "PRIMARY KEY (source_system, source_code))",
        f"CREATE TABLE IF NOT EXISTS {uses} (source_system {text} NOT NULL, "
        f"source_code {text} NOT NULL, record {text} NOT NULL, seen {text} NOT NULL, "
        "PRIMARY KEY (source_system, source_code, record))",
    ]


@dataclass
class Collector:
    """Unmapped codes met since the last flush; one per load run."""

    terminology: Terminology
    pseudonym: Callable[[str], str]
    seen: dict[UnmappedCode, list[str]] = field(default_factory=dict)

    def note(self, record: MdsRecord, findings: Sequence[Finding]) -> None:
        """Remember the record's unmapped codes (the loader calls this after `to_omop`)."""
        codes = unmapped_codes(record, findings, self.terminology)
        if not codes:
            return
        who = self.pseudonym(record.record_id)
        for code in codes:
            self.seen.setdefault(code, []).append(who)

    def flush(self, conn: Connection) -> None:
        """Write what was noted, in the caller's (chunk) transaction, and forget it."""
        if not self.seen:
            return
        dialect = dialect_of(conn)
        codes = adapter_name("unmapped_codes", dialect)
        uses = adapter_name("unmapped_code_records", dialect)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        seen = sorted(self.seen.items())
        if dialect == "postgresql":
            _flush_postgresql(conn, codes, uses, seen, now)
            self.seen.clear()
            return
        pairs = [(k, r) for k, who in seen for r in dict.fromkeys(who)]
        added: Counter[tuple[str, str]] = Counter()
        for at in range(0, len(pairs), _ROWS_PER_INSERT):
            part = pairs[at : at + _ROWS_PER_INSERT]
            # pad to a power of two with repeats (skipped by ON CONFLICT DO NOTHING, absent
            # from RETURNING): a handful of SQL texts in all, not one per flush size, so the
            # engine's and the driver's statement caches stay small (a text per size held
            # ~100 MiB on a 20k-record load and made peak memory grow with the load)
            part += [part[-1]] * ((1 << (len(part) - 1).bit_length()) - len(part))
            values = ", ".join(f"(:s{i}, :c{i}, :r{i}, :now)" for i in range(len(part)))
            params: dict[str, Any] = {"now": now}
            for i, (k, r) in enumerate(part):
                params.update({f"s{i}": k.system, f"c{i}": k.code, f"r{i}": r})
            for row in conn.execute(
                sa.text(f"INSERT INTO {uses} (source_system, source_code, record, seen) "
                        f"VALUES {values} ON CONFLICT DO NOTHING "
                        "RETURNING source_system, source_code"),
                params,
            ):  # fmt: skip
                added[(row[0], row[1])] += 1
        _upsert(conn, codes, seen, added, now)
        self.seen.clear()


_ROWS_PER_INSERT = 1024  # x 3 parameters: well under SQLite's and PostgreSQL's limits

_MERGED_EXAMPLES = f"""coalesce((SELECT string_agg(x, ' ' ORDER BY o) FROM (
    SELECT x, min(o) AS o
    FROM unnest(string_to_array(btrim(c.examples || ' ' || excluded.examples), ' '))
         WITH ORDINALITY AS u(x, o)
    WHERE x <> '' GROUP BY x ORDER BY min(o) LIMIT {MAX_EXAMPLES}) AS e), '')"""
"""The stored examples, then the new ones not among them, the first MAX_EXAMPLES of all."""


def _flush_postgresql(
    conn: Connection,
    codes: str,
    uses: str,
    seen: list[tuple[UnmappedCode, list[str]]],
    now: str,
) -> None:
    """The flush in one statement: the (code, record) rows not there yet go in, and each code's
    row is inserted or updated with the count of those rows (`_upsert`'s rules, in SQL).

    Both tables' rows are JSON parameters, so the text is the same for every flush (parsed
    and planned once per connection); what the Python path does in four round trips (insert,
    read the codes, insert the new ones, update the others) takes one."""
    record_rows = recordset_json(
        ("source_system", "source_code", "record", "seen"),
        [(k.system, k.code, r, now) for k, who in seen for r in dict.fromkeys(who)],
    )
    code_rows = recordset_json(
        ("source_system", "source_code", "element", "map", "map_version", "record_count",
         "first_seen", "last_seen", "examples"),
        [(k.system, k.code, k.element, k.map, k.map_version, 0, now, now,
          " ".join(list(dict.fromkeys(who))[:MAX_EXAMPLES])) for k, who in seen],
    )  # fmt: skip
    conn.exec_driver_sql(
        f"""WITH added AS (
    INSERT INTO {uses} (source_system, source_code, record, seen)
    SELECT source_system, source_code, record, seen
    FROM json_populate_recordset(NULL::{uses}, %(records)s::json)
    ON CONFLICT DO NOTHING RETURNING source_system, source_code),
counted AS (SELECT source_system, source_code, count(*) AS n FROM added GROUP BY 1, 2)
INSERT INTO {codes} AS c (source_system, source_code, element, map, map_version, record_count,
                          first_seen, last_seen, examples)
SELECT j.source_system, j.source_code, j.element, j.map, j.map_version, coalesce(n.n, 0),
       j.first_seen, j.last_seen, j.examples
FROM json_populate_recordset(NULL::{codes}, %(codes)s::json) AS j
LEFT JOIN counted AS n USING (source_system, source_code)
ON CONFLICT (source_system, source_code) DO UPDATE SET element = excluded.element,
    map = excluded.map, map_version = excluded.map_version,
    record_count = c.record_count + excluded.record_count, last_seen = excluded.last_seen,
    examples = {_MERGED_EXAMPLES}""",
        {"records": record_rows, "codes": code_rows},
    )


def _upsert(
    conn: Connection,
    codes: str,
    seen: list[tuple[UnmappedCode, list[str]]],
    added: Counter[tuple[str, str]],
    now: str,
) -> None:
    """Update every noted code with three statements, whatever their number.

    `record_count` is the number of `unmapped_code_records` rows of the code: the stored count
    plus the rows this flush added (RETURNING), which both tables' writers (this module) keep
    equal. (A SELECT pair and one write per code, then a count(*) over the code's records per
    flush, made the worklist the costliest part of a one-record API transaction.)"""
    wanted = {
        "systems": sorted({k.system for k, _ in seen}),
        "codes": sorted({k.code for k, _ in seen}),
    }
    found = {(r[0], r[1]): (r[2], int(r[3])) for r in conn.execute(
        sa.text(f"SELECT source_system, source_code, examples, record_count FROM {codes} "
                "WHERE source_system IN :systems AND source_code IN :codes")
        .bindparams(sa.bindparam("systems", expanding=True),
                    sa.bindparam("codes", expanding=True)),
        wanted,
    )}  # fmt: skip
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for key, who in seen:
        where = (key.system, key.code)
        examples, count = found.get(where, ("", 0))
        old = examples.split() if examples else []
        shown = " ".join(list(dict.fromkeys([*old, *who]))[:MAX_EXAMPLES])
        values: dict[str, Any] = {"s": key.system, "c": key.code, "e": key.element,
                                  "m": key.map, "v": key.map_version,
                                  "n": count + added[where], "now": now, "x": shown}  # fmt: skip
        (updates if where in found else inserts).append(values)
    if inserts:
        conn.execute(
            sa.text(f"INSERT INTO {codes} (source_system, source_code, element, map, "
                    "map_version, record_count, first_seen, last_seen, examples) VALUES "
                    "(:s, :c, :e, :m, :v, :n, :now, :now, :x)"),
            inserts,
        )  # fmt: skip
    if updates:
        conn.execute(
            sa.text(f"UPDATE {codes} SET element = :e, map = :m, map_version = :v, "
                    "record_count = :n, last_seen = :now, examples = :x "
                    "WHERE source_system = :s AND source_code = :c"),
            updates,
        )  # fmt: skip


def read_worklist(conn: Connection, terminology: Terminology | None = None) -> list[WorklistEntry]:
    """The worklist, most frequent first; with `terminology`, only codes it still leaves open."""
    name = adapter_name("unmapped_codes", dialect_of(conn))
    rows = conn.execute(
        sa.text(f"SELECT source_system, source_code, element, map, map_version, record_count, "
                f"first_seen, last_seen, examples FROM {name} "
                "ORDER BY record_count DESC, source_system, source_code")
    )  # fmt: skip
    out = [
        WorklistEntry(r[0], r[1], r[2], r[3], r[4], int(r[5]), r[6], r[7], tuple(r[8].split()))
        for r in rows
    ]
    if terminology is not None:
        out = [e for e in out if not is_mapped(terminology, e.system, e.code)]
    return out


def delete_entries(conn: Connection, keys: Sequence[tuple[str, str]]) -> None:
    """Drop worklist entries (and their record rows) a reviewed import has covered."""
    if not keys:
        return
    dialect = dialect_of(conn)
    for table in ("unmapped_codes", "unmapped_code_records"):
        conn.execute(
            sa.text(f"DELETE FROM {adapter_name(table, dialect)} "
                    "WHERE source_system = :s AND source_code = :c"),
            [{"s": s, "c": c} for s, c in keys],
        )  # fmt: skip
