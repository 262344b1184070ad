"""Which codes of a record no map turns into an OMOP concept (pure): the worklist's raw material.

A terminology gap is only visible while data flows through it, so the loader asks this module,
per mapped record, which of the record's codes were written as concept 0, and the store counts
them (adapter/stores/worklist.py). Two kinds exist today:

- ICD-O-3 histology-topography pairs the diagnosis map lacks (every bone site, conflict C9),
  reported by `to_omop` as `omop.unmapped-code`; their system is …/CodeSystem/icdo3-condition
  and their code `8805/3-C40.2`, as in `icdo3-condition.csv`;
- MDS codes whose map has no written OMOP row, only an `unmatched` one (laterality `right`, the
  Enneking stages, …); their system is the element's local CodeSystem.

`is_mapped` says whether a (system, code) has an OMOP concept now, so a worklist entry that a
reviewed import has covered drops out and `remap` knows which records to re-derive.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from adapter.errors import Finding
from adapter.mds.dictionary import elements, terminology_dir
from adapter.mds.record import MdsRecord
from adapter.terminology.maps import MDS_CODESYSTEM_BASE, mds_system
from adapter.terminology.service import ICDO3_CONDITION_MAP, Terminology

__all__ = [
    "ICDO3_CONDITION_SYSTEM",
    "UNMAPPED_FINDING",
    "UnmappedCode",
    "codes_of",
    "is_mapped",
    "map_of",
    "source_name",
    "unmapped_codes",
]

ICDO3_CONDITION_SYSTEM = MDS_CODESYSTEM_BASE + ICDO3_CONDITION_MAP
UNMAPPED_FINDING = "omop.unmapped-code"
_PAIR = ("histology_icdo3", "primary_site_icdo3")


@dataclass(frozen=True, slots=True, order=True)
class UnmappedCode:
    """One code of one record that was written without a concept.

    `element` names the MDS element(s) it came from (`histology_icdo3+primary_site_icdo3` for a
    pair); `map` and `map_version` name the map that would have to cover it, so the worklist
    says which version left the gap.
    """

    system: str
    code: str
    element: str
    map: str
    map_version: str


@lru_cache(maxsize=1)
def _coded() -> tuple[str, ...]:
    return tuple(
        e.name for e in elements() if e.type in ("code", "code_list") and not e.is_open_code
    )


def map_of(terminology: Terminology, system: str) -> str:
    """The name of the map whose rows have this source system ('' when none has)."""
    return _index(terminology).get(system, "")


@lru_cache(maxsize=8)
def _index(terminology: Terminology) -> dict[str, str]:
    out: dict[str, str] = {}
    for row in terminology.data.rows:
        out.setdefault(row.source_system, row.map)
    return out


def is_mapped(terminology: Terminology, system: str, code: str) -> bool:
    """Does (system, code) have a written OMOP concept in these maps?"""
    if system == ICDO3_CONDITION_SYSTEM:
        histology, _, site = code.partition("-")
        return terminology.condition_concept_id(histology, site) is not None
    if system.startswith(MDS_CODESYSTEM_BASE):
        element = system.removeprefix(MDS_CODESYSTEM_BASE).replace("-", "_")
        return terminology.omop_concept_id(element, code) is not None
    return False


def codes_of(record: MdsRecord) -> set[tuple[str, str]]:
    """Every (system, code) the record uses that a map could cover, mapped or not."""
    out: set[tuple[str, str]] = set()
    histology, site = record.histology_icdo3, record.primary_site_icdo3
    if histology is not None and site is not None:
        out.add((ICDO3_CONDITION_SYSTEM, f"{histology}-{site}"))
    for name in _coded():
        value = getattr(record, name, None)
        values = value if isinstance(value, list | tuple) else [value]
        out.update((mds_system(name), str(v)) for v in values if v is not None)
    return out


def _entry(terminology: Terminology, system: str, code: str, element: str) -> UnmappedCode:
    name = map_of(terminology, system)
    return UnmappedCode(system, code, element, name, terminology.versions.get(name, ""))


def unmapped_codes(
    record: MdsRecord, findings: Sequence[Finding], terminology: Terminology
) -> list[UnmappedCode]:
    """The codes of one mapped record that went to OMOP as concept 0, sorted, no duplicates.

    Pairs come from `to_omop`'s `omop.unmapped-code` findings (the store may resolve a pair
    through a full Athena vocabulary, so the finding, not the map, is the truth); MDS codes
    from the maps: a code the OMOP map does not cover. A code the map declares `unmatched`
    for OMOP (a "won't map" decision, its reason in the comment: no laterality concept, "none",
    "alive") is a decision, not a gap, and no item.
    """
    found: set[UnmappedCode] = set()
    for f in findings:
        if f.code != UNMAPPED_FINDING:
            continue
        if tuple(f.elements) == _PAIR and len(f.values) == 2:
            code = f"{f.values[0]}-{f.values[1]}"
            found.add(_entry(terminology, ICDO3_CONDITION_SYSTEM, code, "+".join(_PAIR)))
        elif len(f.elements) == 1 and f.values and f.values[0] is not None:
            element = f.elements[0]
            found.add(_entry(terminology, mds_system(element), str(f.values[0]), element))
    for system, code in codes_of(record):
        if system == ICDO3_CONDITION_SYSTEM or terminology.wont_map(system, code):
            continue  # a decision in the map, not a gap: not a worklist item
        if not is_mapped(terminology, system, code):
            element = system.removeprefix(MDS_CODESYSTEM_BASE).replace("-", "_")
            found.add(_entry(terminology, system, code, element))
    return sorted(found)


@lru_cache(maxsize=4)
def _labels(directory: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in ("sarcoma-histology.tsv", "icdo3-sites.tsv"):
        path = directory / name
        if path.is_file():
            with path.open(encoding="utf-8", newline="") as f:
                for row in csv.DictReader(f, delimiter="\t"):
                    out[row["code"]] = row["label"]
    return out


def source_name(system: str, code: str, directory: Path | None = None) -> str:
    """An English description for Usagi's search (it matches on sourceName, not the code)."""
    if system == ICDO3_CONDITION_SYSTEM:
        labels = _labels((directory or terminology_dir()).resolve())
        histology, _, site = code.partition("-")
        return f"{labels.get(histology, histology)} of {labels.get(site, site)}"
    element = system.removeprefix(MDS_CODESYSTEM_BASE).replace("-", " ")
    return f"{element}: {code.replace('_', ' ')}"
