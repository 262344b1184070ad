"""The IDEA4RC normalised table: one row per value, entity trees, coded values as concept ids.

Layout (../shared/idea4rc/idea4rc-omop-notes.md 2.1): a semicolon-separated CSV with the
columns `patient_id;original_source;core_variable;date_ref;value;record_id;linked_to;quality;
types`. `core_variable` is `Entity.property` of the IDEA4RC data model V2, `record_id` names an
entity instance (all values of one Surgery share it) and `linked_to` its parent's record_id.
Which element travels in which variable is data (adapter/sources/idea4rc_variables.py,
docs/adr/0005-idea4rc-table.md).

Writing: one MDS record is one `patient_id` (the record_id) with the instances Patient,
HospitalData, CancerEpisode → Diagnosis → ClinicalStage, Surgery, Radiotherapy,
SystemicTreatment, PatientFollowUp and the adapter-local MdsRecord, each written only when it
has a value, linked to its nearest written ancestor; record_ids count up through the file.

Reading is streamed and relies on one ordering: **the rows of one patient_id are adjacent**
(any order inside the block; `linked_to` may point forward). Memory is one record's rows plus
the set of patient ids seen. When a patient_id comes back after another one's rows, that later
block is rejected with an error saying so (sort the file by patient_id); the earlier block was
already read as a record. Inside a block, a `linked_to` naming no record_id of the block, an
unknown concept id, a bad date or number rejects the record with one error naming the record,
rows, variables and values; the other records are kept. A second instance of an entity the MDS
holds once (a second Surgery) is ignored with a warning. IDEA4RC variables with no MDS element
are counted and reported once per variable at the end (info, not an error); a concept the
IDEA4RC model lists for a variable but no single MDS code stands for (a trunk site, a 6th
edition M0) is counted once per variable and value (a warning: that element stays empty);
variables that are not in the IDEA4RC model at all are reported once each as warnings.
`original_source`, `date_ref`, `quality` and `types` are written for IDEA4RC and ignored when
reading.
"""

from __future__ import annotations

import csv
import difflib
import itertools
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO

import orjson
from pydantic import ValidationError

from adapter.errors import Finding, Level, SourceError
from adapter.mds.record import MdsRecord
from adapter.sources.cells import guard, unguard
from adapter.sources.idea4rc_map import Fact, Origin, Problem, from_facts, to_facts
from adapter.sources.idea4rc_variables import (
    LOCAL_ENTITY,
    Concepts,
    idea4rc_variables,
    is_mds_variable,
)
from adapter.sources.problems import element_problems, show_value
from adapter.terminology import Terminology

__all__ = ["COLUMNS", "SOURCE", "is_idea4rc_header", "read_idea4rc_table", "write_idea4rc_table"]

COLUMNS = ("patient_id", "original_source", "core_variable", "date_ref", "value", "record_id",
           "linked_to", "quality", "types")  # fmt: skip
SOURCE = "mds-adapter"  # original_source of what we write
_NEEDED = ("patient_id", "core_variable", "value", "record_id", "linked_to")
# entity → parent, in writing order (IDEA4RC: Diagnosis → CancerEpisode → Patient, ...)
_PARENT: dict[str, str | None] = {
    "Patient": None, "HospitalData": "Patient", "CancerEpisode": "Patient",
    "Diagnosis": "CancerEpisode", "ClinicalStage": "Diagnosis", "Surgery": "Diagnosis",
    "Radiotherapy": "Diagnosis", "SystemicTreatment": "Diagnosis",
    "PatientFollowUp": "Patient", LOCAL_ENTITY: "Patient",
}  # fmt: skip


def _order(entity: str) -> int:
    return list(_PARENT).index(entity) if entity in _PARENT else len(_PARENT)


def is_idea4rc_header(line: str) -> bool:
    """Is this first line the header of a normalised table (used to guess a .csv's format)?"""
    names = {h.strip().strip('"').removeprefix("\ufeff") for h in line.strip().split(";")}
    return set(_NEEDED) <= names


# --- writing ----------------------------------------------------------------------------------


