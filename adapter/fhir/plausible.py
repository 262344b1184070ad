"""FHIR date and time primitives: the R4 grammar, then the calendar.

The regular expressions are those of the FHIR R4 datatypes page (datatypes.html#primitive),
so `2019-03-06T25:61:00Z` fails the grammar (hours 00-23, minutes 00-59). The grammar allows
day 31 in any month, so the calendar is checked on top (`2019-02-30` does not exist). A leap
second (`:60`) is grammatical and accepted as written.
"""

from __future__ import annotations

import calendar
import re

__all__ = ["DATE_TYPES", "date_problem"]

_YEAR = r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)"
_MONTH = r"(0[1-9]|1[0-2])"
_DAY = r"(0[1-9]|[1-2][0-9]|3[0-1])"
_TIME = r"([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?"
_ZONE = r"(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
_GRAMMAR = {
    "date": re.compile(f"{_YEAR}(-{_MONTH}(-{_DAY})?)?"),
    "dateTime": re.compile(f"{_YEAR}(-{_MONTH}(-{_DAY}(T{_TIME}{_ZONE})?)?)?"),
    "instant": re.compile(f"{_YEAR}-{_MONTH}-{_DAY}T{_TIME}{_ZONE}"),
    "time": re.compile(_TIME),
}
_SHAPE = {
    "date": "YYYY, YYYY-MM or YYYY-MM-DD",
    "dateTime": "YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss(.sss) with a time zone",
    "instant": "YYYY-MM-DDThh:mm:ss(.sss) with a time zone",
    "time": "hh:mm:ss(.sss)",
}
DATE_TYPES = frozenset(_GRAMMAR)


def date_problem(kind: str, value: str) -> str | None:
    """Why `value` is not a FHIR `kind` (date, dateTime, instant, time), or None when it is."""
    if _GRAMMAR[kind].fullmatch(value) is None:
        return f"is not a FHIR {kind} ({_SHAPE[kind]}, FHIR R4 datatypes)"
    if kind != "time" and len(value) >= 10:
        year, month, day = int(value[:4]), int(value[5:7]), int(value[8:10])
        if day > calendar.monthrange(year, month)[1]:
            return f"names a day that does not exist ({year:04d}-{month:02d} has no day {day})"
    return None
