"""Data quality of an OMOP database: the OHDSI DQD v2 checks and our clinical ones (an edge).

`run_checks(url)` runs every check the vendored DQD CSVs switch on (dqd/, spec.py), as SQL of
our own for PostgreSQL and SQLite (sql_*.py), plus the clinical plausibility checks a sarcoma
registry needs (clinical.py), and judges each by the DQD's rules (model.py). `mds-adapter db
check` is the command; docs/data-quality.md says what runs and how to read it.
"""

from __future__ import annotations

from adapter.quality.known import KNOWN, Known
from adapter.quality.model import Check, Result, Status
from adapter.quality.runner import Report, all_checks, run_checks

__all__ = ["KNOWN", "Check", "Known", "Report", "Result", "Status", "all_checks", "run_checks"]
