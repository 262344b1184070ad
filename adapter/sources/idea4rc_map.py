"""Which IDEA4RC variable carries which MDS element, and the values in between.

The table is data (terminology/idea4rc/mds-variables.csv, docs/adr/0005-idea4rc-table.md):
one row per (element, IDEA4RC `core_variable`) with a kind saying how the value travels:

    concept    an MDS code as the OMOP concept id of its terminology map (Patient.sex = 8532)
    value      a number, date or text as written (Diagnosis.tumorSize = 11.5)
    year       the year of the birth date (Patient.birthYear = 1961)
    flag       one code of a code list as a Boolean variable (ClinicalStage.lung = true)
    condition  histology + topography as one ICDO3 condition concept (Diagnosis.diagnosisCode)

`direction` is `both` (written and read) or `read` (accepted when reading, e.g. the
pathological T when there is no clinical one). Concepts go through the terminology service, so
no id is written here; a code is written as a concept only when that concept reads back to the
same code (a concept shared by several codes, like the AJCC stage sub-groups, would not).

Everything an IDEA4RC variable cannot carry goes to the adapter-local entity `MdsRecord`, one
variable per element with the MDS value as written (`MdsRecord.laterality = left`), so the
table → MDS direction is exact. `variables.tsv` lists the IDEA4RC model's own variables, so a
reader can tell a variable the MDS has no element for (reported, info) from a typing error.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from adapter.errors import SourceError
from adapter.mds.dictionary import Element, element, elements, terminology_dir
from adapter.mds.record import MdsRecord
from adapter.sources.forms import from_text, to_text
from adapter.terminology import Terminology, mds_system
from adapter.terminology.maps import MDS_CODESYSTEM_BASE
from adapter.terminology.service import ICDO3_CONDITION_MAP

__all__ = [
    "LOCAL_ENTITY",
    "Concepts",
    "Fact",
    "Kind",
    "Origin",
    "Problem",
    "Read",
    "Variable",
    "from_facts",
    "idea4rc_diagnoses",
    "idea4rc_values",
    "idea4rc_variables",
    "is_mds_variable",
    "local_types",
    "mds_variables",
    "to_facts",
]

LOCAL_ENTITY = "MdsRecord"
Kind = Literal["concept", "value", "year", "flag", "condition"]
_KINDS = ("concept", "value", "year", "flag", "condition")
_EXACT = ("equal", "equivalent", "narrower", "specializes")
_LOCAL_TYPES = {"date": "Date", "integer": "Integer", "decimal": "Float"}
_WHOLE_FLOAT = re.compile(r"^[+-]?\d+\.0*$")
_YEAR = re.compile(r"^\d{4}$")
_BOOLEANS = {"true": True, "false": False}


@dataclass(frozen=True, slots=True)
class Variable:
    """One row of mds-variables.csv: an MDS element (or one of its codes) as an IDEA4RC variable."""

    element: Element
    code: str  # flag: the code-list code this Boolean stands for
    core_variable: str
    kind: Kind
    written: bool  # direction `both`
    types: str  # the IDEA4RC data type (Code, Date, Float, ...)

    @property
    def entity(self) -> str:
        return self.core_variable.split(".", 1)[0]


def _folder() -> Path:
    return terminology_dir() / "idea4rc"


@cache
def idea4rc_variables() -> Mapping[str, str]:
    """Every variable of the IDEA4RC data model V2 → its data type (variables.tsv)."""
    return {name: types for name, (types, _) in _model().items()}


@cache
def _model() -> Mapping[str, tuple[str, frozenset[str]]]:
    with (_folder() / "variables.tsv").open(encoding="utf-8", newline="") as f:
        return {
            r["core_variable"]: (r["types"], frozenset(r["concept_ids"].split()))
            for r in csv.DictReader(f, delimiter="\t")
        }


def idea4rc_values(core_variable: str) -> frozenset[str]:
    """The concept ids the IDEA4RC model lists for a variable (its `Vocabulary` cell)."""
    return _model().get(core_variable, ("", frozenset()))[1]


@cache
def idea4rc_diagnoses() -> Mapping[str, str]:
    """IDEA4RC's diagnosis list (HNC and sarcoma ICDO3 conditions): concept id →
    `morph/beh-topo` (diagnosis-codes.tsv)."""
    with (_folder() / "diagnosis-codes.tsv").open(encoding="utf-8", newline="") as f:
        return {r["concept_id"]: r["code"] for r in csv.DictReader(f, delimiter="\t")}


@cache
def mds_variables() -> tuple[Variable, ...]:
    """The rows of mds-variables.csv, in file order (which is the reading priority)."""
    model = idea4rc_variables()
    out: list[Variable] = []
    with (_folder() / "mds-variables.csv").open(encoding="utf-8", newline="") as f:
        for line, r in enumerate(csv.DictReader(f), start=2):
            if r["kind"] not in _KINDS or r["direction"] not in ("both", "read"):
                raise SourceError(f"mds-variables.csv line {line}: bad kind or direction")
            if r["core_variable"] not in model:
                raise SourceError(f"mds-variables.csv line {line}: not an IDEA4RC variable")
            out.append(
                Variable(
                    element(r["element"]), r["code"], r["core_variable"], r["kind"],  # type: ignore[arg-type]
                    r["direction"] == "both", model[r["core_variable"]],
                )
            )  # fmt: skip
    return tuple(out)


def local_types(e: Element) -> str:
    """The `types` cell of an adapter-local MdsRecord variable (codes are MDS codes: String)."""
    return _LOCAL_TYPES.get(e.type, "String")


class Concepts:
    """MDS code ⇄ OMOP concept id through the terminology maps, for one reader or writer.

    A concept reads back to a code when exactly one code maps to it closely (equivalent or
    narrower), or when only one code maps to it at all; a code is written as a concept only
    when the concept reads back to it, which is what makes the round trip exact.
    """

    def __init__(self, terminology: Terminology) -> None:
        self.t = terminology
        self.systems = tuple(u for u, s in terminology.data.systems.items() if s.kind == "omop")
        self._written: dict[tuple[str, str], int | None] = {}
        self._read: dict[tuple[str, str], str | None] = {}

    def code(self, e: Element, concept: str) -> str | None:
        """The MDS code a concept id reads back as, or None (unknown or ambiguous)."""
        key = (e.name, concept)
        if key not in self._read:
            self._read[key] = self._code(mds_system(e.name), concept)
        return self._read[key]

    def _code(self, system: str, concept: str) -> str | None:
        exact: set[str] = set()
        loose: set[str] = set()
        for omop in self.systems:
            for t in self.t.translate(omop, concept, system, reverse=True):
                (exact if t.equivalence in _EXACT else loose).add(t.code)
        for found in (exact, exact | loose):
            if len(found) == 1:
                return found.pop()
        return None

    def concept(self, e: Element, code: str) -> int | None:
        """The concept id an MDS code is written as, when it reads back to the same code."""
        key = (e.name, code)
        if key not in self._written:
            self._written[key] = None
            for t in self.t.translate(mds_system(e.name), code):
                if t.system in self.systems and t.omop_concept_id is not None:
                    ok = self.code(e, str(t.omop_concept_id)) == code
                    self._written[key] = t.omop_concept_id if ok else None
                    break
        return self._written[key]

    def condition(self, histology: str, site: str) -> int | None:
        """The ICDO3 condition concept of a morphology and topography, when it reads back."""
        concept = self.t.condition_concept_id(histology, site)
        if concept is None or self.sites(str(concept)) != (histology, site):
            return None
        return concept

    def sites(self, concept: str) -> tuple[str, str] | None:
        """(histology, topography) of an ICDO3 condition concept id, or None: from the
        icdo3-condition map, else (reading only) from IDEA4RC's own diagnosis list, whose
        other sites and H&N histologies the eligibility rules then judge."""
        codes = self._code(MDS_CODESYSTEM_BASE + ICDO3_CONDITION_MAP, concept)
        codes = codes or idea4rc_diagnoses().get(concept)
        if codes is None or "-" not in codes:
            return None
        histology, site = codes.split("-", 1)
        return histology, site


@dataclass(frozen=True, slots=True)
class Fact:
    """One value of one entity: a row of the table without its ids."""

    entity: str
    core_variable: str
    value: str
    types: str


@dataclass(frozen=True, slots=True)
class Problem:
    """A row that cannot be read: its number, variable, the element it was for and why."""

    row: int
    variable: str
    element: str
    value: str
    text: str


Origin = tuple[int, str, str]  # row number, variable, value as written


@cache
def _written() -> Mapping[str, tuple[Variable, ...]]:
    out: dict[str, list[Variable]] = {}
    for v in mds_variables():
        if v.written:
            out.setdefault(v.element.name, []).append(v)
    return {k: tuple(vs) for k, vs in out.items()}


@cache
def _by_variable() -> Mapping[str, tuple[int, Variable]]:
    out: dict[str, tuple[int, Variable]] = {}
    for priority, v in enumerate(mds_variables()):
        out.setdefault(v.core_variable, (priority, v))
    return out


def is_mds_variable(core_variable: str) -> bool:
    """Is this a variable the reader turns into an MDS element (mapped or adapter-local)?"""
    return core_variable in _by_variable() or core_variable.startswith(LOCAL_ENTITY + ".")


def _local(e: Element, value: Any) -> Fact:
    return Fact(LOCAL_ENTITY, f"{LOCAL_ENTITY}.{e.name}", to_text(value), local_types(e))


def _mapped(e: Element, value: Any, concepts: Concepts) -> list[Fact] | None:
    """The facts of one element's value, or None when its IDEA4RC variables cannot carry it."""
    chosen = _written().get(e.name, ())
    kind = chosen[0].kind if chosen else None
    if kind == "concept":
        concept = concepts.concept(e, value)
        texts = [str(concept)] if concept is not None else []
    elif kind == "value":
        texts = [to_text(value)]
    elif kind == "year":
        texts = [value[:4]]
    elif kind == "flag":
        by_code = {v.code: v for v in chosen}
        if not all(code in by_code for code in value):
            return None
        return [Fact(by_code[c].entity, by_code[c].core_variable, "true", "Boolean") for c in value]
    else:
        return None
    return [Fact(v.entity, v.core_variable, t, v.types) for v in chosen for t in texts] or None


