"""DQD completeness checks: persons have records, fields are filled, codes found a concept.

Semantics from the DQD's check descriptions (OMOP_CDMv5.4_Check_Descriptions.csv):

- measurePersonCompleteness (table): persons with no row in the table, over all persons;
- measureConditionEraCompleteness (table): persons with a mapped condition (concept ≠ 0) but
  no CONDITION_ERA row, over the persons with a mapped condition;
- measureValueCompleteness: rows whose field is NULL, over all rows (a characterisation: its
  thresholds are 0 for required fields and 100 for the others);
- standardConceptRecordCompleteness / sourceConceptRecordCompleteness: rows whose concept field
  is 0, or (for optional fields that have their own source value) NULL although that source
  value is filled, over the rows with either;
- sourceValueCompleteness: distinct source values whose rows carry standard concept 0 (NULL
  counts as one value), over the distinct source values: how much of the source vocabulary
  stayed unmapped, independent of how often each code occurs.
"""

from __future__ import annotations

from adapter.omop.schema import table
from adapter.quality.dialect import Sql
from adapter.quality.spec import Row
from adapter.quality.sql_common import Builder, Built, count, ratio

__all__ = ["BUILDERS", "paired_source_value"]

_PAIRED = {
    "unit_concept_id": "unit_source_value",
    "unit_source_concept_id": "unit_source_value",
    "admitted_from_concept_id": "admitted_from_source_value",
    "discharged_to_concept_id": "discharged_to_source_value",
    "condition_status_concept_id": "condition_status_source_value",
    "route_concept_id": "route_source_value",
    "modifier_concept_id": "modifier_source_value",
    "qualifier_concept_id": "qualifier_source_value",
    "cause_concept_id": "cause_source_value",
    "cause_source_concept_id": "cause_source_value",
    "anatomic_site_concept_id": "anatomic_site_source_value",
    "disease_status_concept_id": "disease_status_source_value",
    "country_concept_id": "country_source_value",
    "place_of_service_concept_id": "place_of_service_source_value",
    "specialty_concept_id": "specialty_source_value",
    "specialty_source_concept_id": "specialty_source_value",
    "payer_concept_id": "payer_source_value",
    "payer_source_concept_id": "payer_source_value",
    "plan_concept_id": "plan_source_value",
    "plan_source_concept_id": "plan_source_value",
    "sponsor_concept_id": "sponsor_source_value",
    "sponsor_source_concept_id": "sponsor_source_value",
    "stop_reason_concept_id": "stop_reason_source_value",
    "stop_reason_source_concept_id": "stop_reason_source_value",
}
"""Optional concept fields that the DQD also counts as unmapped when NULL beside a filled source
value (its field_concept_record_completeness.sql lists them), with that source value column."""

_PROVIDER_PAIRED = {
    "gender_concept_id": "gender_source_value",
    "gender_source_concept_id": "gender_source_value",
}
"""The same for PROVIDER only (PERSON.gender_concept_id is required, never NULL)."""


def paired_source_value(table_name: str, field: str) -> str | None:
    """The source value column whose filled value makes a NULL `field` count as unmapped."""
    own = _PROVIDER_PAIRED if table_name == "provider" else {}
    paired = own.get(field) or _PAIRED.get(field)
    if paired is None or (table_name == "dose_era" and paired == "unit_source_value"):
        return None
    return paired if paired in table(table_name, "postgresql").column_names else None


def _person_completeness(row: Row, s: Sql) -> Built:
    persons = f"{s.table('person')} p"
    absent = f"NOT EXISTS (SELECT 1 FROM {s.table(row.table)} t WHERE t.person_id = p.person_id)"
    return Built(ratio(count(f"{persons} WHERE {absent}"), count(persons)),
                 f"persons without a {row.table} row")  # fmt: skip


def _condition_era_completeness(row: Row, s: Sql) -> Built:
    mapped = f"{s.table('condition_occurrence')} co WHERE co.condition_concept_id <> 0"
    absent = f"NOT EXISTS (SELECT 1 FROM {s.table(row.table)} t WHERE t.person_id = co.person_id)"
    return Built(
        ratio(
            f"SELECT COUNT(DISTINCT co.person_id) FROM {mapped} AND {absent}",
            f"SELECT COUNT(DISTINCT co.person_id) FROM {mapped}",
        ),
        "persons with a mapped condition but no condition_era row",
    )


def _value_completeness(row: Row, s: Sql) -> Built:
    t, f = f"{s.table(row.table)} t", f"t.{s.column(row.table, str(row.field))}"
    return Built(ratio(count(f"{t} WHERE {f} IS NULL"), count(t)), "rows where it is NULL")


def _concept_record_completeness(row: Row, s: Sql) -> Built:
    t, f = f"{s.table(row.table)} t", f"t.{s.column(row.table, str(row.field))}"
    paired = paired_source_value(row.table, str(row.field))
    violating, counted = f"{f} = 0", f"{f} IS NOT NULL"
    if paired is not None:
        violating += f" OR ({f} IS NULL AND t.{paired} IS NOT NULL)"
        counted += f" OR t.{paired} IS NOT NULL"
    also = f" (or NULL beside a {paired})" if paired else ""
    return Built(ratio(count(f"{t} WHERE {violating}"), count(f"{t} WHERE {counted}")),
                 f"rows with concept 0{also}")  # fmt: skip


def _source_value_completeness(row: Row, s: Sql) -> Built:
    name, f = s.table(row.table), s.column(row.table, str(row.field))
    standard = row.lower("standardConceptFieldName")
    unmapped = f"SELECT DISTINCT {f} FROM {name} WHERE {standard} = 0"
    values = (
        f"SELECT COUNT(DISTINCT {f}) + MAX(CASE WHEN {f} IS NULL THEN 1 ELSE 0 END) FROM {name}"
    )
    return Built(
        ratio(f"SELECT COUNT(*) FROM ({unmapped}) v", f"SELECT COALESCE(({values}), 0)"),
        f"distinct source values whose {standard} is 0",
    )


BUILDERS: dict[str, Builder] = {
    "measurePersonCompleteness": _person_completeness,
    "measureConditionEraCompleteness": _condition_era_completeness,
    "measureValueCompleteness": _value_completeness,
    "standardConceptRecordCompleteness": _concept_record_completeness,
    "sourceConceptRecordCompleteness": _concept_record_completeness,
    "sourceValueCompleteness": _source_value_completeness,
}
