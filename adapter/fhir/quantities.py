"""Quantities read from foreign FHIR: units converted exactly, unknown units never guessed.

A value is taken as the decimal the sender wrote (the shortest text of the parsed number, which
is what the JSON said: `10.70` and `10.7` are one number), and converted with decimal arithmetic:
107 cGy is 1.07 Gy and 45 mm is 4.5 cm, with no binary noise. A unit no table here knows, or a
system other than UCUM, is reported (`fhir.unsupported-value`) and gives no value.

Senders that keep numbers as 32-bit floats write 10.7 as 10.699999809265137 (the IDEA4RC IG's
own dose and BMI examples do): digits past a float32's 7 significant ones carry no information.
A number that is exactly a float32 and whose shortest float32 text is shorter is read as that
text (10.7), and the rounding is reported (`fhir.rounded-value`) with both numbers.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from adapter.fhir.codes import UCUM, Draft

__all__ = [
    "AGE_IN_YEARS",
    "CM",
    "GY",
    "PERCENT",
    "age_in_years",
    "exact",
    "float32_text",
    "measure",
]

# UCUM unit → its value in the MDS element's unit (the dictionary's unit column)
GY = {"Gy": Decimal(1), "cGy": Decimal("0.01"), "mGy": Decimal("0.001")}
CM = {"cm": Decimal(1), "mm": Decimal("0.1"), "m": Decimal(100)}
PERCENT = {"%": Decimal(1)}

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


def float32_text(value: float) -> str | None:
    """The shortest text of a float32 that `value` is exactly, when shorter than its own."""
    try:
        single = struct.unpack("f", struct.pack("f", value))[0]
    except OverflowError:
        return None
    if single != value:
        return None
    for digits in range(1, 10):
        text = f"{value:.{digits}g}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == single:
            return text if len(text) < len(repr(value)) else None
    return None


def measure(
    q: Any, units: Mapping[str, Decimal], d: Draft, resource: Mapping[str, Any], path: str
) -> float | None:
    """A Quantity in the element's unit (`units`: UCUM code → factor), exactly; else reported."""
    q = q if isinstance(q, Mapping) else {}
    value, unit = exact(q.get("value")), _unit(q)
    if value is None or unit is None or unit not in units:
        known = ", ".join(units)
        d.report(
            "fhir.unsupported-value", resource, path,
            f"{path}: needs a number in UCUM {known}", str(dict(q)),
        )  # fmt: skip
        return None
    raw = q["value"]
    if isinstance(raw, float) and (text := float32_text(raw)) is not None:
        d.report(
            "fhir.rounded-value", resource, path,
            f"{path}: {raw!r} is the 32-bit float of {text}; read as {text}", values=(raw, text),
        )  # fmt: skip
        value = Decimal(text)
    return float(value * units[unit])
