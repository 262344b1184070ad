"""The code maps, code systems, conflicts and concept subset of terminology/, read as typed rows.

Everything the FHIR and OMOP spokes know about codes lives in those files, edited by
maintainers; this module only parses them. Rows that cannot be parsed (an unknown equivalence,
a concept id that is not a number) are kept out of the data and reported as findings by
`adapter.terminology.check`, because a bad row is bad data, not a programmer error. A missing
file is a `SourceError`: nothing sensible can run without it.

Layout (docs/terminology.md):

    terminology/maps/manifest.csv      map, file, version, description, source, licence
    terminology/maps/systems.csv       url, name, kind (mds | fhir | omop), description
    terminology/maps/conflicts.csv     known IDEA4RC conflicts and how each is resolved
    terminology/maps/<map>.csv         MAP_COLUMNS
    terminology/vocab/CONCEPT.csv      Athena layout, TAB-separated
    terminology/vocab/provenance.csv   where each concept row's attributes come from
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from adapter.errors import SourceError
from adapter.mds.dictionary import terminology_dir

__all__ = [
    "CONCEPT_COLUMNS",
    "DIRECTIONS",
    "EQUIVALENCES",
    "MAP_COLUMNS",
    "MDS_CODESYSTEM_BASE",
    "MDS_VALUESET_BASE",
    "Concept",
    "Conflict",
    "MapInfo",
    "MapRow",
    "RowProblem",
    "System",
    "TerminologyData",
    "load",
    "mds_system",
    "read_manifest",
]

MDS_CODESYSTEM_BASE = "https://w3id.org/sarcoma-mds/fhir/CodeSystem/"
MDS_VALUESET_BASE = "https://w3id.org/sarcoma-mds/fhir/ValueSet/"
MAP_COLUMNS = (
    "source_system", "source_code", "target_system", "target_code", "target_display",
    "omop_concept_id", "equivalence", "direction", "comment",
)  # fmt: skip
CONCEPT_COLUMNS = (
    "concept_id", "concept_name", "domain_id", "vocabulary_id", "concept_class_id",
    "standard_concept", "concept_code", "valid_start_date", "valid_end_date", "invalid_reason",
)  # fmt: skip
# FHIR R4 ConceptMapEquivalence (http://hl7.org/fhir/R4/valueset-concept-map-equivalence.html)
EQUIVALENCES = frozenset(
    ("relatedto", "equivalent", "equal", "wider", "subsumes", "narrower", "specializes",
     "inexact", "unmatched", "disjoint")
)  # fmt: skip
# both: written (source → target) and read back; read: only accepted when reading the target.
DIRECTIONS = frozenset(("both", "read"))

Equivalence = str
Direction = Literal["both", "read"]
SystemKind = Literal["mds", "fhir", "omop"]


def mds_system(element: str) -> str:
    """The URL of an MDS element's local CodeSystem: `surgical_margin_r` → …/surgical-margin-r."""
    return MDS_CODESYSTEM_BASE + element.replace("_", "-")


@dataclass(frozen=True, slots=True)
class MapInfo:
    """One manifest row: a map file and the version that runs record."""

    name: str
    file: str
    version: str
    description: str
    source: str
    licence: str


@dataclass(frozen=True, slots=True)
class MapRow:
    """One code mapping. `line` is the 1-based line in `file`, so findings can point at it."""

    map: str
    file: str
    line: int
    source_system: str
    source_code: str
    target_system: str
    target_code: str
    target_display: str
    omop_concept_id: int | None
    equivalence: Equivalence
    direction: Direction
    comment: str

    @property
    def location(self) -> str:
        return f"terminology/maps/{self.file} line {self.line}"

    @property
    def matched(self) -> bool:
        return self.equivalence not in ("unmatched", "disjoint")


@dataclass(frozen=True, slots=True)
class System:
    url: str
    name: str
    kind: SystemKind
    description: str


@dataclass(frozen=True, slots=True)
class Conflict:
    """A known IDEA4RC conflict (mds-notes section 6 and others) and the way we resolved it.

    With `map` and `source_code`, the check verifies the resolution: the code is written as
    `written_system#written_code` (or written to no OMOP concept when `written_code` is empty)
    and never as one of `rejected_codes`. With only `map`, no written row of that map may target
    a rejected code.
    """

    conflict: str
    title: str
    source: str
    map: str
    source_code: str
    written_system: str
    written_code: str
    rejected_codes: tuple[str, ...]
    resolution: str
    line: int


