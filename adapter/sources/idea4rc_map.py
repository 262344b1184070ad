"""MDS record ⇄ IDEA4RC facts (entity, variable, value): the two directions of the table.

`to_facts` turns a record into the values of its IDEA4RC instances, through the variable table
and the concepts of adapter/sources/idea4rc_variables.py, and everything IDEA4RC cannot carry
into adapter-local `MdsRecord.<element>` facts; `from_facts` reads one record's rows back, with
where each element came from (for error messages), the rows that reject the record, and the
IDEA4RC values no MDS code stands for. Row order and the entity tree are the table module's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from adapter.mds.dictionary import Element, element, elements
from adapter.mds.record import MdsRecord
from adapter.sources.forms import from_text, to_text
from adapter.sources.idea4rc_variables import (
    LOCAL_ENTITY,
    Concepts,
    Variable,
    idea4rc_values,
    local_types,
    variables_by_name,
    written_variables,
)

__all__ = ["Fact", "Origin", "Problem", "Read", "from_facts", "to_facts"]

_WHOLE_FLOAT = re.compile(r"^[+-]?\d+\.0*$")
_YEAR = re.compile(r"^\d{4}$")
_BOOLEANS = {"true": True, "false": False}


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


def _local(e: Element, value: Any) -> Fact:
    return Fact(LOCAL_ENTITY, f"{LOCAL_ENTITY}.{e.name}", to_text(value), local_types(e))


def _mapped(e: Element, value: Any, concepts: Concepts) -> list[Fact] | None:
    """The facts of one element's value, or None when its IDEA4RC variables cannot carry it."""
    chosen = written_variables().get(e.name, ())
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
                v = written_variables()[e.name][0]
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
        priority, v = variables_by_name()[variable]
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
