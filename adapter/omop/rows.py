"""OMOP rows of one record, before they have database ids.

The mapping (`to_omop`) is pure, so it cannot allocate database ids: every id column, and every
column that points at another row of the same record (person_id, measurement_event_id,
episode_event.event_id, …), holds a `Ref` instead: a symbolic id unique within the record, such as
`Ref("condition_occurrence", "primary")`. The store resolves each (record, Ref) to an integer
through the id crosswalk, once, and reuses it on every later load, so a re-load changes no row
and an updated record replaces exactly its own rows.

    rows: OmopRows = {"person": [{"person_id": Ref("person", "patient"), ...}], ...}

Rows of `SHARED_TABLES` are not any one record's: a CARE_SITE is the institution, a LOCATION
its country, and OMOP wants one row for each (an analyst counts care sites, ATLAS groups by
them). Their Ref key is therefore global (the same institution gives the same key in every
record), and the store writes each such row once and never deletes it with a record.
"""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = ["SHARED_TABLES", "OmopRows", "Ref"]


class Ref(NamedTuple):
    """A row id before allocation: the table it belongs to and a key unique within the record.

    A NamedTuple, not a dataclass: the store hashes and sorts ~40 of them per record, and a
    tuple does that in C (a dataclass's generated __hash__ and __lt__ run as Python)."""

    table: str
    key: str

    def __str__(self) -> str:
        return f"{self.table}:{self.key}"


OmopRows = dict[str, list[dict[str, Any]]]

SHARED_TABLES = frozenset({"care_site", "location"})
"""Tables whose rows are shared between records: keyed globally, written once, kept."""
