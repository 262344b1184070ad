"""The DQD's table- and field-level checks for one dialect: one Check per CSV row it applies to.

Which checks exist, where, and with which threshold is the vendored CSVs' business (spec.py);
the SQL of each kind of check is in sql_conformance, sql_completeness and sql_plausibility.
"""

from __future__ import annotations

from adapter.omop.schema import Dialect
from adapter.quality import sql_completeness, sql_conformance, sql_plausibility
from adapter.quality.dialect import Sql
from adapter.quality.model import Check
from adapter.quality.spec import SELECTORS, selected
from adapter.quality.sql_common import Builder

__all__ = ["BUILDERS", "dqd_checks"]

BUILDERS: dict[str, Builder] = {
    **sql_conformance.BUILDERS,
    **sql_completeness.BUILDERS,
    **sql_plausibility.BUILDERS,
}
"""Check name → SQL builder, for every check name of spec.SELECTORS."""

if set(BUILDERS) != set(SELECTORS):  # a programming error, caught on import
    raise RuntimeError(f"checks without SQL or selector: {set(BUILDERS) ^ set(SELECTORS)}")


def dqd_checks(dialect: Dialect) -> list[Check]:
    """Every DQD check the CSVs switch on, in the DQD's order of check names."""
    s = Sql(dialect)
    found = []
    for name, row in selected():
        built = BUILDERS[name](row, s)
        found.append(
            Check(
                name=name,
                level=row.level,
                table=row.table,
                field=row.field,
                threshold=row.threshold(name),
                sql=built.sql,
                description=built.description,
            )
        )
    return found
