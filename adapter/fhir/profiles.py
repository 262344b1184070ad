"""The conformance resources in profiles/: StructureDefinitions, ValueSets and CodeSystems.

profiles/ is data, like terminology/: the IDEA4RC IG's profiles and terminology
(profiles/idea4rc, CC-BY-SA-4.0), trimmed FHIR core definitions for the required bindings the R4B
models do not check (profiles/core), and our own extensions, CodeSystems and ValueSets
(profiles/local). Everything is read once per directory and cached, because the validator sits on
the hot path and must not touch the disk per resource.

Our CodeSystems are generated from terminology/maps (`local_terminology`), so the two cannot
drift apart silently: a test regenerates them and compares with the files
(`python -m adapter.fhir.profiles` rewrites them).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from adapter.errors import SourceError
from adapter.mds.dictionary import elements
from adapter.terminology import load as load_terminology
from adapter.terminology.maps import MDS_CODESYSTEM_BASE, MDS_VALUESET_BASE, TerminologyData

__all__ = [
    "LOCAL_BASE",
    "MDS_ELEMENT_SYSTEM",
    "Expansion",
    "Profiles",
    "load_profiles",
    "local_terminology",
    "profiles_dir",
    "write_local_terminology",
]

LOCAL_BASE = "https://w3id.org/sarcoma-mds/fhir/"
MDS_ELEMENT_SYSTEM = MDS_CODESYSTEM_BASE + "mds-element"
# Systems of terminology/maps that are not closed code lists (their codes are combinations).
_OPEN_SYSTEMS = frozenset((MDS_CODESYSTEM_BASE + "icdo3-condition",))

Json = dict[str, Any]


def profiles_dir() -> Path:
    """The top-level profiles/ folder (override with MDS_ADAPTER_PROFILES_DIR)."""
    override = os.environ.get("MDS_ADAPTER_PROFILES_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "profiles"


@dataclass(frozen=True, slots=True)
class Expansion:
    """The (system, code) pairs a ValueSet enumerates.

    `complete` is False when part of the ValueSet is a filter, an unknown ValueSet or a whole
    external CodeSystem: then a code outside `codes` may still belong, and the validator says
    "not checked" instead of failing.
    """

    url: str
    codes: frozenset[tuple[str, str]]
    complete: bool
    bare: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "bare", frozenset(c for _, c in self.codes))

    @property
    def systems(self) -> frozenset[str]:
        return frozenset(s for s, _ in self.codes)

    def has(self, system: str | None, code: str) -> bool:
        if system is None:
            return code in self.bare
        return (system, code) in self.codes


@dataclass(frozen=True)
class Profiles:
    """Every conformance resource in profiles/, by canonical URL."""

    directory: Path
    structure_definitions: Mapping[str, Json]
    value_sets: Mapping[str, Json]
    code_systems: Mapping[str, Json]
    expansions: dict[str, Expansion | None] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def expansion(self, url: str) -> Expansion | None:
        """The ValueSet's enumerated codes, or None when profiles/ does not hold it."""
        return _expand(self, url.split("|")[0], frozenset())

    def extension_urls(self) -> frozenset[str]:
        return frozenset(
            u for u, sd in self.structure_definitions.items() if sd.get("type") == "Extension"
        )


def _expand(profiles: Profiles, url: str, seen: frozenset[str]) -> Expansion | None:
    if url in profiles.expansions:
        return profiles.expansions[url]
    vs = profiles.value_sets.get(url)
    if vs is None or url in seen:
        return None
    codes: set[tuple[str, str]] = set()
    complete = True
    compose = vs.get("compose", {})
    for include in compose.get("include", ()):
        part, whole = _include(profiles, include, seen | {url})
        codes |= part
        complete &= whole
    for exclude in compose.get("exclude", ()):
        part, _ = _include(profiles, exclude, seen | {url})
        codes -= part
    result = Expansion(url, frozenset(codes), complete)
    profiles.expansions[url] = result
    return result


