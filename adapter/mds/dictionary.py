"""The MDS data dictionary, read from terminology/mds-dictionary.tsv.

The dictionary is the contract: the record model (record.py) and docs/mds.md are generated from
it by `python -m adapter.mds.gen`, and tests fail when either drifts. Nothing here does more than
parse the file into typed rows, so every other module can ask the dictionary instead of repeating
what it says.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

__all__ = [
    "DICTIONARY_FILE",
    "Element",
    "ElementType",
    "element",
    "elements",
    "terminology_dir",
]

ElementType = Literal["string", "code", "code_list", "date", "partial_date", "integer", "decimal"]
_TYPES: frozenset[str] = frozenset(
    ("string", "code", "code_list", "date", "partial_date", "integer", "decimal")
)


def terminology_dir() -> Path:
    """The top-level terminology/ folder (override with MDS_ADAPTER_TERMINOLOGY_DIR)."""
    override = os.environ.get("MDS_ADAPTER_TERMINOLOGY_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2] / "terminology"


DICTIONARY_FILE = "mds-dictionary.tsv"


@dataclass(frozen=True, slots=True)
class Element:
    """One row of the dictionary.

    `codes` holds the closed list of allowed codes. Three coded elements are open instead, and
    say so in their codes column: ICD-O-3 topography and morphology (any well-formed code; the
    eligibility rules judge it) and ISO 3166-1 country codes; for those `codes` holds the codes
    the dictionary lists (the in-scope sites) and `codes_note` the rest of the column.
    """

    name: str
    group: str
    level: Literal["core", "extension"]
    type: ElementType
    unit: str
    codes: tuple[str, ...]
    codes_note: str
    definition: str

    @property
    def is_open_code(self) -> bool:
        return self.type == "code" and bool(self.codes_note)


def _parse_codes(raw: str) -> tuple[tuple[str, ...], str]:
    raw = raw.strip()
    if not raw:
        return (), ""
    if ";" not in raw:  # a description of an open code system, e.g. "ISO 3166-1 alpha-2"
        return (), raw
    listed, _, note = raw.partition(" (")
    codes = tuple(c.strip() for c in listed.split(";") if c.strip())
    return codes, ("(" + note) if note else ""


def _read(path: Path) -> tuple[Element, ...]:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    out = []
    for row in rows:
        if row["type"] not in _TYPES:
            raise ValueError(f"{path}: element {row['element']}: unknown type {row['type']!r}")
        if row["level"] not in ("core", "extension"):
            raise ValueError(f"{path}: element {row['element']}: unknown level {row['level']!r}")
        codes, note = _parse_codes(row["codes"])
        out.append(
            Element(
                name=row["element"],
                group=row["group"],
                level=row["level"],  # type: ignore[arg-type]
                type=row["type"],  # type: ignore[arg-type]
                unit=row["unit"],
                codes=codes,
                codes_note=note,
                definition=row["definition"],
            )
        )
    return tuple(out)


@cache
def elements() -> tuple[Element, ...]:
    """All elements, in dictionary order."""
    return _read(terminology_dir() / DICTIONARY_FILE)


@cache
def _by_name() -> dict[str, Element]:
    return {e.name: e for e in elements()}


def element(name: str) -> Element:
    return _by_name()[name]
