"""A posted Bundle → MDS records → the record store: the checks, then the write.

`plan` does everything that needs no database: bundle shape, each entry's request
(adapter/api/conditional.py: conditional create, update, delete), profile validation
(adapter.fhir.validate), grouping entries into records (one Patient and what points at it;
Organizations are shared), `read_fhir` per group, the MDS rules and `to_omop`. Every problem
is an OperationOutcome issue naming `Bundle.entry[i]` and the finding's stable code (the
rule), never the submitted value.

`commit` writes through adapter.stores.load (records, crosswalk, CDM rows, quarantine):

- transaction: any error → nothing is written and the caller answers 422 with every issue;
  otherwise all records go in one chunk, which adapter/stores/submissions.py commits as one
  savepoint (with the run and the receipt) of a group commit with concurrent submissions.
- batch: good records are loaded; each rejected group is quarantined (raw entries + reasons),
  so `mds-adapter` operators see it with the load rejects.

Deletes go first (FHIR's transaction order: DELETE, POST, PUT); a Bundle that deletes and
writes the same record is refused (that entry, or the whole transaction). `DELETE Patient/<id>`
is resolved to its record in `commit`, through the Patient index (adapter/stores/fhir_index.py).

Re-posting is idempotent because records are keyed by institution + record id (the Patient's
business identifier, as the conditional PUTs in the entries say) and load_records skips a
record whose content and mapping are unchanged. Statuses per record: 201 new (or back after a
delete), 200 updated or unchanged, 422 rejected; per delete 204 (200 with an outcome), also
when nothing matched (FHIR R4 http.html#cdelete: no match is an ordinary delete of nothing)
or no record has the Patient id (http.html#delete: 200/204 "if the resource does not exist at
all").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import orjson

from adapter.api.conditional import EntryRequest, check_request
from adapter.api.guards import (
    check_full_urls,
    check_record_sizes,
    check_shape,
    check_structure,
    kept,
)
from adapter.api.locate import CodeIndex, canonical_id, code_at, code_index
from adapter.api.outcomes import ApiError, issue
from adapter.api.state import ApiState
from adapter.api.submission import Group, Kind, Submission
from adapter.errors import Finding, Level
from adapter.fhir import read_fhir
from adapter.fhir.codes import reference_key
from adapter.fhir.ids import SID, Ids
from adapter.mds.record import MdsRecord
from adapter.mds.rules import check_record
from adapter.omop import to_omop
from adapter.stores.audit import AuditEntry, write_audits
from adapter.stores.fhir_index import key_of_patient, patient_id, sync_patient_index
from adapter.stores.incoming import Incoming, Tombstone
from adapter.stores.load_report import LoadReport
from adapter.stores.quarantine import redacted

__all__ = [
    "LOSSY",
    "Group",
    "Kind",
    "Submission",
    "commit",
    "entry_location",
    "entry_outcome",
    "plan",
]

_SHARED = frozenset({"Organization"})
LOSSY = frozenset({"fhir.conflict", "fhir.unknown-code", "fhir.unsupported-value"})
"""Reader findings that mean a posted MDS value would be dropped or contradicted: warnings
when converting files (the CLI reports them and keeps the rest), errors here, where the sender
can fix the entry and FHIR's strict answer is the useful one (nothing is stored half-read)."""
_PATIENT_REFS = ("subject", "patient")
_STATUS = {"created": 201, "updated": 200, "unchanged": 200, "deleted": 204, "not-found": 204}


def _finding_issue(f: Finding, where: str, code: str) -> dict[str, Any]:
    """An issue naming the finding's code (the rule) and elements, with no submitted value.

    The expression is the finding's FHIRPath location when it has one under `Bundle.entry`,
    else `where` (the entry it was found on)."""
    message = redacted(f.message, f.values)
    elements = f" [{', '.join(f.elements)}]" if f.elements else ""
    severity = {Level.ERROR: "error", Level.WARNING: "warning"}.get(f.level, "information")
    located = f.location if f.location and f.location.startswith("Bundle.") else where
    return issue(code, f"{f.code}{elements}: {message}", severity=severity, expression=[located])


def _entry_ok(s: Submission, i: int, entry: Any) -> bool:
    """Whether the entry carries a resource to read; its request is checked (and noted)."""
    where = f"Bundle.entry[{i}]"
    found = check_request(entry, where) if isinstance(entry, dict) else None
    if found is None:
        s.add(i, issue("structure", "an entry needs a resource", expression=[where]))
    elif isinstance(found, dict):
        s.add(i, found)
        request = entry.get("request")
        if isinstance(entry.get("resource"), dict) and isinstance(request, dict) \
                and request.get("method") in ("POST", "PUT"):  # fmt: skip
            s.requests[i] = EntryRequest(str(request["method"]))  # still grouped with its record
            return True
    elif found.delete is not None:
        s.deletes[i] = found.delete
    elif found.patient is not None:
        s.by_id[i] = found.patient
    else:
        s.requests[i] = found
        return True
    return False


