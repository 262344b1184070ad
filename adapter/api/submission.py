"""What one posted Bundle is while it is checked and written: its entries, the records they
group into, the issues per entry and what became of each (adapter/api/ingest.py fills it,
adapter/api/bundles.py answers from it, adapter/api/metrics.py counts it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from adapter.api.conditional import EntryRequest
from adapter.api.outcomes import issue
from adapter.mds.record import MdsRecord
from adapter.stores.incoming import Tombstone
from adapter.stores.load_report import LoadReport

__all__ = ["Group", "Kind", "Submission"]

Kind = Literal["batch", "transaction"]


@dataclass
class Group:
    """The entries of one record: its Patient entry, the others, and what became of them."""

    patient: int
    indices: list[int]
    shared: list[int] = field(default_factory=list)  # Organizations its Patient names
    record: MdsRecord | None = None
    status: int = 0
    outcome: str = ""  # created | updated | unchanged | rejected
    version: int | None = None  # the record's store version after the write
    create_only: bool = False  # its Patient was POSTed with ifNoneExist


@dataclass
class Submission:
    kind: Kind
    entries: list[Any]
    groups: list[Group]
    shared: list[int]
    issues: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    report: LoadReport | None = None
    requests: dict[int, EntryRequest] = field(default_factory=dict)
    deletes: dict[int, Tombstone] = field(default_factory=dict)
    deleted: dict[int, str] = field(default_factory=dict)  # deleted | not-found
    by_id: dict[int, str] = field(default_factory=dict)  # DELETE Patient/<id>: the id
    _owners: dict[int, Group] | None = field(default=None, repr=False)
    _users: dict[int, list[Group]] | None = field(default=None, repr=False)

    def group_of(self, index: int) -> Group | None:
        """The group an entry belongs to (after `plan`): a dict made once, so answering every
        entry of a large record is linear, not a scan of the record's entries per entry."""
        if self._owners is None:
            self._owners = {i: g for g in reversed(self.groups) for i in g.indices}
        return self._owners.get(index)

    def users_of(self, index: int) -> list[Group] | None:
        """The groups using a shared entry (an Organization), None for an entry not shared;
        made once after `plan`, like `group_of`."""
        if self._users is None:
            self._users = {i: [] for i in self.shared}
            for g in self.groups:
                for i in g.shared:
                    self._users.setdefault(i, []).append(g)
        return self._users.get(index)

    def errors(self, indices: Sequence[int]) -> list[dict[str, Any]]:
        return [x for i in indices for x in self.issues.get(i, ()) if x["severity"] == "error"]

    def add(self, index: int, found: dict[str, Any]) -> None:
        self.issues.setdefault(index, []).append(found)

    def counts(self) -> dict[str, int]:
        outcomes = [g.outcome for g in self.groups]
        return {"entries": len(self.entries), "records": len(self.groups),
                **{k: outcomes.count(k) for k in ("created", "updated", "unchanged",
                                                  "rejected")},
                "deleted": list(self.deleted.values()).count("deleted")}  # fmt: skip

    def limit_writes(self, institutions: frozenset[str] | None) -> set[int]:
        """For a token limited to some institutions: its records and deletes of any other are
        refused (`forbidden`, answered 403); the indices of the entries refused."""
        if institutions is None:
            return set()
        refused: set[int] = set()
        for g in self.groups:
            if g.record is not None and (g.record.institution or "") not in institutions:
                refused.add(g.patient)
                whose = g.record.institution or "no institution"
                where = [f"Bundle.entry[{g.patient}].resource"]
                self.add(g.patient, issue("forbidden", f"this token may not write records of "
                                          f"{whose}", expression=where))  # fmt: skip
        for i, gone in self.deletes.items():
            if gone.institution is None or gone.institution not in institutions:
                refused.add(i)
                what = f"records of {gone.institution}" if gone.institution else (
                    "a record without naming its institution")  # fmt: skip
                self.add(i, issue("forbidden", f"this token may not delete {what}",
                                  expression=[f"Bundle.entry[{i}].request.url"]))  # fmt: skip
        return refused
