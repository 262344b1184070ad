"""A StructureDefinition's differential compiled into a tree of checks the validator walks.

The differential is a flat list of element ids (`Procedure.extension:sameHospital.value[x]`);
the validator needs a tree keyed by JSON names so it visits only what a profile constrains
(that is what keeps it fast). Each `Node` holds the rules of one element: cardinality,
fixed / pattern value, binding, allowed types of a choice element, and its slices with a
`matcher` that tells which repetition belongs to which slice.

Slices are matched the way the discriminators say where that can be decided on the instance
alone: by extension url, by a fixed or pattern value (at the slice itself or at a child path), by
the choice type (`value[x]:valueReference`), and, when a slice carries no fixed value but a
required binding to an enumerable ValueSet, by membership in it (the IG slices
`clinicalStatus.coding` by `system` that way). Discriminators that need `resolve()` or a profile
cannot be decided without the referenced resource: such slices get no matcher and their
cardinality is not checked (the README of profiles/ lists them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from adapter.fhir.profiles import Profiles

__all__ = ["Binding", "Matcher", "Node", "Structure", "compile_structure", "matches_pattern"]

Matcher = Callable[[Any], bool]


@dataclass(frozen=True, slots=True)
class Binding:
    strength: str
    value_set: str


@dataclass(slots=True)
class Node:
    """One element of a differential, with its children by JSON name and its slices."""

    name: str
    element_id: str
    min: int = 0
    max: int | None = None
    fixed: Any = None
    pattern: Any = None
    binding: Binding | None = None
    types: tuple[str, ...] = ()
    profiles: tuple[str, ...] = ()
    children: dict[str, Node] = field(default_factory=dict)
    slice_name: str | None = None
    slices: list[Node] = field(default_factory=list)
    discriminators: tuple[tuple[str, str], ...] = ()
    closed: bool = False
    matcher: Matcher | None = None

    @property
    def choice(self) -> bool:
        return self.name.endswith("[x]")

    def child(self, name: str, element_id: str) -> Node:
        node = self.children.get(name)
        if node is None:
            node = self.children[name] = Node(name, element_id)
        return node

    def slice(self, name: str, element_id: str) -> Node:
        for s in self.slices:
            if s.slice_name == name:
                return s
        node = Node(self.name, element_id, slice_name=name)
        self.slices.append(node)
        return node


@dataclass(frozen=True, slots=True)
class Structure:
    """A compiled profile: its canonical URL, name, resource type and root node."""

    url: str
    name: str
    type: str
    root: Node


def compile_structure(sd: Mapping[str, Any], profiles: Profiles) -> Structure:
    """Build the check tree of one StructureDefinition from its differential."""
    kind = sd["type"]
    root = Node(kind, kind)
    for element in sd.get("differential", {}).get("element", ()):
        segments = element["id"].split(".")
        node = root
        for i, segment in enumerate(segments[1:], start=2):
            name, _, slice_name = segment.partition(":")
            node = node.child(name, ".".join([*segments[: i - 1], name]))
            if slice_name:
                node = node.slice(slice_name, ".".join(segments[:i]))
        if node is not root:
            _apply(node, element)
    _matchers(root, profiles)
    return Structure(sd["url"], sd.get("name", sd["id"]), kind, root)


def _apply(node: Node, element: Mapping[str, Any]) -> None:
    if "min" in element:
        node.min = element["min"]
    if "max" in element:
        node.max = None if element["max"] == "*" else int(element["max"])
    for key, value in element.items():
        if key.startswith("fixed"):
            node.fixed = value
        elif key.startswith("pattern"):
            node.pattern = value
    binding = element.get("binding")
    if binding and "valueSet" in binding:
        node.binding = Binding(binding["strength"], binding["valueSet"].split("|")[0])
    types = element.get("type", ())
    node.types = tuple(t["code"] for t in types)
    node.profiles = tuple(p for t in types for p in t.get("profile", ()))
    slicing = element.get("slicing")
    if slicing:
        node.discriminators = tuple(
            (d["type"], d["path"]) for d in slicing.get("discriminator", ())
        )
        node.closed = slicing.get("rules") == "closed"


def _matchers(node: Node, profiles: Profiles) -> None:
    discriminators = node.discriminators
    if not discriminators and node.name in ("extension", "modifierExtension"):
        discriminators = (("value", "url"),)
    for s in node.slices:
        if not node.choice:
            s.matcher = _slice_matcher(s, discriminators, profiles)
        _matchers(s, profiles)
    for child in node.children.values():
        _matchers(child, profiles)


def _slice_matcher(
    s: Node, discriminators: tuple[tuple[str, str], ...], profiles: Profiles
) -> Matcher | None:
    parts: list[Matcher] = []
    for kind, path in discriminators:
        if kind not in ("value", "pattern") or "resolve()" in path:
            return None
        steps = [] if path == "$this" else path.removeprefix("$this.").split(".")
        target: Node | None = s
        for step in steps:
            target = target.children.get(step) if target else None
        part = _value_matcher(s, target, steps, profiles)
        if part is None:
            return None
        parts.append(part)
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else (lambda item: all(p(item) for p in parts))


def _value_matcher(
    s: Node, target: Node | None, steps: list[str], profiles: Profiles
) -> Matcher | None:
    if target is not None and (target.fixed is not None or target.pattern is not None):
        expected = target.fixed if target.fixed is not None else target.pattern
        exact = target.fixed is not None
        return lambda item: _at(item, steps, expected, exact)
    if steps == ["url"] and s.profiles:
        url = s.profiles[0]
        return lambda item: isinstance(item, dict) and item.get("url") == url
    binding = (target or s).binding
    expansion = profiles.expansion(binding.value_set) if binding else None
    if expansion is None or not expansion.complete:
        return None
    if steps == ["system"]:
        systems = expansion.systems
        return lambda item: isinstance(item, dict) and item.get("system") in systems
    if not steps:
        return lambda item: (
            isinstance(item, dict) and expansion.has(item.get("system"), str(item.get("code")))
        )
    return None


def _at(item: Any, steps: list[str], expected: Any, exact: bool) -> bool:
    values = [item]
    for step in steps:
        nxt: list[Any] = []
        for v in values:
            got = v.get(step) if isinstance(v, dict) else None
            if isinstance(got, list):
                nxt.extend(got)
            elif got is not None:
                nxt.append(got)
        values = nxt
    if exact:
        return any(v == expected for v in values)
    return any(matches_pattern(v, expected) for v in values)


def matches_pattern(value: Any, pattern: Any) -> bool:
    """FHIR pattern[x] semantics: every element the pattern has, the value has too."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(
            matches_pattern(value.get(k), p) for k, p in pattern.items()
        )
    if isinstance(pattern, list):
        items = value if isinstance(value, list) else [value]
        return all(any(matches_pattern(v, p) for v in items) for p in pattern)
    return bool(value == pattern)