def _check_deletes(s: Submission) -> None:
    """A record is deleted once and not also written by the same Bundle."""
    written = {(g.record.institution or "", g.record.record_id): g.patient
               for g in s.groups if g.record is not None}  # fmt: skip
    seen: dict[tuple[str, str], int] = {}
    for i, gone in s.deletes.items():
        key = (gone.institution or "", gone.record_id)
        other = written.get(key, seen.get(key))
        if other is not None:
            s.add(i, issue("conflict", f"Bundle.entry[{other}] writes or deletes the same "
                           "record: one interaction per record and Bundle",
                           expression=[f"Bundle.entry[{i}].request.url"]))  # fmt: skip
        seen.setdefault(key, i)


def _group(s: Submission, resources: dict[int, dict[str, Any]]) -> None:
    keys: dict[str, int] = {}
    for i, r in resources.items():
        if r.get("resourceType") == "Patient":
            s.groups.append(Group(i, [i]))
            for key in (r.get("id"), reference_key({"reference": s.entries[i].get("fullUrl")})):
                if isinstance(key, str):
                    keys[key] = len(s.groups) - 1
    shared: dict[str, int] = {}
    for i, r in resources.items():
        kind = r.get("resourceType")
        if kind == "Patient":
            continue
        ref = next((r[n] for n in _PATIENT_REFS if isinstance(r.get(n), dict)), None)
        if ref is None and kind in _SHARED:
            s.shared.append(i)
            for key in (r.get("id"), reference_key({"reference": s.entries[i].get("fullUrl")})):
                if isinstance(key, str):
                    shared[key] = i
        elif ref is not None and reference_key(ref) in keys:
            s.groups[keys[str(reference_key(ref))]].indices.append(i)
        else:
            s.add(i, issue("invalid", f"{kind} names no Patient of this Bundle",
                           expression=[f"Bundle.entry[{i}].resource.subject"]))  # fmt: skip
    for g in s.groups:
        org = resources[g.patient].get("managingOrganization")
        org = reference_key(org) if isinstance(org, dict) else None
        if org in shared:
            g.shared.append(shared[str(org)])
    used = {i for g in s.groups for i in g.shared}
    for i in s.shared:
        if i not in used:
            s.add(i, issue("informational", "no Patient of this Bundle names this resource; "
                           "it was not used", severity="warning",
                           expression=[f"Bundle.entry[{i}].resource"]))  # fmt: skip


def _read(s: Submission, state: ApiState, g: Group) -> None:
    """read_fhir, the rules and to_omop for one group with no entry-level error."""
    where = f"Bundle.entry[{g.patient}].resource"
    used = [*g.indices, *g.shared]
    sub = {"resourceType": "Bundle", "type": "collection",
           "entry": [s.entries[i] for i in used]}  # fmt: skip
    places = {f"{r['resourceType']}/{r.get('id')}": i for i in used
              if isinstance(r := s.entries[i]["resource"], dict)}  # fmt: skip
    records: list[MdsRecord] = []
    codes: CodeIndex | None = None  # made once, on the first finding
    for item in read_fhir([sub], state.terminology, profiles="off", checked=True):
        if isinstance(item, Finding):
            if item.code in LOSSY:
                item = replace(item, level=Level.ERROR)
            if item.level is not Level.INFO:
                at = places.get(str(item.location), g.patient)
                if codes is None:
                    codes = code_index([(i, s.entries[i]["resource"]) for i in used])
                at, path = code_at(codes, item) or (at, f"Bundle.entry[{at}].resource")
                s.add(at, _finding_issue(item, path, "processing"))
        else:
            records.append(item)
    if len(records) != 1 or s.errors(used):
        if not s.errors(used):
            s.add(g.patient, issue("processing", f"the entries make {len(records)} MDS records, "
                                   "not one", expression=[where]))  # fmt: skip
        return
    g.record = records[0]
    for f in check_record(g.record):
        if f.level is Level.ERROR:
            s.add(g.patient, _finding_issue(f, where, "business-rule"))
    if state.pseudonym is not None and not s.errors([g.patient]):
        for f in to_omop(g.record, state.terminology, pseudonym=state.pseudonym)[1]:
            if f.level is Level.ERROR:
                s.add(g.patient, _finding_issue(f, where, "processing"))