def to_facts(record: MdsRecord, concepts: Concepts) -> list[Fact]:
    """Every element of a record as IDEA4RC facts, and the rest as MdsRecord facts."""
    facts: list[Fact] = []
    local: list[Fact] = []
    histology, site = record.histology_icdo3, record.primary_site_icdo3
    condition = concepts.condition(histology, site) if histology and site else None
    for e in elements():
        value = getattr(record, e.name)
        if value is None or e.name == "record_id":
            continue
        if e.name in ("histology_icdo3", "primary_site_icdo3"):
            if condition is None:
                local.append(_local(e, value))
            elif e.name == "histology_icdo3":
                v = _written()[e.name][0]
                facts.append(Fact(v.entity, v.core_variable, str(condition), v.types))
            continue
        found = _mapped(e, value, concepts)
        facts.extend(found or ())
        if found is None or (e.type == "partial_date" and len(value) > 4):
            local.append(_local(e, value))
    return facts + local


def _number(e: Element, text: str) -> Any:
    """A cell as the JSON value of its element; an IDEA4RC Float like 25.0 for an integer."""
    if e.type == "integer" and _WHOLE_FLOAT.match(text):
        return int(text.split(".", 1)[0])
    return from_text(e, text)


def _parse(v: Variable, text: str, concepts: Concepts) -> dict[str, Any] | str | None:
    """Element → value for one mapped row, the reason it cannot be read, or None for a value
    the IDEA4RC model lists that no MDS code stands for (reported, not an error)."""
    e = v.element
    if v.kind == "value":
        return {e.name: _number(e, text)}
    if v.kind == "year":
        return {e.name: text} if _YEAR.match(text) else "expected a year YYYY"
    if v.kind == "flag":
        if text.lower() not in _BOOLEANS:
            return "expected true or false"
        return {e.name: [v.code] if _BOOLEANS[text.lower()] else []}
    if not text.isdigit():
        return "expected an OMOP concept id (a whole number)"
    if v.kind == "condition":
        sites = concepts.sites(text)
        if sites is None:
            return f"concept {text} is not an ICDO3 condition of the icdo3-condition map"
        return {"histology_icdo3": sites[0], "primary_site_icdo3": sites[1]}
    code = concepts.code(e, text)
    if code is None and text in idea4rc_values(v.core_variable):
        return None
    if code is None:
        return f"concept {text} is not a {e.name} concept of the terminology maps"
    return {e.name: code}


