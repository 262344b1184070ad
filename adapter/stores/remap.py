"""`mds-adapter remap`: re-derive the OMOP rows of exactly the records a map change affects.

After `terminology import` has covered worklist codes, the records that use those codes still
carry concept 0 in the CDM. `remap` finds them (every live record whose codes, read from its
stored JSON, include a covered worklist code), feeds them through the normal load path with the
current maps, and drops the covered entries from the worklist. Going through `load_records`
is the point: the crosswalk gives every row its old id back, the chunk transactions make an
interrupted remap resumable, and nothing else is touched, so the rows and ids of unaffected
records stay exactly as they were. (Those keep their old mapping fingerprint; the next `load`
of their file maps them again under the new versions, with the same ids and, since they use
no changed code, the same rows.)

The `remap` run row records the map versions the affected records were mapped with
(`old_maps`, from their load runs), the versions now (`new_maps`), the covered codes, and the
id of the load run that rewrote the rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adapter.mds.record import MdsRecord
from adapter.mds.rules import RuleConfig
from adapter.sources.jsonl import parse_line
from adapter.stores.bulk import dialect_of
from adapter.stores.incoming import Incoming
from adapter.stores.load import LoadReport, ToOmop, load_records
from adapter.stores.omop_db import Target, engine_for
from adapter.stores.pseudonym import Pseudonymiser
from adapter.stores.record_store import adapter_name
from adapter.stores.runs import finish_run, start_run
from adapter.stores.worklist import delete_entries, read_worklist
from adapter.terminology.service import Terminology
from adapter.terminology.worklist import codes_of, is_mapped

__all__ = ["RemapReport", "remap"]


@dataclass
class RemapReport:
    """What a remap did; `load` is the report of the load run that rewrote the rows."""

    run_id: int
    codes: list[tuple[str, str]] = field(default_factory=list)
    record_ids: list[str] = field(default_factory=list)
    old_maps: dict[str, str] = field(default_factory=dict)
    new_maps: dict[str, str] = field(default_factory=dict)
    load: LoadReport | None = None


def _affected(
    conn: Connection, covered: set[tuple[str, str]]
) -> tuple[list[tuple[int, str, MdsRecord]], set[int]]:
    """(record_no, record_json, record) of every live record using a covered code; run ids."""
    name = adapter_name("records", dialect_of(conn))
    rows = conn.execute(
        sa.text(f"SELECT record_no, record_json, run_id FROM {name} WHERE NOT deleted "
                "ORDER BY record_no")
    )  # fmt: skip
    found: list[tuple[int, str, MdsRecord]] = []
    runs: set[int] = set()
    for no, document, run_id in rows:
        record = parse_line(document.encode(), f"record_no {no}")
        if isinstance(record, MdsRecord) and codes_of(record) & covered:
            found.append((int(no), document, record))
            runs.add(int(run_id))
    return found, runs


def _old_maps(conn: Connection, run_ids: set[int]) -> dict[str, str]:
    """The map versions of the newest load run among these (what the rows were mapped with)."""
    if not run_ids:
        return {}
    query = sa.text(
        f"SELECT details FROM {adapter_name('runs', dialect_of(conn))} "
        "WHERE run_id IN :ids ORDER BY run_id DESC"
    ).bindparams(sa.bindparam("ids", expanding=True))
    for (details,) in conn.execute(query, {"ids": sorted(run_ids)}):
        maps: Any = json.loads(details or "{}").get("maps")
        if isinstance(maps, dict):
            return {str(k): str(v) for k, v in maps.items()}
    return {}


def remap(
    target: Target,
    *,
    pseudonym: Pseudonymiser,
    terminology: Terminology | None = None,
    to_omop: ToOmop | None = None,
    rules: RuleConfig | None = RuleConfig(),  # noqa: B008 (frozen, shared on purpose)
) -> RemapReport:
    """Re-map the records that use worklist codes the current maps now cover."""
    terminology = terminology or Terminology.load()
    with engine_for(target) as engine:
        with engine.begin() as conn:
            covered = {
                (e.system, e.code)
                for e in read_worklist(conn)
                if is_mapped(terminology, e.system, e.code)
            }
            records, runs = _affected(conn, covered) if covered else ([], set())
            old = _old_maps(conn, runs)
            run_id = start_run(conn, "remap", {"codes": sorted(covered)})
        report = RemapReport(run_id, sorted(covered), [r.record_id for _, _, r in records], old,
                             dict(terminology.versions))  # fmt: skip
        if records:
            items = [
                Incoming(f"record_no {no}", document.encode(), record)
                for no, document, record in records
            ]
            report.load = load_records(
                engine, items, pseudonym=pseudonym, source="remap",
                terminology=terminology, to_omop=to_omop, rules=rules,
            )  # fmt: skip
        changed = {k: (v, report.new_maps.get(k)) for k, v in old.items()
                   if report.new_maps.get(k) != v}  # fmt: skip
        with engine.begin() as conn:
            delete_entries(conn, sorted(covered))
            finish_run(conn, run_id, {
                "codes": [list(c) for c in report.codes],
                "records": len(records),
                "old_maps": old,
                "new_maps": report.new_maps,
                "changed_maps": {k: list(v) for k, v in changed.items()},
                "load_run_id": report.load.run_id if report.load else None,
                "counts": report.load.counts() if report.load else {},
            })  # fmt: skip
    return report
