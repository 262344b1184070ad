"""Value types of MDS elements that a plain Python type does not capture.

Each type validates strictly and keeps the value as written, so JSON → record → JSON is the
identity: a partial birth date stays "1961", an ICD-O-3 code stays "8805/3".
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import re
from functools import cache
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer

from adapter.mds.dictionary import terminology_dir

__all__ = [
    "Age",
    "Count",
    "CountryCode",
    "Fractions",
    "MdsBase",
    "Morphology",
    "NonNegative",
    "PartialDate",
    "Percent",
    "Positive",
    "Text",
    "Topography",
    "TumourSize",
    "UniqueList",
    "canonical_number",
    "country_codes",
    "element_field",
    "partial_date_bounds",
]


class MdsBase(BaseModel):
    """Strict: no coercion, no unknown keys, no NaN; records are values (frozen)."""

    model_config = ConfigDict(
        strict=True, extra="forbid", frozen=True, allow_inf_nan=False, validate_default=False
    )


def canonical_number(value: float) -> float | int:
    """Write 50.0 as 50 so a number read from JSON is written back as it came."""
    return int(value) if value.is_integer() else value


_PARTIAL_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def _check_partial_date(value: str) -> str:
    m = _PARTIAL_DATE.match(value)
    if not m:
        raise ValueError("expected YYYY, YYYY-MM or YYYY-MM-DD")
    year, month, day = int(m[1]), m[2], m[3]
    if year < 1850:
        raise ValueError("year before 1850")
    if month is not None and not 1 <= int(month) <= 12:
        raise ValueError(f"month {month} does not exist")
    if day is not None and not 1 <= int(day) <= calendar.monthrange(year, int(month))[1]:
        raise ValueError(f"day {day} does not exist in {year}-{month}")
    return value


def partial_date_bounds(value: str) -> tuple[dt.date, dt.date]:
    """The earliest and latest day a partial date can stand for."""
    parts = [int(p) for p in value.split("-")]
    year = parts[0]
    if len(parts) == 1:
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    month = parts[1]
    if len(parts) == 2:
        return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])
    day = dt.date(year, month, parts[2])
    return day, day


def _check_text(value: str) -> str:
    if not value.strip():
        raise ValueError("expected text, got an empty string")
    if value != value.strip():
        raise ValueError("text must not start or end with white space")
    return value


_TOPOGRAPHY = re.compile(r"^C\d{2}\.\d$")
_MORPHOLOGY = re.compile(r"^\d{4}/[012369]$")


def _check_topography(value: str) -> str:
    if not _TOPOGRAPHY.match(value):
        raise ValueError("expected an ICD-O-3 topography code Cxx.x, e.g. C49.2")
    return value


def _check_morphology(value: str) -> str:
    if not _MORPHOLOGY.match(value):
        raise ValueError(
            "expected an ICD-O-3 morphology code with behaviour digit (0, 1, 2, 3, 6 or 9), "
            "e.g. 8805/3"
        )
    return value


@cache
def country_codes() -> frozenset[str]:
    with (terminology_dir() / "iso-3166-1-alpha-2.tsv").open(encoding="utf-8") as f:
        return frozenset(row["code"] for row in csv.DictReader(f, delimiter="\t"))


def _check_country(value: str) -> str:
    if value not in country_codes():
        raise ValueError("expected an ISO 3166-1 alpha-2 country code, e.g. NO")
    return value


def _unique(values: list[Any]) -> list[Any]:
    seen = [v for i, v in enumerate(values) if v in values[:i]]
    if seen:
        raise ValueError(f"repeated code {seen[0]}")
    return values


PartialDate = Annotated[str, AfterValidator(_check_partial_date)]
Text = Annotated[str, Field(max_length=255), AfterValidator(_check_text)]
Topography = Annotated[str, AfterValidator(_check_topography)]
Morphology = Annotated[str, AfterValidator(_check_morphology)]
CountryCode = Annotated[str, AfterValidator(_check_country)]
_Number = PlainSerializer(canonical_number)
Positive = Annotated[float, Field(gt=0), _Number]
NonNegative = Annotated[float, Field(ge=0), _Number]
Percent = Annotated[float, Field(ge=0, le=100), _Number]
UniqueList = AfterValidator(_unique)
Age = Annotated[int, Field(ge=0, le=130)]
Count = Annotated[int, Field(ge=1)]


def _plausible(low: float, high: float, what: str, why: str) -> AfterValidator:
    """A bound of plausibility, not of meaning: the message says where it comes from."""

    def check(value: float) -> float:
        if not low <= value <= high:
            raise ValueError(f"expected {what} from {low:g} to {high:g} (plausibility bound of "
                             f"adapter/mds/types.py: {why})")  # fmt: skip
        return value

    return AfterValidator(check)


TumourSize = Annotated[
    float, Field(gt=0), _Number,
    _plausible(0.01, 500, "a size in cm", "under 0.1 mm nothing is measured, and 500 cm is "
               "several times the largest sarcoma reported"),
]  # fmt: skip
Fractions = Annotated[
    int, Field(ge=1),
    _plausible(1, 1000, "a number of fractions", "curative courses, hyperfractionated ones "
               "included, stay well under 100"),
]  # fmt: skip


def element_field(name: str, *, required: bool = False) -> Any:
    """A pydantic Field carrying the element's dictionary row (definition, group, level, unit)."""
    from adapter.mds.dictionary import element

    e = element(name)
    extra: dict[str, Any] = {"group": e.group, "level": e.level, "mds_type": e.type}
    if e.unit:
        extra["unit"] = e.unit
    if required:
        return Field(description=e.definition, json_schema_extra=extra)
    return Field(None, description=e.definition, json_schema_extra=extra)
