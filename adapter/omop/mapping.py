"""What every OMOP spoke module shares: the conventions table, the writer and the reader.

The concept ids the writer needs beyond the element maps (type concept, field concepts,
episode concepts, units, question concepts) are data, in `conventions.csv` beside this module,
and every one of them is in terminology/vocab/CONCEPT.csv (a test checks it): no concept id is
typed in Python. The element maps themselves come from the terminology service, and every
reverse table here is derived from the forward one, so the two directions cannot drift.

Structure of the write (docs/omop-mapping.md has the element-by-element table):

- one PERSON, OBSERVATION_PERIOD, CARE_SITE/LOCATION; one CONDITION_OCCURRENCE (the tumour);
- MEASUREMENT rows whose concept *is* the value (Cancer Modifier convention) for `MODIFIERS`;
- PROCEDURE_OCCURRENCE rows for biopsy, surgery, radiotherapy and systemic therapy, each inside
  its EPISODE (EPISODE_EVENT), and the disease EPISODE holding the condition and the biopsy;
- OBSERVATION rows under a local question concept for every element without a standard home,
  and for the codes of `MODIFIERS` / procedure elements that have no OMOP concept;
- DEATH.

Source values keep the MDS code verbatim, so the reader never has to guess between two codes
that share a concept (IA and IB are both "Stage 1"); the concept alone is the fallback.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from adapter.errors import Finding, Level
from adapter.mds.dictionary import element
from adapter.mds.record import MdsRecord
from adapter.omop.rows import OmopRows, Ref
from adapter.terminology import Terminology, mds_system

__all__ = [
    "CONDITION",
    "CONVENTIONS_FILE",
    "MODIFIERS",
    "OBSERVED",
    "PERSON",
    "Conventions",
    "Reader",
    "Resolver",
    "Treatment",
    "Writer",
    "bundled_resolver",
    "conventions",
    "read_conventions",
]

CONVENTIONS_FILE = Path(__file__).resolve().parent / "conventions.csv"

Resolver = Callable[[str, str], int | None]
"""(vocabulary_id, concept_code) → concept_id, or None: how a full Athena load plugs in."""

PERSON = Ref("person", "patient")
CONDITION = Ref("condition_occurrence", "primary")

MODIFIERS = (
    "anatomic_region", "histologic_grade", "tumour_depth", "metastasis_at_diagnosis",
    "metastasis_sites_at_diagnosis", "ajcc_t_category", "ajcc_n_category", "ajcc_m_category",
    "ajcc_stage_group", "surgical_margin_r",
)  # fmt: skip
"""Elements written as MEASUREMENT rows whose Cancer Modifier concept is the value."""

OBSERVED = (
    "presentation_status", "tissue_of_origin", "laterality", "grading_system",
    "diagnostic_confirmation", "surgery_performed", "surgical_margin_enneking", "enneking_stage",
    "radiotherapy_given", "radiotherapy_timing", "systemic_therapy_given",
    "systemic_therapy_timing", "vital_status", "disease_status_last_followup",
    "local_recurrence", "distant_metastasis_after_diagnosis",
)  # fmt: skip
"""Coded elements with no standard OMOP home: OBSERVATION under a local question concept,
the code in value_source_value and its mapped concept (if any) in value_as_concept_id."""

_PROCEDURE_CODED = ("biopsy_type", "surgery_type")
_PERSON_CODED = ("sex",)
"""Coded PERSON columns: sex → gender_concept_id (8507 / 8532; other and unknown have no
standard Gender concept and stay 0, gender_source_value keeps the code)."""


def read_conventions(path: Path = CONVENTIONS_FILE) -> dict[str, int]:
    """key → concept_id, from conventions.csv."""
    with path.open(encoding="utf-8", newline="") as f:
        return {row["key"]: int(row["concept_id"]) for row in csv.DictReader(f)}


@dataclass(frozen=True, slots=True)
class Conventions:
    """The concept ids of one terminology, looked up once: the hot path only reads dicts."""

    ids: dict[str, int]
    type: int
    question: dict[str, int]
    element_of_question: dict[int, str]
    value: dict[tuple[str, str], int]
    """(element, code) → the OMOP concept its map writes (element maps, OMOP systems)."""
    codes_of: dict[tuple[str, int], tuple[str, ...]]
    """(element, concept) → the codes written as that concept: the derived reverse table."""
    modifier_of: dict[int, tuple[tuple[str, str], ...]]
    """measurement concept → the (element, code) pairs of `MODIFIERS` written as it."""
    unmatched: frozenset[tuple[str, str]]
    """codes whose map says, with a comment, that no OMOP concept exists."""
    icdo3: dict[tuple[str, str], int] = field(default_factory=dict)


@lru_cache(maxsize=8)
def conventions(terminology: Terminology) -> Conventions:
    """Build the lookup tables of one terminology service (cached per service)."""
    ids = read_conventions()
    question = {k.removeprefix("question."): v for k, v in ids.items() if k.startswith("question.")}
    value: dict[tuple[str, str], int] = {}
    unmatched: set[tuple[str, str]] = set()
    for name in (*MODIFIERS, *OBSERVED, *_PROCEDURE_CODED, *_PERSON_CODED):
        for code in element(name).codes:
            cid = terminology.omop_concept_id(name, code)
            if cid is not None:
                value[(name, code)] = cid
            elif terminology.unmatched(mds_system(name), code):
                unmatched.add((name, code))
    codes_of: dict[tuple[str, int], list[str]] = {}
    modifier_of: dict[int, list[tuple[str, str]]] = {}
    for (name, code), cid in value.items():
        codes_of.setdefault((name, cid), []).append(code)
        if name in MODIFIERS:
            modifier_of.setdefault(cid, []).append((name, code))
    return Conventions(
        ids=ids,
        type=ids["type"],
        question=question,
        element_of_question={v: k for k, v in question.items()},
        value=value,
        codes_of={k: tuple(v) for k, v in codes_of.items()},
        modifier_of={k: tuple(v) for k, v in modifier_of.items()},
        unmatched=frozenset(unmatched),
    )


def bundled_resolver(terminology: Terminology) -> Resolver:
    """The default resolver: the diagnosis map, then the bundled CONCEPT.csv by code."""
    by_code = {
        (c.vocabulary_id, c.concept_code): c.concept_id
        for c in terminology.data.concepts.values()
        if c.concept_code != "unverified"
    }

    def resolve(vocabulary_id: str, concept_code: str) -> int | None:
        if vocabulary_id == "ICDO3" and "-" in concept_code:
            morphology, _, site = concept_code.partition("-")
            found = terminology.condition_concept_id(morphology, site)
            if found is not None:
                return found
        return by_code.get((vocabulary_id, concept_code))

    return resolve


@dataclass(frozen=True, slots=True)
class Treatment:
    """A written procedure, for the rows that link to it and for its episode."""

    ref: Ref
    start: dt.date | None
    end: dt.date | None
    concept: int
    type: int
    """The type concept of rows dated at `start`: `type.derived` when the start is a bound."""


class Writer:
    """Rows of one record under construction, with the findings met on the way."""

    __slots__ = ("anchor", "anchor_type", "bounds", "c", "findings", "record", "rows",
                 "treatments")  # fmt: skip

    def __init__(self, record: MdsRecord, c: Conventions, anchor: dt.date | None,
                 bounds: dict[str, dt.date | None] | None = None) -> None:  # fmt: skip
        self.record = record
        self.c = c
        self.anchor = anchor
        self.anchor_type = c.type if record.diagnosis_date is not None else c.ids["type.derived"]
        """The type concept of rows dated at the anchor: derived when no diagnosis date."""
        self.bounds = bounds or {}
        """element → the date it is written at when the record lacks it (dates.bounds)."""
        self.rows: OmopRows = {}
        self.findings: list[Finding] = []
        self.treatments: dict[str, Treatment] = {}
        """biopsy / surgery / radiotherapy / systemic_therapy → its procedure, once written."""

    def add(self, table: str, row: dict[str, Any]) -> None:
        """Append a row; None (or a column left out) is NULL."""
        found = self.rows.get(table)
        if found is None:
            self.rows[table] = [row]
        else:
            found.append(row)

    def finding(self, code: str, level: Level, message: str, elements: tuple[str, ...],
                values: tuple[Any, ...]) -> None:  # fmt: skip
        self.findings.append(Finding(code, level, message, self.record.record_id, elements, values))

    def date_or_estimate(self, name: str, value: dt.date | None,
                         event: Ref | None = None) -> tuple[dt.date | None, int]:  # fmt: skip
        """The element's date and the type concept of rows at it: the recorded date (the
        registry's type), else its bound (dates.bounds; else the anchor), typed derived and
        marked by a `date_not_recorded` observation."""
        if value is not None:
            return value, self.c.type
        derived = self.c.ids["type.derived"]
        estimate = self.bounds.get(name) or self.anchor
        self.observe(
            "date_not_recorded", estimate, code=name, key=f"not-recorded/{name}", event=event,
            concept=self.c.ids["observation.date_not_recorded"], type_concept=derived,
        )  # fmt: skip
        return estimate, derived

    def event(self, key: str) -> tuple[Ref, dt.date | None, int]:
        """Where a modifier of treatment `key` links, its date and that date's type concept
        (else: the tumour, at the anchor)."""
        found = self.treatments.get(key)
        if found is not None:
            return found.ref, found.start, found.type
        return CONDITION, self.anchor, self.anchor_type

    def observe(
        self,
        name: str,
        date: dt.date | None,
        *,
        code: str | None = None,
        key: str | None = None,
        event: Ref | None = CONDITION,
        concept: int | None = None,
        type_concept: int | None = None,
        **values: Any,
    ) -> None:
        """One OBSERVATION: question `concept` (default: the element's), the code verbatim."""
        c = self.c
        field_concept = None
        if event is not None:
            field_concept = c.ids[f"field.{event.table}"]
        value_concept = c.value.get((name, code)) if code is not None else None
        self.add("observation", {
            "observation_id": Ref("observation", key or name),
            "person_id": PERSON,
            "observation_concept_id": concept if concept is not None else c.question[name],
            "observation_date": date,
            "observation_type_concept_id": type_concept if type_concept is not None else c.type,
            "value_as_concept_id": value_concept,
            "observation_source_value": name,
            "value_source_value": code,
            "observation_event_id": event,
            "obs_event_field_concept_id": field_concept,
            **values,
        })  # fmt: skip


def _date(value: Any) -> dt.date | None:
    """Dates as the store hands them back: date, datetime or ISO text (SQLite)."""
    if value is None or type(value) is dt.date:
        return value
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


class Reader:
    """Indexes over the rows of one record; relies only on equality of id values."""

    __slots__ = ("by_id", "c", "estimated", "events", "fields", "rows", "terminology")

    def __init__(self, rows: OmopRows, c: Conventions, terminology: Terminology) -> None:
        self.rows = rows
        self.c = c
        self.terminology = terminology
        self.fields: dict[str, Any] = {}
        self.events: dict[Any, list[tuple[int, Any]]] = {}
        for ee in rows.get("episode_event", ()):
            self.events.setdefault(ee["episode_id"], []).append(
                (ee["episode_event_field_concept_id"], ee["event_id"])
            )
        self.by_id: dict[tuple[str, Any], dict[str, Any]] = {}
        for name in ("procedure_occurrence", "condition_occurrence"):
            for row in rows.get(name, ()):
                self.by_id[(name, row[f"{name}_id"])] = row
        self.estimated = {
            o.get("value_source_value")
            for o in rows.get("observation", ())
            if o.get("observation_concept_id") == c.ids["observation.date_not_recorded"]
        }

    def table(self, name: str) -> Iterable[dict[str, Any]]:
        return self.rows.get(name, ())

    @staticmethod
    def date(value: Any) -> dt.date | None:
        return _date(value)

    def recorded(self, name: str, value: Any) -> dt.date | None:
        """A date element read back: None when the writer marked the date as estimated."""
        return None if name in self.estimated else _date(value)

    def code(self, name: str, source: Any, concept: Any) -> str | None:
        """The MDS code of a row: its source value, else the one code its concept stands for."""
        if source is not None:
            return str(source)
        if concept is None:
            return None
        codes = self.c.codes_of.get((name, int(concept)), ())
        return codes[0] if len(codes) == 1 else None

    def episodes(self, key: str) -> list[dict[str, Any]]:
        concept = self.c.ids[f"episode.{key}"]
        return [e for e in self.table("episode") if e.get("episode_concept_id") == concept]

    def procedure_of(self, episode: dict[str, Any]) -> dict[str, Any] | None:
        field_concept = self.c.ids["field.procedure_occurrence"]
        for f, event in self.events.get(episode["episode_id"], ()):
            if f == field_concept:
                row = self.by_id.get(("procedure_occurrence", event))
                if row is not None:
                    return row
        return None