def plan(bundle: Any, state: ApiState) -> Submission:
    """Every check that needs no database (see the module docstring)."""
    kind = check_shape(bundle)
    malformed = check_structure(bundle, state.settings)
    s = Submission(kind, list(bundle.get("entry", [])), [], [])
    resources: dict[int, dict[str, Any]] = {}
    for i, entry in enumerate(s.entries):
        if i in malformed:  # not validated nor read, but grouped: its record is refused
            s.issues[i] = malformed[i]
            if isinstance(entry, dict) and isinstance(entry.get("resource"), dict) and \
                    isinstance(entry["resource"].get("resourceType"), str):  # fmt: skip
                resources[i], s.requests[i] = entry["resource"], EntryRequest("PUT")
        elif _entry_ok(s, i, entry):
            resources[i] = entry["resource"]
    check_full_urls(s)
    _group(s, resources)
    too_big = check_record_sizes(s, state.settings.max_resources_per_patient)
    for i, r in resources.items():  # after grouping: a refused record's entries cost nothing
        if i not in malformed and i not in too_big:
            for f in state.validator.validate(r, f"Bundle.entry[{i}].resource"):
                if f.level is not Level.INFO:
                    s.add(i, _finding_issue(f, f"Bundle.entry[{i}].resource", "invalid"))
    for g in s.groups:
        g.create_only = s.requests[g.patient].create_only
        if not s.errors([*g.indices, *g.shared]):
            _read(s, state, g)
    seen: dict[tuple[str, str], int] = {}
    for g in s.groups:
        if g.record is None:
            continue
        key = (g.record.institution or "", g.record.record_id)
        if key in seen:  # one interaction per record and Bundle (a batch too: FHIR leaves the
            # order of a batch's entries open, so "the later one wins" would be a guess)
            s.add(g.patient, issue("duplicate", f"the same record as Bundle.entry[{seen[key]}]",
                                   expression=[f"Bundle.entry[{g.patient}].resource"]))  # fmt: skip
        seen.setdefault(key, g.patient)
    return s


def _resolve_ids(s: Submission, state: ApiState) -> None:
    """The record each `DELETE Patient/<id>` names: one this Bundle writes, else a stored one
    (alive or not); an id no record has deletes nothing ("not-found", still 204)."""
    if not s.by_id:
        return
    written = {patient_id(g.record.institution, g.record.record_id): g.record
               for g in s.groups if g.record is not None}  # fmt: skip
    with state.patient_index_engine().begin() as conn:
        sync_patient_index(conn)
        for i, patient in s.by_id.items():
            mine = written.get(patient)
            key = (mine.institution or "", mine.record_id) if mine else \
                key_of_patient(conn, patient)  # fmt: skip
            if key is None:
                s.deleted[i] = "not-found"
            else:
                s.deletes[i] = Tombstone(key[1], key[0])
    s.deletes = dict(sorted(s.deletes.items()))  # Bundle order: the first of a conflict wins


def _rejected_finding(s: Submission, g: Group) -> Finding:
    reasons = "; ".join(f"{x['expression'][0]}: {x['diagnostics']}" for x in
                        s.errors([*g.indices, *g.shared]))  # fmt: skip
    return Finding(
        "api.rejected-entry",
        Level.ERROR,
        reasons,
        g.record.record_id if g.record else _record_id(s.entries[g.patient]["resource"]),
        location=f"Bundle.entry[{g.patient}]",
    )


def _record_id(patient: dict[str, Any]) -> str | None:
    """The record id a Patient's MDS identifier names, for the quarantine of an unread one."""
    given = patient.get("identifier")
    return next((x["value"] for x in given if isinstance(x, dict)
                 and str(x.get("system")).startswith(SID) and isinstance(x.get("value"), str)),
                None) if isinstance(given, list) else None  # fmt: skip


