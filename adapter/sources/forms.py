"""What the REDCap and Excel forms share: words for people, value bounds, cell text → value.

The dictionary has element names and codes but no labels, and a form filled by people needs
them. They are derived here, by one rule, so the REDCap data dictionary, a REDCap "labels"
export and the Excel form all say the same thing, and a label can be read back to its code:
`wide_resection_limb_salvage` → "Wide resection limb salvage", `tumour_size_cm` → "Tumour size
(cm)". The rule is injective within an element (a test checks), which is what lets the labels
form round-trip.
"""

from __future__ import annotations

import re
import typing
from functools import cache
from typing import Any

import annotated_types

from adapter.mds.dictionary import Element, elements
from adapter.mds.record import MdsRecord
from adapter.mds.types import canonical_number

__all__ = [
    "LIST_SEPARATOR",
    "Bounds",
    "bounds",
    "code_label",
    "element_label",
    "from_text",
    "label_codes",
    "to_text",
    "unit_name",
]

LIST_SEPARATOR = ";"  # as in the MDS CSV table: "lung;bone"
_INTEGER = re.compile(r"^[+-]?\d+$")
_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
# words spelled otherwise than in lower case; a unit word at the end becomes "(unit)"
_WORDS = {
    "id": "ID", "icdo3": "ICD-O-3", "ajcc": "AJCC", "enneking": "Enneking",
    "t": "T", "n": "N", "m": "M", "r": "R",
}  # fmt: skip
_UNIT_WORDS = {"cm": "cm", "gy": "Gy"}
_UNITS = {"a": "years"}


def code_label(code: str) -> str:
    """A code in words: underscores become spaces, a lower-case first word is capitalised."""
    first, *rest = code.split("_")
    if first.islower():
        first = first[0].upper() + first[1:]
    return " ".join([first, *rest])


def unit_name(unit: str) -> str:
    """A dictionary unit as people read it ("a" is years)."""
    return _UNITS.get(unit, unit)


def element_label(e: Element) -> str:
    """An element name in words, with its unit: "Tumour size (cm)", "Record ID"."""
    words = e.name.split("_")
    if words[-1] in _UNIT_WORDS and _UNIT_WORDS[words[-1]] == e.unit:
        words = words[:-1]
    text = " ".join(_WORDS.get(w, w) for w in words)
    text = text[0].upper() + text[1:]
    return f"{text} ({unit_name(e.unit)})" if e.unit else text


@cache
def label_codes(name: str) -> dict[str, str]:
    """Label → code for one element's listed codes (the reverse of `code_label`)."""
    e = next(e for e in elements() if e.name == name)
    return {code_label(c): c for c in e.codes}


class Bounds(typing.NamedTuple):
    """Numeric limits of an element as the record model enforces them (None: no limit)."""

    minimum: float | None
    maximum: float | None
    exclusive_minimum: bool


@cache
def bounds(name: str) -> Bounds:
    """The model's limits for a number element, read from its annotation (one source)."""
    found: list[Any] = []

    def walk(tp: Any) -> None:
        for arg in typing.get_args(tp):
            found.extend(getattr(arg, "metadata", ()) if not isinstance(arg, type) else ())
            walk(arg)

    walk(MdsRecord.model_fields[name].annotation)
    low = high = None
    exclusive = False
    for m in found:
        if isinstance(m, annotated_types.Gt):
            low, exclusive = float(m.gt), True  # type: ignore[arg-type]
        elif isinstance(m, annotated_types.Ge):
            low = float(m.ge)  # type: ignore[arg-type]
        elif isinstance(m, annotated_types.Le):
            high = float(m.le)  # type: ignore[arg-type]
        elif isinstance(m, annotated_types.Lt):
            high = float(m.lt)  # type: ignore[arg-type]
    return Bounds(low, high, exclusive)


def from_text(e: Element, text: str) -> Any:
    """The JSON value a cell's text stands for; text that is not a number stays text, so the
    error message shows what was written."""
    if e.type == "integer" and _INTEGER.match(text):
        return int(text)
    if e.type == "decimal" and _DECIMAL.match(text):
        return float(text)
    if e.type == "code_list":
        return [part.strip() for part in text.split(LIST_SEPARATOR)]
    return text


def to_text(value: Any) -> str:
    """A record value as cell text: the inverse of `from_text`."""
    if isinstance(value, list):
        return LIST_SEPARATOR.join(value)
    if isinstance(value, float):
        return str(canonical_number(value))
    return str(value)
