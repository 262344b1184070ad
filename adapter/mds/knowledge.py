"""Site and histology knowledge the rules and the generator share, read from terminology/.

ICD-O-3 topography → tissue, anatomic region, laterality requirement and registry scope;
ICD-O-3 morphology → sarcoma whitelist class (sarcoma / intermediate / legacy) and tissue;
morphology ranges that are not sarcomas. See terminology/README.md for the columns.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from adapter.mds.dictionary import terminology_dir

__all__ = [
    "Histology",
    "RejectRange",
    "Site",
    "histologies",
    "reject_reason",
    "sites",
]


@dataclass(frozen=True, slots=True)
class Site:
    code: str
    label: str
    tissue: Literal["bone", "soft_tissue", "other"]
    region: str  # upper_extremity | lower_extremity | pelvis | extremity (either limb) | ""
    laterality: Literal["paired", "not_paired", "required", "any"]
    scope: Literal["core", "boundary"]


@dataclass(frozen=True, slots=True)
class Histology:
    code: str
    label: str
    tissue: Literal["bone", "soft_tissue", "both"]
    cls: Literal["sarcoma", "intermediate", "legacy"]
    replaced_by: str

    @property
    def morphology(self) -> str:
        return self.code.split("/")[0]


@dataclass(frozen=True, slots=True)
class RejectRange:
    first: int
    last: int
    reason: str


def _rows(name: str) -> list[dict[str, str]]:
    path: Path = terminology_dir() / name
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def _pick(row: dict[str, str], column: str, allowed: tuple[str, ...], file: str) -> Any:
    """A column value checked against its allowed values (the TSVs are edited by hand)."""
    value = row[column]
    if value not in allowed:
        raise ValueError(f"terminology/{file}: {row['code']}: {column} {value!r} not in {allowed}")
    return value


@cache
def sites() -> dict[str, Site]:
    f = "icdo3-sites.tsv"
    return {
        r["code"]: Site(
            code=r["code"],
            label=r["label"],
            tissue=_pick(r, "tissue", ("bone", "soft_tissue", "other"), f),
            region=_pick(
                r, "region", ("upper_extremity", "lower_extremity", "pelvis", "extremity", ""), f
            ),
            laterality=_pick(r, "laterality", ("paired", "not_paired", "required", "any"), f),
            scope=_pick(r, "scope", ("core", "boundary"), f),
        )
        for r in _rows(f)
    }


@cache
def histologies() -> dict[str, Histology]:
    f = "sarcoma-histology.tsv"
    return {
        r["code"]: Histology(
            code=r["code"],
            label=r["label"],
            tissue=_pick(r, "tissue", ("bone", "soft_tissue", "both"), f),
            cls=_pick(r, "class", ("sarcoma", "intermediate", "legacy"), f),
            replaced_by=r["replaced_by"],
        )
        for r in _rows(f)
    }


@cache
def _reject_ranges() -> tuple[RejectRange, ...]:
    return tuple(
        RejectRange(int(r["first"]), int(r["last"]), r["reason"])
        for r in _rows("histology-reject-ranges.tsv")
    )


def reject_reason(morphology: int) -> str | None:
    """Why a morphology (4 digits, no behaviour) is not a sarcoma, if a known range says so."""
    for r in _reject_ranges():
        if r.first <= morphology <= r.last:
            return r.reason
    return None