@dataclass(frozen=True, slots=True)
class Concept:
    """A CONCEPT.csv row (Athena layout); `provenance` says whether the attributes are verified."""

    concept_id: int
    concept_name: str
    domain_id: str
    vocabulary_id: str
    concept_class_id: str
    standard_concept: str
    concept_code: str
    valid_start_date: str
    valid_end_date: str
    invalid_reason: str
    provenance: str = ""


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A row that could not be read; check.py turns it into a finding."""

    location: str
    message: str
    values: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TerminologyData:
    directory: Path
    maps: tuple[MapInfo, ...]
    rows: tuple[MapRow, ...]
    systems: dict[str, System]
    conflicts: tuple[Conflict, ...]
    concepts: dict[int, Concept]
    problems: tuple[RowProblem, ...] = field(default=())
    map_files: tuple[str, ...] = ()

    @property
    def versions(self) -> dict[str, str]:
        return {m.name: m.version for m in self.maps}


def _read_csv(path: Path, delimiter: str = ",") -> Iterator[tuple[int, dict[str, str]]]:
    if not path.is_file():
        raise SourceError(f"{path}: not found")
    with path.open(encoding="utf-8", newline="") as f:
        # Athena files are TAB-separated without quoting (names hold bare quotes); maps are CSV.
        reader = (
            csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
            if delimiter == "\t"
            else csv.DictReader(f, delimiter=delimiter)
        )
        for row in reader:
            yield reader.line_num, {k: (v or "").strip() for k, v in row.items() if k is not None}


def read_manifest(directory: Path | None = None) -> tuple[MapInfo, ...]:
    """The manifest alone: cheap, so the service can key its cache on map versions."""
    base = (directory or terminology_dir()) / "maps"
    return tuple(
        MapInfo(r["map"], r["file"], r["version"], r["description"], r["source"], r["licence"])
        for _, r in _read_csv(base / "manifest.csv")
    )


def _map_rows(info: MapInfo, path: Path, problems: list[RowProblem]) -> Iterator[MapRow]:
    for line, r in _read_csv(path):
        where = f"terminology/maps/{info.file} line {line}"
        missing = [c for c in MAP_COLUMNS if c not in r]
        if missing:
            problems.append(RowProblem(where, f"missing columns {missing}"))
            return
        if r["equivalence"] not in EQUIVALENCES:
            problems.append(
                RowProblem(
                    where,
                    f"equivalence {r['equivalence']!r} is not a FHIR ConceptMap equivalence",
                    (r["source_code"], r["equivalence"]),
                )
            )
            continue
        if r["direction"] not in DIRECTIONS:
            problems.append(
                RowProblem(
                    where,
                    f"direction {r['direction']!r} is not one of {sorted(DIRECTIONS)}",
                    (r["source_code"], r["direction"]),
                )
            )
            continue
        omop: int | None = None
        if r["omop_concept_id"]:
            try:
                omop = int(r["omop_concept_id"])
            except ValueError:
                problems.append(
                    RowProblem(
                        where,
                        f"omop_concept_id {r['omop_concept_id']!r} is not a number",
                        (r["source_code"], r["omop_concept_id"]),
                    )
                )
                continue
        yield MapRow(
            map=info.name,
            file=info.file,
            line=line,
            source_system=r["source_system"],
            source_code=r["source_code"],
            target_system=r["target_system"],
            target_code=r["target_code"],
            target_display=r["target_display"],
            omop_concept_id=omop,
            equivalence=r["equivalence"],
            direction=r["direction"],  # type: ignore[arg-type]
            comment=r["comment"],
        )


def _systems(base: Path, problems: list[RowProblem]) -> dict[str, System]:
    out: dict[str, System] = {}
    for line, r in _read_csv(base / "systems.csv"):
        if r["kind"] not in ("mds", "fhir", "omop"):
            problems.append(
                RowProblem(f"terminology/maps/systems.csv line {line}", f"kind {r['kind']!r}")
            )
            continue
        out[r["url"]] = System(r["url"], r["name"], r["kind"], r["description"])  # type: ignore[arg-type]
    return out


def _conflicts(base: Path) -> tuple[Conflict, ...]:
    return tuple(
        Conflict(
            conflict=r["conflict"],
            title=r["title"],
            source=r["source"],
            map=r["map"],
            source_code=r["source_code"],
            written_system=r["written_system"],
            written_code=r["written_code"],
            rejected_codes=tuple(r["rejected_codes"].split()),
            resolution=r["resolution"],
            line=line,
        )
        for line, r in _read_csv(base / "conflicts.csv")
    )


def _concepts(vocab: Path, problems: list[RowProblem]) -> dict[int, Concept]:
    provenance = {r["concept_id"]: r["status"] for _, r in _read_csv(vocab / "provenance.csv")}
    out: dict[int, Concept] = {}
    for line, r in _read_csv(vocab / "CONCEPT.csv", delimiter="\t"):
        try:
            cid = int(r["concept_id"])
        except ValueError:
            problems.append(
                RowProblem(f"terminology/vocab/CONCEPT.csv line {line}", "concept_id not a number")
            )
            continue
        values = {c: r.get(c, "") for c in CONCEPT_COLUMNS[1:]}
        out[cid] = Concept(cid, **values, provenance=provenance.get(r["concept_id"], ""))
    return out


def load(directory: Path | None = None) -> TerminologyData:
    """Every map listed in the manifest, the systems, the conflicts and the concept subset."""
    root = directory or terminology_dir()
    base = root / "maps"
    problems: list[RowProblem] = []
    infos = read_manifest(root)
    rows: list[MapRow] = []
    for info in infos:
        path = base / info.file
        if not path.is_file():
            problems.append(
                RowProblem("terminology/maps/manifest.csv", f"{info.file} is listed but missing")
            )
            continue
        rows.extend(_map_rows(info, path, problems))
    special = {"manifest.csv", "systems.csv", "conflicts.csv"}
    files = tuple(sorted(p.name for p in base.glob("*.csv") if p.name not in special))
    return TerminologyData(
        directory=root,
        maps=infos,
        rows=tuple(rows),
        systems=_systems(base, problems),
        conflicts=_conflicts(base),
        concepts=_concepts(root / "vocab", problems),
        problems=tuple(problems),
        map_files=files,
    )