def _include(
    profiles: Profiles, include: Mapping[str, Any], seen: frozenset[str]
) -> tuple[set[tuple[str, str]], bool]:
    system = include.get("system")
    codes: set[tuple[str, str]] = set()
    complete = not include.get("filter")
    if system and include.get("concept"):
        codes = {(system, c["code"]) for c in include["concept"]}
    elif system and not include.get("filter"):
        cs = profiles.code_systems.get(system)
        if cs is None or cs.get("content", "complete") != "complete":
            complete = False
        else:
            codes = {(system, c) for c in _all_codes(cs.get("concept", ()))}
    nested = [_expand(profiles, u.split("|")[0], seen) for u in include.get("valueSet", ())]
    for exp in nested:
        if exp is None:
            complete = False
            continue
        complete &= exp.complete
        # A system together with valueSet means the intersection; alone, the union.
        codes = {c for c in codes if c in exp.codes} if system else codes | exp.codes
    return codes, complete


def _all_codes(concepts: Iterable[Mapping[str, Any]]) -> Iterable[str]:
    for c in concepts:
        yield c["code"]
        yield from _all_codes(c.get("concept", ()))


@cache
def load_profiles(directory: Path | None = None) -> Profiles:
    """Read every *.json under profiles/ once; later calls return the same object."""
    root = directory or profiles_dir()
    if not root.is_dir():
        raise SourceError(f"{root}: profiles folder not found")
    by_type: dict[str, dict[str, Json]] = {
        "StructureDefinition": {},
        "ValueSet": {},
        "CodeSystem": {},
    }
    for path in sorted(root.rglob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise SourceError(f"{path}: not readable JSON ({e})") from e
        kind = data.get("resourceType")
        if kind in by_type and "url" in data:
            by_type[kind][data["url"]] = data
    return Profiles(
        root, by_type["StructureDefinition"], by_type["ValueSet"], by_type["CodeSystem"]
    )


def local_terminology(data: TerminologyData | None = None) -> list[Json]:
    """Our CodeSystems (one per MDS coded element, from the maps' source codes) and ValueSets.

    A code system's codes are the distinct `source_code`s of its `source_system` in map order;
    `mds-element` lists the dictionary's element names (for Observations no standard code fits).
    """
    data = data or load_terminology()
    codes: dict[str, list[str]] = {}
    for row in data.rows:
        if row.source_system.startswith(MDS_CODESYSTEM_BASE) and (
            row.source_system not in _OPEN_SYSTEMS
        ):
            known = codes.setdefault(row.source_system, [])
            if row.source_code not in known:
                known.append(row.source_code)
    codes[MDS_ELEMENT_SYSTEM] = [e.name for e in elements()]
    out: list[Json] = []
    for url in sorted(codes):
        name = url.removeprefix(MDS_CODESYSTEM_BASE)
        system = data.systems.get(url)
        title = system.name if system else "MDS element names"
        out.append(_codesystem(url, name, title, codes[url]))
        out.append(_valueset(name, title, url))
    return out


def _codesystem(url: str, name: str, title: str, codes: list[str]) -> Json:
    return {
        "resourceType": "CodeSystem",
        "id": name,
        "url": url,
        "version": "0.1.0",
        "name": _pascal(name),
        "title": title,
        "status": "draft",
        "description": "Generated from terminology/maps by adapter.fhir.profiles; do not edit.",
        "caseSensitive": True,
        "valueSet": MDS_VALUESET_BASE + name,
        "content": "complete",
        "count": len(codes),
        "concept": [{"code": c, "display": c.replace("_", " ")} for c in codes],
    }


def _valueset(name: str, title: str, system: str) -> Json:
    return {
        "resourceType": "ValueSet",
        "id": name,
        "url": MDS_VALUESET_BASE + name,
        "version": "0.1.0",
        "name": _pascal(name) + "VS",
        "title": title,
        "status": "draft",
        "description": "All codes of the CodeSystem of the same name; generated, do not edit.",
        "compose": {"include": [{"system": system}]},
    }


def _pascal(name: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in name.replace("_", "-").split("-"))


def write_local_terminology(directory: Path | None = None) -> list[Path]:
    """Rewrite profiles/local/terminology/ from terminology/maps; returns the files written."""
    target = (directory or profiles_dir()) / "local" / "terminology"
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for resource in local_terminology():
        path = target / f"{resource['resourceType']}-{resource['id']}.json"
        path.write_text(json.dumps(resource, indent=1, ensure_ascii=False) + "\n", "utf-8")
        written.append(path)
    return written


if __name__ == "__main__":  # pragma: no cover - maintenance entry point
    for p in write_local_terminology():
        print(p)