@dataclass(frozen=True, slots=True)
class Read:
    """What the rows of one record give: the record's JSON data, where each element came
    from, the rows that reject it, and the IDEA4RC values no MDS code stands for."""

    data: dict[str, Any]
    origin: dict[str, Origin]
    problems: list[Problem]
    unread: list[tuple[str, str, str]]  # (variable, value, element)


def from_facts(rows: Iterable[Origin], concepts: Concepts) -> Read:
    """Read the (row, variable, value) rows of one record; unmapped variables must be left
    out (see `is_mds_variable`)."""
    found: dict[str, tuple[int, Any]] = {}  # element → (priority, value)
    origin: dict[str, Origin] = {}
    local: dict[str, Any] = {}
    flags: dict[str, list[str]] = {}
    problems: list[Problem] = []
    unread: list[tuple[str, str, str]] = []
    names = {e.name for e in elements()}
    for number, variable, text in rows:
        if variable.startswith(LOCAL_ENTITY + "."):
            name = variable.split(".", 1)[1]
            if name == "record_id":
                continue
            if name not in names:
                problems.append(Problem(number, variable, name, text, "not an MDS element"))
            elif name in local:
                problems.append(Problem(number, variable, name, text, _twice(origin[name])))
            else:
                local[name], origin[name] = _number(element(name), text), (number, variable, text)
            continue
        priority, v = _by_variable()[variable]
        parsed = _parse(v, text, concepts)
        if parsed is None:
            unread.append((variable, text, v.element.name))
            continue
        if isinstance(parsed, str):
            problems.append(Problem(number, variable, v.element.name, text, parsed))
            continue
        if v.kind == "flag":
            codes = flags.setdefault(v.element.name, [])
            codes.extend(c for c in parsed[v.element.name] if c not in codes)
            origin.setdefault(v.element.name, (number, variable, text))
            continue
        for name, value in parsed.items():
            held = found.get(name)
            if held is not None and held[0] == priority:
                problems.append(Problem(number, variable, name, text, _twice(origin[name])))
            elif held is None or priority < held[0]:
                found[name], origin[name] = (priority, value), (number, variable, text)
    data = {name: value for name, (_, value) in found.items()}
    data.update({name: codes for name, codes in flags.items() if codes})
    data.update(local)
    return Read(data, origin, problems, unread)


def _twice(first: Origin) -> str:
    return f"given twice (first in row {first[0]})"
