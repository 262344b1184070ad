"""FHIR R4 ConceptMaps generated from terminology/maps (pure): one per map, into terminology/fhir/.

The map CSVs stay the source of truth; the ConceptMaps are their FHIR face, for a terminology
server or an IG, and a test fails when the files drift from the CSVs. CodeSystems and ValueSets
of the MDS local codes are not duplicated here: adapter/fhir/profiles.py already generates them
into profiles/local/terminology/ (where the FHIR validator finds them), with their own drift
test; terminology/fhir/README.md points there.

Per map: `url` …/ConceptMap/<map>, `version` = the manifest version, `copyright` = the licence;
one `group` per (source system, target system) in first-seen order; per source code one
`element` whose `target`s are its rows in map order, with the row's equivalence and comment.
An `unmatched` row is a target without a code (R4 allows this for `unmatched`). A `read` row
(accepted only when reading the target back, never written) carries the extension
`…/StructureDefinition/map-direction` = `read`. R4 requires a comment on `narrower` and
`inexact` targets (cmd-1); a row without one gets a pointer to its CSV line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from adapter.mds.dictionary import terminology_dir
from adapter.terminology.maps import MDS_VALUESET_BASE, MapInfo, MapRow, TerminologyData, load

__all__ = [
    "CONCEPT_MAP_BASE",
    "DIRECTION_EXTENSION",
    "concept_maps",
    "fhir_dir",
    "render",
    "write_concept_maps",
]

CONCEPT_MAP_BASE = "https://w3id.org/sarcoma-mds/fhir/ConceptMap/"
DIRECTION_EXTENSION = "https://w3id.org/sarcoma-mds/fhir/StructureDefinition/map-direction"
_NEEDS_COMMENT = frozenset(("narrower", "inexact"))
Json = dict[str, Any]


def fhir_dir(directory: Path | None = None) -> Path:
    """terminology/fhir/ of a terminology folder."""
    return (directory or terminology_dir()) / "fhir"


def _pascal(name: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in name.split("-"))


def _target(row: MapRow) -> Json:
    out: Json = {}
    if row.direction == "read":
        out["extension"] = [{"url": DIRECTION_EXTENSION, "valueCode": "read"}]
    if row.matched:
        out["code"] = row.target_code
        if row.target_display:
            out["display"] = row.target_display
    out["equivalence"] = row.equivalence
    comment = row.comment or (row.location if row.equivalence in _NEEDS_COMMENT else "")
    if comment:
        out["comment"] = comment
    return out


def _concept_map(info: MapInfo, rows: list[MapRow]) -> Json:
    groups: dict[tuple[str, str], dict[str, list[Json]]] = {}
    for row in rows:
        elements = groups.setdefault((row.source_system, row.target_system), {})
        elements.setdefault(row.source_code, []).append(_target(row))
    resource: Json = {
        "resourceType": "ConceptMap",
        "id": info.name,
        "url": CONCEPT_MAP_BASE + info.name,
        "version": info.version,
        "name": _pascal(info.name),
        "title": info.description,
        "status": "draft",
        "description": f"Generated from terminology/maps/{info.file} "
        "by adapter.terminology.fhir_resources; do not edit.",
        "copyright": f"{info.licence}; source: {info.source}",
    }
    if rows and rows[0].source_system.endswith("/" + info.name) and info.name != "icdo3-condition":
        resource["sourceUri"] = MDS_VALUESET_BASE + info.name
    resource["group"] = [
        {"source": source, "target": target,
         "element": [{"code": code, "target": targets} for code, targets in elements.items()]}
        for (source, target), elements in groups.items()
    ]  # fmt: skip
    return resource


def concept_maps(data: TerminologyData | None = None) -> list[Json]:
    """One ConceptMap per manifest map, in manifest order."""
    data = data or load()
    by_map: dict[str, list[MapRow]] = {}
    for row in data.rows:
        by_map.setdefault(row.map, []).append(row)
    return [_concept_map(info, by_map.get(info.name, [])) for info in data.maps]


def render(resource: Json) -> str:
    """The file text of a resource: stable key order, one-space indent, final newline."""
    return json.dumps(resource, indent=1, ensure_ascii=False) + "\n"


def write_concept_maps(directory: Path | None = None) -> list[Path]:
    """Rewrite terminology/fhir/ConceptMap-*.json from the maps; stale ones are removed."""
    data = load(directory)
    target = fhir_dir(directory)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for resource in concept_maps(data):
        path = target / f"ConceptMap-{resource['id']}.json"
        path.write_text(render(resource), "utf-8")
        written.append(path)
    for stale in set(target.glob("ConceptMap-*.json")) - set(written):
        stale.unlink()
    return written