def write_idea4rc_table(
    records: Iterable[MdsRecord], out: IO[str], terminology: Terminology | None = None
) -> int:
    """Write records as a normalised table (text stream opened with newline=""); returns how
    many."""
    concepts = Concepts(terminology or Terminology.load())
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(COLUMNS)
    next_id = count = 0
    for record in records:
        facts = to_facts(record, concepts) or [
            Fact(LOCAL_ENTITY, f"{LOCAL_ENTITY}.record_id", record.record_id, "String")
        ]  # a record with nothing but its id still has a row
        by_entity: dict[str, list[Fact]] = {}
        for fact in facts:
            by_entity.setdefault(fact.entity, []).append(fact)
        ids: dict[str, str] = {}
        for entity in sorted(by_entity, key=_order):
            next_id += 1
            ids[entity] = str(next_id)
            parent = _PARENT.get(entity, "Patient")  # an entity added to the table later
            while parent is not None and parent not in ids:
                parent = _PARENT[parent]
            linked = ids[parent] if parent is not None else ""
            group = by_entity[entity]
            date_ref = next((f.value for f in group if f.types == "Date"), "")
            date_ref = "" if entity in ("Patient", LOCAL_ENTITY) else date_ref
            for f in group:
                writer.writerow([guard(c) for c in (record.record_id, SOURCE, f.core_variable,
                                 date_ref, f.value, ids[entity], linked, "", f.types)])  # fmt: skip
        count += 1
    return count


# --- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Row:
    number: int
    patient_id: str
    variable: str
    value: str
    record_id: str
    linked_to: str

    @property
    def entity(self) -> str:
        return self.variable.split(".", 1)[0]


