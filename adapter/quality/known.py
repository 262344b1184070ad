"""Failures to expect on an adapter database, each with its cause: documented, not hidden.

`mds-adapter db check` marks a failing check listed here "known (<cause>)" and still counts it
as a failure for the exit code unless `--allow-known` is given. Two causes are accepted:

- the bundled vocabulary (terminology/vocab/) is a small subset of Athena: codes that a full
  vocabulary maps stay concept 0 with their source value. With a full Athena download loaded
  (`mds-adapter db init --athena DIR`) these checks should pass; if they still fail, they are
  real findings;
- the MDS has no such data: the DQD expects most persons to have visits and drug exposures,
  which a sarcoma MDS record does not hold (docs/omop-mapping.md: "No DRUG_EXPOSURE").

Everything else that fails is a finding about the data or the mapping. The list was found by
running every check on 2,000 generated records loaded through the real load path
(tests/db/test_db_check.py holds the full expected list, with the mapping bugs apart).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["KNOWN", "NO_SUCH_DATA", "VOCABULARY_SUBSET", "Known"]

VOCABULARY_SUBSET = "bundled vocabulary subset"
NO_SUCH_DATA = "the MDS has no such data"


@dataclass(frozen=True, slots=True)
class Known:
    """Why a check is expected to fail: the cause (one of the constants above) and the detail."""

    cause: str
    reason: str


_ICDO3 = (
    "ICDO3 histology-topography pairs the bundled vocabulary lacks (every bone site, C40/C41, "
    "conflict C9) are written as concept 0 with their source value (docs/omop-mapping.md, "
    "Resolver)"
)

KNOWN: Mapping[str, Known] = {
    "standardConceptRecordCompleteness:condition_occurrence.condition_concept_id": Known(
        VOCABULARY_SUBSET, f"{_ICDO3}: more than 5 % of conditions carry concept 0"
    ),
    "sourceConceptRecordCompleteness:condition_occurrence.condition_source_concept_id": Known(
        VOCABULARY_SUBSET, f"{_ICDO3}: their condition_source_concept_id is 0 as well"
    ),
    "sourceValueCompleteness:condition_occurrence.condition_source_value": Known(
        VOCABULARY_SUBSET, f"{_ICDO3}: more than 10 % of distinct source values are unmapped"
    ),
    "measurePersonCompleteness:visit_occurrence": Known(
        NO_SUCH_DATA, "the MDS records no visits: no person has a VISIT_OCCURRENCE"
    ),
    "measurePersonCompleteness:drug_exposure": Known(
        NO_SUCH_DATA,
        "systemic_regimen is free text with no drug concept: the course is a Cancer Drug "
        "Treatment episode around a Chemotherapy procedure, never a DRUG_EXPOSURE",
    ),
    "measurePersonCompleteness:drug_era": Known(
        NO_SUCH_DATA, "no DRUG_EXPOSURE rows, so no drug eras can be derived"
    ),
}
"""Check key (`name:table[.field]`) → why it is expected to fail."""
