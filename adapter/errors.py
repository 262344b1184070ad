"""Findings (bad data, reported) and exceptions (programmer or I/O failures, raised).

Bad data is never an exception: readers and rules yield `Finding`s that name the record, the
element, the value and what was expected, and the caller picks the policy (reject, quarantine,
warn). Exceptions are few:

    AdapterError                  base of everything this package raises on purpose
    ├── ConfigurationError        settings or policy values that cannot work
    └── SourceError               an input that cannot be read at all (missing file, bad header)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "AdapterError",
    "ConfigurationError",
    "Finding",
    "Level",
    "SourceError",
]


class AdapterError(Exception):
    """Base of the exceptions this package raises on purpose."""


class ConfigurationError(AdapterError):
    """A setting or policy value that cannot work."""


class SourceError(AdapterError):
    """An input that cannot be read at all (as opposed to bad records inside it)."""


class Level(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing wrong (or worth saying) about one record or one unit of input.

    `code` is stable and machine-readable: `rule.R07` for eligibility rules, `mds.*` for record
    validation, `source.*` for unreadable input. `elements` and `values` are parallel: the
    elements involved and the values they held. `location` says where in the input
    (e.g. "line 12"); `raw` keeps the rejected input so it can be quarantined, not lost.
    """

    code: str
    level: Level
    message: str
    record_id: str | None = None
    elements: tuple[str, ...] = ()
    values: tuple[Any, ...] = ()
    location: str | None = None
    raw: str | None = field(default=None, repr=False)

    @property
    def rule(self) -> str | None:
        return self.code.removeprefix("rule.") if self.code.startswith("rule.") else None

    def describe(self) -> str:
        """One line for people: where, which record, what."""
        where = ", ".join(
            p for p in (self.location, f"record {self.record_id}" if self.record_id else "") if p
        )
        return f"{where}: {self.message}" if where else self.message

    def to_json(self) -> Mapping[str, Any]:
        out: dict[str, Any] = {"code": self.code, "level": self.level.value}
        if self.record_id is not None:
            out["record_id"] = self.record_id
        if self.location is not None:
            out["location"] = self.location
        out["elements"] = list(self.elements)
        out["values"] = [_jsonable(v) for v in self.values]
        out["message"] = self.message
        return out


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return str(value)