def commit(
    s: Submission,
    state: ApiState,
    source: str,
    receipt: Callable[[Submission], AuditEntry] | None = None,
    institutions: frozenset[str] | None = None,
) -> None:
    """Write the submission (see the module docstring); sets each group's status and outcome.

    `receipt(s)`, called once the outcomes are set, is the audit row written in the same
    transaction as the records (adapter/stores/submissions.py: one commit for the submissions
    written together).

    What is new, changed or unchanged is decided by the load itself, in its transaction under
    the record store lock (adapter/stores/load.py), never predicted from an earlier read: the
    same bundle posted by ten clients at once gets one 201 per record and nine 200s."""
    _resolve_ids(s, state)
    _check_deletes(s)
    forbidden = s.limit_writes(institutions)
    all_errors = [x for i in range(len(s.entries)) for x in s.errors([i])]
    if s.kind == "transaction" and all_errors:
        raise ApiError(403 if forbidden else 422, "transaction rejected", issues=all_errors)
    if state.pseudonym is None:
        raise ApiError(503, "MDS_ADAPTER_PSEUDONYM_KEY is not set: bundles cannot be stored",
                       code="transient")  # fmt: skip
    good = [g for g in s.groups if g.record is not None and not s.errors([*g.indices, *g.shared])]
    items = [Incoming(f"Bundle.entry[{i}]", orjson.dumps(s.entries[i]), gone)
             for i, gone in s.deletes.items() if not s.errors([i])]  # fmt: skip
    grouped = {i for g in s.groups for i in g.indices} | set(s.shared)
    cap = state.settings.max_quarantine_bytes
    loose = [i for i in sorted(set(s.issues) - grouped - forbidden) if s.errors([i])]
    if loose:  # entries of no record: one quarantine item for them all, not one each
        where = f"Bundle.entry[{loose[0]}]"
        reasons = "; ".join(x["diagnostics"] for i in loose[:10] for x in s.errors([i]))
        more = f" (and {len(loose) - 10} more entries)" if len(loose) > 10 else ""
        found = Finding("api.rejected-entry", Level.ERROR, reasons + more, location=where)
        items.append(Incoming(where, kept([s.entries[i] for i in loose], cap), found))
    for g in s.groups:
        if g.patient in forbidden:
            continue  # not this client's to send: nothing of it is kept, not even quarantined
        sub = kept([s.entries[i] for i in [*g.indices, *g.shared]], cap)
        if g not in good:
            items.append(Incoming(f"Bundle.entry[{g.patient}]", sub, _rejected_finding(s, g),
                                  g.record.institution if g.record else None))  # fmt: skip
        else:
            assert g.record is not None
            items.append(Incoming(f"Bundle.entry[{g.patient}]", sub, g.record))
    only = [f"Bundle.entry[{g.patient}]" for g in good if g.create_only]

    def settle(report: LoadReport | None) -> AuditEntry | None:
        s.report = report
        _settle(s)
        return receipt(s) if receipt is not None else None

    if receipt is not None:
        state.audit_engine()  # the audit table, made on first use
    if items:
        state.writer(state.pseudonym).submit(items, source=source, create_only=only,
                                             settle=settle)  # fmt: skip
    else:
        with state.engine.begin() as conn:
            write_audits(conn, [e for e in [settle(None)] if e is not None])


def _settle(s: Submission) -> None:
    """Each group's and delete's outcome from the load report."""
    outcomes = (s.report.outcomes or {}) if s.report else {}
    for i in s.deletes:
        if (done := outcomes.get(f"Bundle.entry[{i}]")) is not None:
            s.deleted[i] = done.outcome
    for g in s.groups:
        done = outcomes.get(f"Bundle.entry[{g.patient}]")
        g.outcome = done.outcome if done is not None else "rejected"
        g.version = done.version if done is not None else None
        g.status = _STATUS.get(g.outcome, 422)


def entry_outcome(s: Submission, index: int) -> tuple[int, list[dict[str, Any]]]:
    """One entry's status and issues: its record's; a shared entry (Organization) is 200 when
    a record using it went in; an entry that belongs to no record is 422."""
    issues = list(s.issues.get(index, ()))
    group = s.group_of(index)
    mine = s.issues.get(group.patient if group is not None else index, ())
    if any(x["code"] == "forbidden" for x in mine):
        return 403, issues
    if index in s.deletes or index in s.by_id:
        if s.deleted.get(index) == "not-found":
            what = "Patient id" if index in s.by_id else "identifier"
            issues.append(issue("not-found", f"no stored record has this {what}: nothing "
                                "was deleted", severity="information",
                                expression=[f"Bundle.entry[{index}].request.url"]))  # fmt: skip
        return (204 if s.deleted.get(index) in ("deleted", "not-found") else 422), issues
    if group is not None:
        return group.status, issues
    users = s.users_of(index)
    if users is not None and not s.errors([index]):
        return (200 if any(g.status < 300 for g in users) or not users else 422), issues
    return 422, issues


def entry_location(s: Submission, index: int) -> tuple[str, int] | None:
    """`Type/id` and the store version of a written record's entry, else None.

    The id is what the record reads back as (adapter/fhir/ids.py); all of a record's resources
    carry the record's version, because the record is what is versioned."""
    group = s.group_of(index)
    if group is None or group.record is None or group.version is None or group.status >= 300:
        return None
    resource = s.entries[index]["resource"]
    found = canonical_id(resource, Ids(group.record.institution, group.record.record_id))
    return None if found is None else (f"{resource['resourceType']}/{found}", group.version)
