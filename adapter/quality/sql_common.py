"""What every check builder shares: the statement shape, the builder type, SQL literals.

Every check is `SELECT (violating) AS num_violated_rows, (denominator) AS num_denominator_rows`:
two scalar subqueries, valid on PostgreSQL and SQLite alike, so the runner reads one row of two
integers whatever the check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from adapter.quality.dialect import Sql
from adapter.quality.spec import Row

__all__ = ["Builder", "Built", "count", "literal", "ratio"]


@dataclass(frozen=True, slots=True)
class Built:
    """One check's SQL and a one-line description of what its violating rows are."""

    sql: str
    description: str


Builder = Callable[[Row, Sql], Built]
"""Builds the check for one CSV row (table or field) in one dialect."""


def count(from_where: str) -> str:
    """`SELECT COUNT(*) FROM …` for a FROM (and WHERE) clause."""
    return f"SELECT COUNT(*) FROM {from_where}"


def ratio(violating: str, denominator: str) -> str:
    """The statement every check runs: both counts, as one row."""
    return f"SELECT ({violating}) AS num_violated_rows, ({denominator}) AS num_denominator_rows"


def literal(text: str) -> str:
    """A string constant from the CSVs (a domain or class name) as an SQL literal."""
    return "'" + text.replace("'", "''") + "'"
