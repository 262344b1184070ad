"""Turn pydantic validation errors into one finding per rejected record.

The message names each bad element, its value and what the dictionary expects, e.g.
`sex = "M": expected one of male, female, other, unknown; tumour_size_cm = -3: expected a
number in cm greater than 0`. Every reader uses this, so one bad record reads the same
whatever format it came in.
"""

from __future__ import annotations

import difflib
from typing import Any

import orjson
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from adapter.errors import Finding, Level
from adapter.mds.dictionary import Element, element, elements
from adapter.mds.types import canonical_number

__all__ = ["element_problems", "expected", "invalid_record", "show_value"]

_BOUNDS = {"gt": "greater than", "ge": "at least", "lt": "less than", "le": "at most"}


def show_value(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return repr(value)


def expected(e: Element) -> str:
    """What an element's value must look like, in words."""
    if e.type == "code_list":
        return f"a list of distinct codes from {', '.join(e.codes)}"
    if e.type == "code" and e.codes and not e.codes_note:
        return f"one of {', '.join(e.codes)}"
    return {
        "string": "text",
        "code": e.codes_note,
        "date": "a date YYYY-MM-DD",
        "partial_date": "a date YYYY, YYYY-MM or YYYY-MM-DD",
        "integer": "a whole number",
        "decimal": f"a number in {e.unit}" if e.unit else "a number",
    }[e.type]


def _bound(err: ErrorDetails) -> str:
    ctx = err.get("ctx") or {}
    return " and ".join(
        f"{_BOUNDS[k]} {canonical_number(float(v))}" for k, v in ctx.items() if k in _BOUNDS
    )


def _problem(err: ErrorDetails) -> tuple[str, str, Any]:
    """(element, text, value) for one pydantic error."""
    loc = err["loc"]
    name = str(loc[0]) if loc else ""
    value = err.get("input")
    kind = err["type"]
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(name, [e.name for e in elements()], n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        return name, f"{name} is not an MDS element{hint}", value
    if kind == "missing":
        return name, f"{name} is required", None
    e = element(name)
    where = f"{name}[{loc[1]}]" if len(loc) > 1 else name
    detail = ""
    if kind == "value_error":
        detail = str((err.get("ctx") or {}).get("error", err["msg"]))
    elif _bound(err):
        detail = f"expected {expected(e)} {_bound(err)}"
    elif kind in ("date_parsing", "date_from_datetime_parsing"):
        detail = f"expected {expected(e)}: {(err.get('ctx') or {}).get('error', 'not a date')}"
    if not detail:
        detail = f"expected {expected(e)}"
    elif not detail.startswith("expected"):
        detail = f"{detail}; expected {expected(e)}"
    return name, f"{where} = {show_value(value)}: {detail}", value


def element_problems(exc: ValidationError) -> list[tuple[str, str, Any]]:
    """(element, text, value) for each error of a rejected record, for readers that word the
    finding themselves (they know the row or variable an element came from)."""
    return [_problem(err) for err in exc.errors(include_url=False)]


def invalid_record(
    exc: ValidationError, *, location: str, record_id: str | None, raw: str
) -> Finding:
    """One finding for a record the model rejected, listing every bad element."""
    problems = element_problems(exc)
    return Finding(
        code="mds.invalid-record",
        level=Level.ERROR,
        message="; ".join(text for _, text, _ in problems),
        record_id=record_id,
        elements=tuple(name for name, _, _ in problems),
        values=tuple(value for _, _, value in problems),
        location=location,
        raw=raw,
    )
