"""Does a FHIR resource conform to the profiles it claims? Fast checks over plain dicts.

Two layers, because they answer different questions at different speeds:

- `validate(resource)` walks the dict along each claimed profile's compiled differential
  (adapter/fhir/structure.py): cardinality (slices included where the discriminator can be
  decided), fixed and pattern values, choice-type restrictions, required and extensible bindings
  against the ValueSets in profiles/, extensions by url against their own definitions, and the
  FHIR core required bindings the R4B models leave unchecked (profiles/core). It visits only
  what the profiles constrain, so it runs on every resource we emit and accept.
- `parse_r4b(resource)` runs fhir.resources R4B (structure, primitive types, base cardinality):
  thorough but two orders of magnitude slower, for tests and the slow path.

Bad data is a `Finding` (code `fhir.profile` / `fhir.structure`), never an exception. `location`
is FHIRPath-like (`Procedure.outcome.coding[0].code`); error = violation, warning = extensible
binding not met or profile unknown, info = a check that could not be made (a ValueSet that is
filter-based or not in profiles/), said once per resource and value set.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapter.errors import Finding, Level
from adapter.fhir.profiles import LOCAL_BASE, Profiles, load_profiles
from adapter.fhir.structure import Node, Structure, compile_structure, matches_pattern

__all__ = ["CORE", "Validator", "parse_r4b", "validate", "validate_bundle"]

CORE = "http://hl7.org/fhir/StructureDefinition/"
# Extension urls under these bases must be defined in profiles/ (a typo is a lost fact).
_OWNED = ("http://hl7.eu/fhir/ig/idea4rc/StructureDefinition/", LOCAL_BASE)
_CODED = ("code", "Coding", "CodeableConcept")


class Validator:
    """Compiled profiles of one profiles/ folder; compiles each StructureDefinition on first use."""

    def __init__(self, profiles: Profiles | None = None) -> None:
        self.profiles = profiles or load_profiles()
        self._structures: dict[str, Structure | None] = {}

    def structure(self, url: str) -> Structure | None:
        url = url.split("|")[0]
        if url not in self._structures:
            sd = self.profiles.structure_definitions.get(url)
            self._structures[url] = compile_structure(sd, self.profiles) if sd else None
        return self._structures[url]

    def validate(self, resource: Mapping[str, Any], location: str | None = None) -> list[Finding]:
        """Findings of `resource` against FHIR core bindings and every profile it claims."""
        run = _Run(self, location or str(resource.get("resourceType", "Resource")))
        kind = resource.get("resourceType")
        core = self.structure(CORE + kind) if isinstance(kind, str) else None
        if core is not None:
            run.check(core, resource)
        for url in resource.get("meta", {}).get("profile", ()):
            structure = self.structure(url)
            if structure is None:
                run.add(Level.WARNING, run.root, url, url, "profile unknown: not checked", url)
            elif structure.type != kind:
                run.add(Level.ERROR, run.root, url, kind, f"profile is for {structure.type}", url)
            else:
                run.check(structure, resource)
        return run.findings


class _Run:
    """The state of one `validate` call: findings so far and what was already reported."""

    def __init__(self, validator: Validator, root: str) -> None:
        self.validator = validator
        self.root = root
        self.findings: list[Finding] = []
        self._said: set[tuple[str, str]] = set()
        self.profile = ""

    def add(
        self, level: Level, where: str, element: str, value: Any, rule: str, profile: str = ""
    ) -> None:
        key = (where, rule)
        if key in self._said:
            return
        self._said.add(key)
        name = (profile or self.profile).rsplit("/", 1)[-1]
        message = f"{name}: {element} {rule}" + ("" if value is None else f" (value {value!r})")
        self.findings.append(
            Finding("fhir.profile", level, message, None, (element,), (value,), where)
        )

    def check(self, structure: Structure, resource: Mapping[str, Any]) -> None:
        outer, self.profile = self.profile, structure.url
        self.node(structure.root, resource, self.root)
        self.profile = outer

    # -- walking -------------------------------------------------------------------------------

    def node(self, node: Node, value: Mapping[str, Any], path: str) -> None:
        for name, child in node.children.items():
            if child.choice:
                self.choice(child, value, path)
            else:
                raw = value.get(name)
                items = raw if isinstance(raw, list) else [] if raw is None else [raw]
                many = isinstance(raw, list)
                # A primitive with only an extension (`_birthDate`: data-absent-reason) is there.
                extra = 0 if raw is not None or "_" + name not in value else 1
                self.element(child, items, path, name, many, extra)
        if "extension" in value and "extension" not in node.children:
            self.extensions(value["extension"], f"{path}.extension")

    def element(
        self, node: Node, items: list[Any], path: str, name: str, many: bool, extra: int = 0
    ) -> None:
        where = f"{path}.{name}"
        self.cardinality(node, len(items) + extra, where)
        for i, item in enumerate(items):
            self.item(node, item, f"{where}[{i}]" if many else where)
        if node.slices:
            self.slices(node, items, where, many)
        if name in ("extension", "modifierExtension"):
            self.extensions(items, where)

    def item(self, node: Node, item: Any, where: str) -> None:
        if node.fixed is not None and item != node.fixed:
            self.add(Level.ERROR, where, node.element_id, item, f"must be {node.fixed!r}")
        if node.pattern is not None and not matches_pattern(item, node.pattern):
            self.add(Level.ERROR, where, node.element_id, item, f"must match {node.pattern!r}")
        if node.binding is not None and node.binding.strength in ("required", "extensible"):
            self.binding(node, item, where)
        if node.children and isinstance(item, dict):
            self.node(node, item, where)

    def cardinality(self, node: Node, count: int, where: str) -> None:
        if count < node.min:
            rule = f"has {count} value(s), min {node.min}"
            self.add(Level.ERROR, where, node.element_id, None, rule)
        elif node.max is not None and count > node.max:
            rule = f"has {count} value(s), max {node.max}"
            self.add(Level.ERROR, where, node.element_id, None, rule)

    def choice(self, node: Node, value: Mapping[str, Any], path: str) -> None:
        prefix = node.name[:-3]
        n = len(prefix)
        keys = [k for k in value if k.startswith(prefix) and k[n : n + 1].isupper()]
        bare = [k[1:] for k in value if k[1:].startswith(prefix) and k[n + 1 : n + 2].isupper()]
        self.cardinality(node, len(keys) + len(bare), f"{path}.{node.name}")
        allowed = {t.lower() for t in node.types}
        for key in keys:
            where = f"{path}.{key}"
            if allowed and key[len(prefix) :].lower() not in allowed:
                rule = f"type {key[len(prefix) :]} not allowed (only {', '.join(node.types)})"
                self.add(Level.ERROR, where, node.element_id, None, rule)
            self.item(node, value[key], where)
        for s in node.slices:
            present = [value[k] for k in keys if k == s.slice_name]
            absent = sum(1 for k in bare if k == s.slice_name and k not in value)
            self.cardinality(s, len(present) + absent, f"{path}.{s.slice_name}")
            for item in present:
                self.item(s, item, f"{path}.{s.slice_name}")

    def slices(self, node: Node, items: list[Any], where: str, many: bool) -> None:
        counts = [0] * len(node.slices)
        for i, item in enumerate(items):
            at = f"{where}[{i}]" if many else where
            hit = next((j for j, s in enumerate(node.slices) if s.matcher and s.matcher(item)), -1)
            if hit >= 0:
                counts[hit] += 1
                self.item(node.slices[hit], item, at)
            elif node.closed and all(s.matcher for s in node.slices):
                self.add(Level.ERROR, at, node.element_id, None, "matches no slice (closed)")
        for s, count in zip(node.slices, counts, strict=True):
            if s.matcher is not None:
                self.cardinality(s, count, f"{where}:{s.slice_name}")

    def extensions(self, items: Any, where: str) -> None:
        if not isinstance(items, list):
            return
        for i, ext in enumerate(items):
            url = ext.get("url") if isinstance(ext, dict) else None
            if not isinstance(url, str):
                continue
            structure = self.validator.structure(url)
            if structure is not None and structure.type == "Extension":
                self._extension(structure, ext, where, i)
            elif structure is None and url.startswith(_OWNED):
                rule = "extension url is not defined in profiles/"
                self.add(Level.ERROR, f"{where}[{i}]", "Extension.url", url, rule)

    def _extension(self, structure: Structure, ext: Mapping[str, Any], where: str, i: int) -> None:
        outer, self.profile = self.profile, structure.url
        self.node(structure.root, ext, f"{where}[{i}]")
        self.profile = outer

    # -- bindings -----------------------------------------------------------------------------

    def binding(self, node: Node, item: Any, where: str) -> None:
        assert node.binding is not None
        codes, at = _codes(item, where)
        if codes is None or (not codes and node.binding.strength != "required"):
            return  # a text-only concept meets an extensible binding
        vs = node.binding.value_set
        expansion = self.validator.profiles.expansion(vs)
        if expansion is not None and any(expansion.has(s, c) for s, c, _ in codes):
            return
        if expansion is None or not expansion.complete:
            if ("", vs) not in self._said:
                self._said.add(("", vs))
                why = "not in profiles/" if expansion is None else "not enumerable"
                rule = f"binding to {vs} not checked: value set {why}"
                self.add(Level.INFO, where, node.element_id, None, rule)
            return
        level = Level.ERROR if node.binding.strength == "required" else Level.WARNING
        value = codes[0][1] if codes else None
        rule = f"not in {node.binding.strength} value set {vs}"
        self.add(level, codes[0][2] if codes else at, node.element_id, value, rule)


def _codes(item: Any, where: str) -> tuple[list[tuple[str | None, str, str]] | None, str]:
    """(system, code, location) of a code, Coding or CodeableConcept; None for other types."""
    if isinstance(item, str):
        return [(None, item, where)], where
    if not isinstance(item, dict):
        return None, where
    if "coding" in item or "text" in item:
        codings = item.get("coding") or []
        return [
            (c.get("system"), str(c.get("code")), f"{where}.coding[{j}].code")
            for j, c in enumerate(codings)
            if isinstance(c, dict)
        ], where
    if "code" in item and "value" not in item:
        return [(item.get("system"), str(item["code"]), f"{where}.code")], where
    return None, where


_DEFAULT: list[Validator] = []


def _default() -> Validator:
    if not _DEFAULT:
        _DEFAULT.append(Validator())
    return _DEFAULT[0]


def validate(resource: Mapping[str, Any], location: str | None = None) -> list[Finding]:
    """`Validator().validate` with the profiles/ folder of this checkout, compiled once."""
    return _default().validate(resource, location)


def validate_bundle(bundle: Mapping[str, Any]) -> list[Finding]:
    """The Bundle itself and each entry's resource, located as `Bundle.entry[i].resource`."""
    validator = _default()
    findings = validator.validate(bundle)
    for i, entry in enumerate(bundle.get("entry", ())):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict):
            findings.extend(validator.validate(resource, f"Bundle.entry[{i}].resource"))
    return findings


def parse_r4b(resource: Mapping[str, Any]) -> list[Finding]:
    """Structural findings from fhir.resources R4B (R4 content parses unchanged as R4B)."""
    from fhir.resources.R4B import get_fhir_model_class
    from pydantic import ValidationError

    kind = resource.get("resourceType")
    try:
        model = get_fhir_model_class(str(kind))
    except (KeyError, ValueError, AttributeError):
        return [
            Finding(
                "fhir.structure",
                Level.ERROR,
                f"unknown resourceType {kind!r}",
                None,
                ("resourceType",),
                (kind,),
                "resourceType",
            )
        ]
    try:
        model.model_validate(dict(resource))
    except ValidationError as e:
        return [
            Finding(
                "fhir.structure",
                Level.ERROR,
                f"{kind}: {err['msg']}",
                None,
                (str(kind),),
                (err.get("input"),),
                _location(str(kind), err["loc"]),
            )
            for err in e.errors()
        ]
    return []


def _location(kind: str, loc: tuple[int | str, ...]) -> str:
    out = kind
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out
