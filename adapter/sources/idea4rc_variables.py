"""Which IDEA4RC variable carries which MDS element, and concept ids ⇄ MDS codes.

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
table → MDS direction is exact. `variables.tsv` lists the IDEA4RC model's own variables and
their value lists, so a reader can tell a variable the MDS has no element for (reported, info)
from a typing error, and an IDEA4RC value no MDS code stands for (a warning) from a wrong id;
`diagnosis-codes.tsv` is IDEA4RC's diagnosis list, read when our map has no combination. A bad
row of mds-variables.csv is a SourceError (nothing can be read or written without the table).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from adapter.errors import SourceError
from adapter.mds.dictionary import Element, element, terminology_dir
from adapter.terminology import Terminology, mds_system
from adapter.terminology.maps import MDS_CODESYSTEM_BASE
from adapter.terminology.service import ICDO3_CONDITION_MAP

__all__ = [
    "LOCAL_ENTITY",
    "Concepts",
    "Kind",
    "Variable",
    "idea4rc_diagnoses",
    "idea4rc_values",
    "idea4rc_variables",
    "is_mds_variable",
    "local_types",
    "mds_variables",
    "variables_by_name",
    "written_variables",
]

LOCAL_ENTITY = "MdsRecord"
Kind = Literal["concept", "value", "year", "flag", "condition"]
_KINDS = ("concept", "value", "year", "flag", "condition")
_EXACT = ("equal", "equivalent", "narrower", "specializes")
_LOCAL_TYPES = {"date": "Date", "integer": "Integer", "decimal": "Float"}


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


@cache
def written_variables() -> Mapping[str, tuple[Variable, ...]]:
    """Element → the variables it is written in (direction `both`), in file order."""
    out: dict[str, list[Variable]] = {}
    for v in mds_variables():
        if v.written:
            out.setdefault(v.element.name, []).append(v)
    return {k: tuple(vs) for k, vs in out.items()}


@cache
def variables_by_name() -> Mapping[str, tuple[int, Variable]]:
    """IDEA4RC variable → (reading priority, its row)."""
    out: dict[str, tuple[int, Variable]] = {}
    for priority, v in enumerate(mds_variables()):
        out.setdefault(v.core_variable, (priority, v))
    return out


def is_mds_variable(core_variable: str) -> bool:
    """Is this a variable the reader turns into an MDS element (mapped or adapter-local)?"""
    return core_variable in variables_by_name() or core_variable.startswith(LOCAL_ENTITY + ".")