class _Reader:
    """The state of one pass over a table: concepts, patients seen, variables counted."""

    def __init__(self, terminology: Terminology) -> None:
        self.concepts = Concepts(terminology)
        self.seen: set[str] = set()
        self.no_element: Counter[str] = Counter()
        self.unknown: Counter[str] = Counter()
        self.unread: Counter[tuple[str, str, str]] = Counter()

    def block(self, rows: list[_Row]) -> Iterator[MdsRecord | Finding]:
        """The record (or the finding rejecting it) of one patient_id's adjacent rows."""
        pid, span = rows[0].patient_id, _span(rows)
        if pid in self.seen:
            yield _error(pid, span, f"rows of {pid} come after another patient's rows: the rows "
                         "of one patient_id must be adjacent (sort the file by patient_id); "
                         "these rows are left out", rows)  # fmt: skip
            return
        self.seen.add(pid)
        ids = {r.record_id for r in rows}
        dangling: dict[str, list[_Row]] = {}
        for r in rows:
            if r.linked_to and r.linked_to not in ids:
                dangling.setdefault(r.linked_to, []).append(r)
        problems = [  # one per parent that is not there, however many rows point at it
            Problem(found[0].number, found[0].variable, "linked_to", link,
                    f"linked_to {link} names no record_id of {pid}"
                    + (f" ({len(found)} rows)" if len(found) > 1 else ""))
            for link, found in dangling.items()
        ]  # fmt: skip
        problems += [Problem(r.number, r.variable, "record_id", "", "no record_id")
                     for r in rows if not r.record_id]  # fmt: skip
        first: dict[str, str] = {}
        extra: dict[str, list[str]] = {}
        facts: list[Origin] = []
        for r in rows:
            if not is_mds_variable(r.variable):
                self._count(r)
                continue
            held = first.setdefault(r.entity, r.record_id)
            if held != r.record_id:
                if r.record_id not in extra.setdefault(r.entity, []):
                    extra[r.entity].append(r.record_id)
            elif r.value:
                facts.append((r.number, r.variable, r.value))
        read = from_facts(facts, self.concepts)
        problems += read.problems
        self.unread.update(read.unread)
        for entity, others in extra.items():
            yield Finding(
                code="source.idea4rc-extra-instance",
                level=Level.WARNING,
                message=f"{len(others) + 1} {entity} instances (record_id {first[entity]}, "
                f"{', '.join(others)}): the MDS holds one; record_id {', '.join(others)} "
                "ignored",
                record_id=pid,
                location=span,
            )
        yield self._record(pid, read.data, read.origin, problems, rows)

    def _count(self, r: _Row) -> None:
        types = idea4rc_variables().get(r.variable)
        if types is None:
            self.unknown[r.variable] += 1
        elif types != "ElementReference":  # the tree itself is in linked_to
            self.no_element[r.variable] += 1

    def _record(self, pid: str, data: dict[str, object], origin: dict[str, Origin],
                problems: list[Problem], rows: list[_Row]) -> MdsRecord | Finding:  # fmt: skip
        raw = orjson.dumps({"record_id": pid, **data})
        if not problems:
            try:
                return MdsRecord.model_validate_json(raw)
            except ValidationError as exc:
                problems = [_model_problem(p, origin) for p in element_problems(exc)]
        return _rejected(pid, problems, rows)

    def report(self) -> Iterator[Finding]:
        """Once per variable: IDEA4RC variables without an MDS element; once per variable and
        value: IDEA4RC values no MDS code stands for; then variables outside the model."""
        for variable, n in self.no_element.items():
            yield Finding(
                code="source.idea4rc-no-mds-element",
                level=Level.INFO,
                message=f"an IDEA4RC variable with no MDS element: {n} value{'s' * (n != 1)} "
                "not read",
                elements=(variable,),
                values=(n,),
                location=f"variable {variable}",
            )
        for (variable, value, element), n in self.unread.items():
            yield Finding(
                code="source.idea4rc-value-not-read",
                level=Level.WARNING,
                message=f"{value} is an IDEA4RC value with no single {element} code in the "
                f"terminology maps: {n} value{'s' * (n != 1)} not read",
                elements=(variable,),
                values=(value, n),
                location=f"variable {variable}",
            )
        for variable, n in self.unknown.items():
            close = difflib.get_close_matches(variable, list(idea4rc_variables()), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            yield Finding(
                code="source.unknown-variable",
                level=Level.WARNING,
                message=f"not a variable of the IDEA4RC data model V2{hint}: {n} "
                f"value{'s' * (n != 1)} ignored",
                elements=(variable,),
                values=(n,),
                location=f"variable {variable}",
            )


def _span(rows: list[_Row]) -> str:
    first, last = rows[0].number, rows[-1].number
    return f"row {first}" if first == last else f"rows {first}-{last}"


def _model_problem(problem: tuple[str, str, object], origin: dict[str, Origin]) -> Problem:
    """A record-model error worded with the row and variable its element came from."""
    name, text, value = problem
    if name not in origin:
        return Problem(0, "", name, show_value(value), text)
    number, variable, written = origin[name]
    prefix = f"{name} = {show_value(value)}: "
    detail = text.removeprefix(prefix) if text.startswith(prefix) else text
    return Problem(number, variable, name, written, f"({name}): {detail}")


def _rejected(pid: str, problems: list[Problem], rows: list[_Row]) -> Finding:
    numbers = sorted({p.row for p in problems if p.row})
    variables = list(dict.fromkeys(p.variable for p in problems if p.variable))
    where = [f"row{'s' * (len(numbers) > 1)} {', '.join(map(str, numbers))}"] if numbers else []
    if variables:
        where.append(f"variable{'s' * (len(variables) > 1)} {', '.join(variables)}")
    texts = [_text(p) for p in problems]
    return Finding(
        code="mds.invalid-record",
        level=Level.ERROR,
        message="; ".join(texts),
        record_id=pid,
        elements=tuple(p.element or p.variable for p in problems),
        values=tuple(p.value for p in problems),
        location=", ".join(where) or _span(rows),
        raw=_raw(rows),
    )


def _text(p: Problem) -> str:
    if not p.variable:
        return p.text
    if p.element in ("linked_to", "record_id"):  # about the row, not its value
        return f"{p.variable}: {p.text}"
    sep = " " if p.text.startswith("(") else ": "
    return f"{p.variable} = {show_value(p.value)}{sep}{p.text}"


def _error(pid: str, location: str, message: str, rows: list[_Row]) -> Finding:
    return Finding("source.idea4rc-not-adjacent", Level.ERROR, message, pid or None,
                   location=location, raw=_raw(rows))  # fmt: skip


def _raw(rows: list[_Row]) -> str:
    """The rejected rows, kept for the quarantine."""
    return orjson.dumps(
        [[r.patient_id, r.variable, r.value, r.record_id, r.linked_to] for r in rows]
    ).decode()


def read_idea4rc_table(
    f: IO[str], terminology: Terminology | None = None
) -> Iterator[MdsRecord | Finding]:
    """Records and findings from a normalised table opened in text mode with newline=""."""
    first = f.readline()
    delimiter = ";" if ";" in first else "\t" if "\t" in first else ","
    reader = csv.reader(itertools.chain([first], f), delimiter=delimiter)
    header = [h.strip().removeprefix("\ufeff") for h in next(reader, [])]
    missing = [c for c in _NEEDED if c not in header]
    if missing:
        raise SourceError(
            f"not an IDEA4RC normalised table: no column {', '.join(missing)} "
            f"(expected the header {';'.join(COLUMNS)})"
        )
    at = [header.index(c) for c in _NEEDED]
    state = _Reader(terminology or Terminology.load())
    block: list[_Row] = []
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        got = [unguard(cells[i].strip()) if i < len(cells) else "" for i in at]
        row = _Row(number, *got)
        if block and row.patient_id != block[0].patient_id:
            yield from state.block(block)
            block = []
        block.append(row)
    if block:
        yield from state.block(block)
    yield from state.report()
