"""What every rule module shares: the Rule record, the policy configuration, small helpers.

A rule is a function `check(record, config) -> Iterator[Finding]` with an id, a title and a
level; rule modules build their findings with `finding()` so every message names the elements
and values involved in the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from adapter.errors import Finding, Level
from adapter.mds.knowledge import sites
from adapter.mds.record import MdsRecord
from adapter.mds.types import partial_date_bounds

__all__ = [
    "Check",
    "Rule",
    "RuleConfig",
    "RuleLevel",
    "age_range",
    "completed_years",
    "finding",
    "show",
    "tissue",
]

RuleLevel = Literal["error", "warning", "policy", "info"]


class RuleConfig(BaseModel):
    """Registry policy: what the registry decides, not what the data says."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    intermediate_tumours: Literal["include", "warn", "exclude"] = Field(
        "warn", description="R04: how behaviour /1 intermediate tumours are treated"
    )
    min_age: int | None = Field(None, ge=0, description="R16: exclude younger patients")
    max_age: int | None = Field(None, ge=0, description="R16: exclude older patients")
    paediatric_age: int = Field(18, ge=0, description="R16: info below this age")


Check = Callable[[MdsRecord, RuleConfig], Iterator[Finding]]


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    title: str
    level: RuleLevel
    check: Check

    def __call__(self, record: MdsRecord, config: RuleConfig) -> Iterator[Finding]:
        return self.check(record, config)


def show(value: Any) -> str:
    """A value as a message shows it: codes bare, dates ISO, lists comma-joined."""
    if value is None:
        return "not recorded"
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def finding(rule: str, level: Level, record: MdsRecord, message: str, **elements: Any) -> Finding:
    """A rule finding naming `elements` (name=value, in the order given)."""
    return Finding(
        code=f"rule.{rule}",
        level=level,
        message=f"{rule}: {message}",
        record_id=record.record_id,
        elements=tuple(elements),
        values=tuple(elements.values()),
    )


def tissue(record: MdsRecord) -> str | None:
    """tissue_of_origin when recorded, else the tissue of the topography (bone / soft_tissue)."""
    if record.tissue_of_origin is not None:
        return record.tissue_of_origin
    site = sites().get(record.primary_site_icdo3 or "")
    if site is not None and site.tissue != "other":
        return site.tissue
    return None


def completed_years(born: dt.date, on: dt.date) -> int:
    """Age in completed years on a day."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def age_range(record: MdsRecord) -> tuple[int, int] | None:
    """Youngest and oldest possible age at diagnosis, from age_at_diagnosis or the dates."""
    if record.age_at_diagnosis is not None:
        return record.age_at_diagnosis, record.age_at_diagnosis
    if record.birth_date is None or record.diagnosis_date is None:
        return None
    earliest, latest = partial_date_bounds(record.birth_date)
    dx = record.diagnosis_date
    if earliest > dx:  # impossible dates: R14 says so, there is no age to judge
        return None
    return max(0, completed_years(latest, dx)), completed_years(earliest, dx)
