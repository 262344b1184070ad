"""CONDITION_OCCURRENCE: the primary tumour, as an ICDO3 histology-topography concept.

- histology_icdo3 + primary_site_icdo3 → condition_concept_id = the ICDO3 concept of
  `morph/beh-topo`; condition_source_value = `8805/3-C49.2` (either part may be empty)
- diagnosis_date → condition_start_date (bounded and typed derived when not recorded: dates.py)
- CONDITION_ERA, derived as OHDSI's era builder derives it: one era per standard condition
  concept of the person (concept 0 gets none), from the start to the occurrence's end, else
  start + 1 day (the builder's rule for an occurrence without an end date), count 1. The
  record is the person, and it has one tumour, so the era is the record's own row: analysts'
  tools (ATLAS condition-era criteria, Achilles) find it without an era build step.

The concept comes from the resolver: by default the bundled diagnosis map and CONCEPT.csv; the
store can pass one backed by a full Athena load. A pair neither knows (every bone site in the
bundled subset, mds-notes conflict C9) is written as concept 0 with its source value and
reported as `omop.unmapped-code`, never invented.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from adapter.errors import Level
from adapter.omop.mapping import CONDITION, PERSON, Reader, Resolver, Writer
from adapter.omop.rows import Ref

__all__ = ["from_omop", "source_value", "to_omop"]


def source_value(histology: str | None, site: str | None) -> str:
    return f"{histology or ''}-{site or ''}"


def to_omop(w: Writer, resolve: Resolver) -> int:
    """Write the condition; return its concept (0 when unmapped) for the disease episode."""
    r = w.record
    concept = None
    if r.histology_icdo3 is not None and r.primary_site_icdo3 is not None:
        concept = resolve("ICDO3", source_value(r.histology_icdo3, r.primary_site_icdo3))
        if concept is None:
            w.finding(
                "omop.unmapped-code", Level.WARNING,
                f"no ICDO3 condition concept for {r.histology_icdo3}-{r.primary_site_icdo3}: "
                "written as concept 0 with its source value",
                ("histology_icdo3", "primary_site_icdo3"),
                (r.histology_icdo3, r.primary_site_icdo3),
            )  # fmt: skip
    start, type_concept = w.date_or_estimate("diagnosis_date", r.diagnosis_date)
    w.add("condition_occurrence", {
        "condition_occurrence_id": CONDITION,
        "person_id": PERSON,
        "condition_concept_id": concept or 0,
        "condition_start_date": start,
        "condition_type_concept_id": type_concept,
        "condition_source_value": source_value(r.histology_icdo3, r.primary_site_icdo3),
        "condition_source_concept_id": concept or 0,
    })  # fmt: skip
    if concept:
        w.add("condition_era", {
            "condition_era_id": Ref("condition_era", "primary"),
            "person_id": PERSON,
            "condition_concept_id": concept,
            "condition_era_start_date": start,
            "condition_era_end_date": start + dt.timedelta(days=1) if start else None,
            "condition_occurrence_count": 1,
        })  # fmt: skip
    return concept or 0


def from_omop(v: Reader, condition: dict[str, Any]) -> None:
    f = v.fields
    source = condition.get("condition_source_value")
    if source is None and condition.get("condition_concept_id"):
        found = v.terminology.data.concepts.get(int(condition["condition_concept_id"]))
        source = found.concept_code if found is not None else None
    if source is not None and "-" in source:
        histology, _, site = str(source).partition("-")
        f["histology_icdo3"] = histology or None
        f["primary_site_icdo3"] = site or None
    f["diagnosis_date"] = v.recorded("diagnosis_date", condition.get("condition_start_date"))
