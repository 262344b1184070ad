"""The terminology service: translate, lookup and validate-code over terminology/, in process.

The FHIR and OMOP spokes take a `Terminology` as an argument and ask it for every code, so no
concept id is written in Python. `Terminology.load()` is cached per directory and map versions:
editing a map and bumping its version in the manifest gives a fresh service; runs record
`versions` (CDM_SOURCE, the run log) so output can be traced to the maps that produced it.

The operations follow FHIR's $translate, $lookup and $validate-code, so the HTTP layer can be a
thin wrapper:

- translate(system, code, target_system) → the written mappings (direction `both`);
  reverse=True reads a target code back to source codes (`both` and `read` rows).
- lookup(system, code) → display and properties (OMOP concept attributes, MDS element).
- validate_code(value_set, system, code) → is the coding in the element's value set, which
  holds the element's local codes and every target code its map accepts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from adapter.mds.dictionary import Element, elements, terminology_dir
from adapter.terminology.maps import (
    MDS_CODESYSTEM_BASE,
    MDS_VALUESET_BASE,
    MapRow,
    TerminologyData,
    load,
    mds_system,
    read_manifest,
)

__all__ = ["Lookup", "Terminology", "Translation", "Validation"]

ICDO3_CONDITION_MAP = "icdo3-condition"
# Prefer the closest meaning when several written targets exist for one source code.
_RANK = {"equal": 0, "equivalent": 0, "narrower": 1, "specializes": 1, "wider": 2, "subsumes": 2}


@dataclass(frozen=True, slots=True)
class Translation:
    """One match of $translate: the code found, its equivalence, and the row it came from."""

    system: str
    code: str
    display: str
    equivalence: str
    omop_concept_id: int | None
    map: str
    comment: str
    source: str  # location of the map row, for reports


@dataclass(frozen=True, slots=True)
class Lookup:
    system: str
    code: str
    display: str
    properties: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Validation:
    result: bool
    message: str
    display: str = ""


def _forward(row: MapRow) -> Translation:
    return Translation(
        row.target_system, row.target_code, row.target_display, row.equivalence,
        row.omop_concept_id, row.map, row.comment, row.location,
    )  # fmt: skip


def _backward(row: MapRow) -> Translation:
    return Translation(
        row.source_system, row.source_code, row.source_code, row.equivalence,
        row.omop_concept_id, row.map, row.comment, row.location,
    )  # fmt: skip


class Terminology:
    """Indexes over one loaded terminology/ folder; build it with `Terminology.load()`."""

    def __init__(self, data: TerminologyData) -> None:
        self.data = data
        self._by_source: dict[tuple[str, str], list[MapRow]] = defaultdict(list)
        self._by_target: dict[tuple[str, str], list[MapRow]] = defaultdict(list)
        for row in data.rows:
            if row.direction == "both":
                self._by_source[(row.source_system, row.source_code)].append(row)
            if row.matched:
                self._by_target[(row.target_system, row.target_code)].append(row)
        self._omop_systems = frozenset(u for u, s in data.systems.items() if s.kind == "omop")
        self._elements: dict[str, Element] = {mds_system(e.name): e for e in elements()}
        self._translated: dict[tuple[str, str, str | None, bool], tuple[Translation, ...]] = {}

    @classmethod
    def load(cls, directory: Path | None = None) -> Terminology:
        """The service for a folder (default: terminology/), cached per map versions."""
        root = (directory or terminology_dir()).resolve()
        versions = tuple((m.name, m.version) for m in read_manifest(root))
        return _cached(root, versions)

    @property
    def versions(self) -> dict[str, str]:
        """Map name → version, for run records and CDM_SOURCE."""
        return self.data.versions

    # --- $translate ---------------------------------------------------------------------------

    def translate(
        self, system: str, code: str, target_system: str | None = None, *, reverse: bool = False
    ) -> tuple[Translation, ...]:
        """Matches for one coding, closest meaning first; unmatched rows are not matches.

        Answers are kept (the maps do not change once loaded): the mapping asks ~30 times a
        record, mostly the same few hundred codes. The memo is emptied past 65,536 keys."""
        key = (system, code, target_system, reverse)
        found = self._translated.get(key)
        if found is None:
            found = self._translate(system, code, target_system, reverse=reverse)
            if len(self._translated) >= 65_536:
                self._translated.clear()
            self._translated[key] = found
        return found

    def _translate(
        self, system: str, code: str, target_system: str | None, *, reverse: bool
    ) -> tuple[Translation, ...]:
        if reverse:
            rows = [r for r in self._by_target.get((system, code), []) if r.matched]
            if target_system is not None:
                rows = [r for r in rows if r.source_system == target_system]
            rows.sort(key=lambda r: (r.direction != "both", _RANK.get(r.equivalence, 3)))
            return tuple(_backward(r) for r in rows)
        rows = [r for r in self._by_source.get((system, code), []) if r.matched]
        if target_system is not None:
            rows = [r for r in rows if r.target_system == target_system]
        rows.sort(key=lambda r: _RANK.get(r.equivalence, 3))
        return tuple(_forward(r) for r in rows)

    def unmatched(self, system: str, code: str) -> tuple[MapRow, ...]:
        """The explicit `unmatched` rows of a code: why a target has nothing for it."""
        return tuple(r for r in self._by_source.get((system, code), []) if not r.matched)

    def wont_map(self, system: str, code: str) -> bool:
        """Does the map decide, with an `unmatched` row for the OMOP target, that the code has
        no OMOP concept (a "won't map" decision, its reason in the comment)?"""
        return any(r.target_system in self._omop_systems for r in self.unmatched(system, code))

    def omop_concept_id(self, element: str, code: str) -> int | None:
        """The OMOP concept an MDS code is written as, or None when the map says unmatched."""
        for t in self.translate(mds_system(element), code):
            if t.system in self._omop_systems and t.omop_concept_id is not None:
                return t.omop_concept_id
        return None

    def mds_code(self, element: str, system: str, code: str) -> str | None:
        """The MDS code a target coding reads back as, when that is unambiguous."""
        found = {t.code for t in self.translate(system, code, mds_system(element), reverse=True)}
        return found.pop() if len(found) == 1 else None

    def condition_concept_id(self, histology: str, site: str) -> int | None:
        """The OMOP ICDO3 condition concept for morphology/behaviour + topography, if mapped."""
        for t in self.translate(MDS_CODESYSTEM_BASE + ICDO3_CONDITION_MAP, f"{histology}-{site}"):
            if t.omop_concept_id is not None:
                return t.omop_concept_id
        return None

    # --- $lookup ------------------------------------------------------------------------------

    def lookup(self, system: str, code: str) -> Lookup | None:
        """Display and properties of a code we know; None when we know nothing of it."""
        if system in self._omop_systems and code.isdigit():
            concept = self.data.concepts.get(int(code))
            if concept is not None:
                props = {
                    "domain_id": concept.domain_id,
                    "vocabulary_id": concept.vocabulary_id,
                    "concept_class_id": concept.concept_class_id,
                    "standard_concept": concept.standard_concept,
                    "concept_code": concept.concept_code,
                    "invalid_reason": concept.invalid_reason,
                    "provenance": concept.provenance,
                }
                return Lookup(system, code, concept.concept_name, props)
        element = self._elements.get(system)
        if element is not None and code in element.codes:
            return Lookup(system, code, code, {"element": element.name, "group": element.group})
        for row in self._by_target.get((system, code), []):
            return Lookup(system, code, row.target_display, {"map": row.map})
        if system == MDS_CODESYSTEM_BASE + ICDO3_CONDITION_MAP and self._by_source.get(
            (system, code)
        ):
            return Lookup(system, code, code, {"map": ICDO3_CONDITION_MAP})
        return None

    # --- $validate-code -----------------------------------------------------------------------

    def validate_code(self, value_set: str, system: str, code: str) -> Validation:
        """Is (system, code) in an element's value set (URL …/ValueSet/<element> or the name)?"""
        name = value_set.removeprefix(MDS_VALUESET_BASE).replace("-", "_")
        element = self._elements.get(mds_system(name))
        if element is None:
            return Validation(False, f"unknown value set {value_set}")
        if system == mds_system(name):
            if code in element.codes:
                return Validation(True, "", code)
            return Validation(False, f"{code} is not a code of {element.name}")
        back = self.translate(system, code, mds_system(name), reverse=True)
        if back:
            return Validation(True, "", self._display(system, code))
        return Validation(False, f"{system}#{code} is not in the value set of {element.name}")

    def _display(self, system: str, code: str) -> str:
        found = self.lookup(system, code)
        return found.display if found else ""


@lru_cache(maxsize=8)
def _cached(root: Path, versions: tuple[tuple[str, str], ...]) -> Terminology:
    """One service per folder and map versions; `versions` is only the cache key."""
    return Terminology(load(root))
