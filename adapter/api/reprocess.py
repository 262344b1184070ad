"""Re-processing a quarantine item through the path it came from, with today's maps and rules.

- An item of a FHIR batch (source `api:<client>`) holds its record's entries: they go through
  adapter/api/ingest.py again (`plan`, then `commit`), as a batch of that one record; issue
  locations `Bundle.entry[i]` then count within the item's entries, not the original Bundle.
- An item of a load (a JSON Lines line) goes through adapter/stores/incoming.py's reader, the
  MDS rules and `to_omop`, then adapter/stores/load.py.

A corrected body (the centre fixed the data) replaces the stored raw input: a Bundle or a list
of entries for a FHIR item, the corrected MDS JSON line for a load item. Nothing is written
unless every check passes; `Outcome.issues` then says why, naming the rule and the element,
never a value. The item itself is never changed: the caller marks it resolved on success.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from adapter.api.ingest import commit, plan
from adapter.api.outcomes import ApiError, issue
from adapter.api.state import ApiState
from adapter.errors import Finding, Level
from adapter.mds.record import MdsRecord
from adapter.mds.rules import check_record
from adapter.omop import to_omop
from adapter.stores.incoming import Incoming, read_incoming
from adapter.stores.load import load_records
from adapter.stores.quarantine import QuarantineItem, redacted

__all__ = ["Outcome", "reprocess"]


@dataclass
class Outcome:
    """What a re-process did: the records stored (or the issues why not), the run, rows."""

    issues: list[dict[str, Any]] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    run_id: int | None = None
    rows: int = 0

    @property
    def accepted(self) -> bool:
        return not self.issues and bool(self.records)


def _finding_issue(f: Finding, where: str) -> dict[str, Any]:
    elements = f" [{', '.join(f.elements)}]" if f.elements else ""
    code = "business-rule" if f.code.startswith("rule.") else "processing"
    return issue(code, f"{f.code}{elements}: {redacted(f.message, f.values)}",
                 expression=[f.location or where])  # fmt: skip


def _bad_body(what: str) -> ApiError:
    return ApiError(400, f"the corrected body must be {what}", expression=["body"])


def _fhir(item: QuarantineItem, raw: bytes, state: ApiState) -> Outcome:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise _bad_body("JSON: a Bundle or a list of entries") from None
    entries = data.get("entry") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise _bad_body("a Bundle or a list of entries")
    s = plan({"resourceType": "Bundle", "type": "batch", "entry": entries}, state)
    out = Outcome(issues=[x for i in range(len(entries)) for x in s.errors([i])])
    if not out.issues and len(s.groups) != 1:
        made = f"the entries make {len(s.groups)} MDS records; a quarantine item is one"
        out.issues.append(issue("processing", made, expression=["Bundle.entry"]))
    if out.issues:
        return out
    commit(s, state, item.source)
    out.run_id = s.report.run_id if s.report else None
    out.rows = s.report.rows if s.report else 0
    for g in s.groups:
        if g.record is not None:
            out.records.append(
                {
                    "record_id": g.record.record_id,
                    "institution": g.record.institution,
                    "outcome": g.outcome,
                }
            )
        if g.status >= 300:  # rejected by the store after all: quarantined again
            out.issues.append(issue("processing", "the store rejected the record",
                                    expression=[f"Bundle.entry[{g.patient}]"]))  # fmt: skip
    return out


def _line(item: QuarantineItem, raw: bytes, state: ApiState) -> Outcome:
    parsed = list(read_incoming([raw]))
    if len(parsed) != 1:
        raise _bad_body("one MDS JSON line")
    incoming = Incoming(item.location, raw.strip(), parsed[0].item)
    record = incoming.item
    if isinstance(record, Finding):
        return Outcome(issues=[_finding_issue(record, item.location)])
    if state.pseudonym is None:
        raise ApiError(503, "MDS_ADAPTER_PSEUDONYM_KEY is not set: records cannot be stored",
                       code="transient")  # fmt: skip
    if isinstance(record, MdsRecord):
        found = [f for f in check_record(record) if f.level is Level.ERROR]
        if not found:
            mapped = to_omop(record, state.terminology, pseudonym=state.pseudonym)[1]
            found = [f for f in mapped if f.level is Level.ERROR]
        if found:
            return Outcome(issues=[_finding_issue(f, item.location) for f in found])
    report = load_records(state.engine, [incoming], pseudonym=state.pseudonym,
                          source=item.source, terminology=state.terminology,
                          chunk_size=1)  # fmt: skip
    out = Outcome(run_id=report.run_id, rows=report.rows)
    if report.rejected:
        out.issues.append(issue("processing", "the store rejected the input again (see the "
                                f"quarantine items of run {report.run_id})",
                                expression=[item.location]))  # fmt: skip
        return out
    outcome = ("created" if report.loaded else "updated" if report.updated else
               "deleted" if report.deleted else "unchanged")  # fmt: skip
    out.records.append({"record_id": incoming.record_id,
                        "institution": getattr(record, "institution", None),
                        "outcome": outcome})  # fmt: skip
    return out


def reprocess(item: QuarantineItem, corrected: bytes | None, state: ApiState) -> Outcome:
    """Run the item (or its corrected input) through its own path; see the module docstring."""
    raw = corrected if corrected else item.raw.encode("utf-8")
    if item.source.startswith("api:"):
        return _fhir(item, raw, state)
    return _line(item, raw, state)
