"""Quantities read from foreign FHIR: units converted exactly, unknown units never guessed.

A value is taken as the decimal the sender wrote (the shortest text of the parsed number, which
is what the JSON said), and converted with decimal arithmetic: 107 cGy is 1.07 Gy and 45 mm is
4.5 cm, with no binary noise. A unit no table here knows gives None, and the reader reports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from adapter.fhir.codes import UCUM

__all__ = ["AGE_IN_YEARS", "age_in_years", "exact"]

# UCUM age unit → how many make a year (Condition.onsetAge, Age at diagnosis)
AGE_IN_YEARS = {
    "a": Decimal(1),
    "mo": Decimal(12),
    "wk": Decimal("52.1775"),
    "d": Decimal("365.25"),
}


def exact(value: Any) -> Decimal | None:
    """The decimal a JSON number stands for (bools and text are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return Decimal(value) if isinstance(value, int) else Decimal(repr(value))


def _unit(q: Mapping[str, Any]) -> str | None:
    """The UCUM code of a Quantity (its `unit` when no code is given); None if not UCUM."""
    if q.get("system", UCUM) != UCUM:
        return None
    found = q.get("code") or q.get("unit")
    return found if isinstance(found, str) else None


def age_in_years(q: Mapping[str, Any]) -> int | None:
    """Completed years of a UCUM age (54 a → 54, 30 mo → 2), None for anything else."""
    value, unit = exact(q.get("value")), _unit(q)
    if value is None or unit not in AGE_IN_YEARS or value < 0:
        return None
    return int((value / AGE_IN_YEARS[unit]).to_integral_value(rounding=ROUND_FLOOR))
