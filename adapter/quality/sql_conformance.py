"""DQD conformance checks: the table and field exist, required fields are filled, integers are
integers, keys are unique, foreign keys resolve, concepts belong where they are used.

Semantics from the DQD's check descriptions (OMOP_CDMv5.4_Check_Descriptions.csv):

- cdmTable / cdmField: the table (field) can be queried; the runner counts an SQL error here as
  1 violating row of 1 (every other check on that table or field is then not applicable);
- isRequired: rows whose field is NULL, over all rows;
- cdmDatatype (integer fields only): non-NULL values that are not whole numbers, over all rows;
- isPrimaryKey: rows whose value occurs more than once, over all rows;
- isForeignKey: non-NULL values absent from the referenced table (CONCEPT for concept ids, in
  the vocabulary part), over all rows;
- fkDomain / fkClass: rows whose concept (other than 0) is of another domain / concept class,
  over all rows;
- isStandardValidConcept: rows whose concept (other than 0) is not standard or not valid, over
  the rows with a concept.
"""

from __future__ import annotations

from adapter.quality.dialect import Sql
from adapter.quality.spec import Row
from adapter.quality.sql_common import Builder, Built, count, literal, ratio

__all__ = ["BUILDERS"]


def _probe(row: Row, s: Sql, column: str | None) -> Built:
    """0 of 1 when the table (column) answers a query; the SQL fails when it is missing."""
    what = "1" if column is None else f"t.{column}"
    sql = (
        "SELECT 0 AS num_violated_rows, 1 AS num_denominator_rows WHERE NOT EXISTS "
        f"(SELECT {what} FROM {s.table(row.table)} t WHERE 1 = 0)"
    )
    if column is None:
        return Built(sql, f"table {row.table} is missing")
    return Built(sql, f"field {row.table}.{row.field} is missing")


def _cdm_table(row: Row, s: Sql) -> Built:
    return _probe(row, s, None)


def _cdm_field(row: Row, s: Sql) -> Built:
    return _probe(row, s, s.column(row.table, str(row.field)))


def _field(row: Row, s: Sql) -> tuple[str, str]:
    """(the table as FROM clause with alias t, the field as t.<column>)."""
    return f"{s.table(row.table)} t", f"t.{s.column(row.table, str(row.field))}"


def _is_required(row: Row, s: Sql) -> Built:
    t, f = _field(row, s)
    return Built(ratio(count(f"{t} WHERE {f} IS NULL"), count(t)), "rows where it is NULL")


def _cdm_datatype(row: Row, s: Sql) -> Built:
    t, f = _field(row, s)
    violating = count(f"{t} WHERE {f} IS NOT NULL AND {s.not_integer(f)}")
    return Built(ratio(violating, count(t)), "values that are not integers")


def _is_primary_key(row: Row, s: Sql) -> Built:
    t, f = _field(row, s)
    name, column = s.table(row.table), s.column(row.table, str(row.field))
    repeated = f"SELECT {column} FROM {name} GROUP BY {column} HAVING COUNT(*) > 1"
    return Built(ratio(count(f"{t} WHERE {f} IN ({repeated})"), count(t)),
                 "rows whose key value is not unique")  # fmt: skip


def _is_foreign_key(row: Row, s: Sql) -> Built:
    t, f = _field(row, s)
    target, key = row.lower("fkTableName"), row.lower("fkFieldName")
    missing = f"NOT EXISTS (SELECT 1 FROM {s.table(target)} k WHERE k.{key} = {f})"
    return Built(ratio(count(f"{t} WHERE {f} IS NOT NULL AND {missing}"), count(t)),
                 f"values absent from {target}.{key}")  # fmt: skip


def _concept_attribute(row: Row, s: Sql, attribute: str, wanted: str, label: str) -> Built:
    t, f = _field(row, s)
    joined = f"{t} JOIN {s.table('concept')} c ON c.concept_id = {f}"
    violating = count(f"{joined} WHERE c.concept_id <> 0 AND c.{attribute} <> {literal(wanted)}")
    return Built(ratio(violating, count(t)), f"concepts not of {label} {wanted}")


def _fk_domain(row: Row, s: Sql) -> Built:
    return _concept_attribute(row, s, "domain_id", row.get("fkDomain"), "domain")


def _fk_class(row: Row, s: Sql) -> Built:
    return _concept_attribute(row, s, "concept_class_id", row.get("fkClass"), "class")


def _is_standard_valid_concept(row: Row, s: Sql) -> Built:
    t, f = _field(row, s)
    joined = f"{t} JOIN {s.table('concept')} c ON c.concept_id = {f}"
    bad = (
        "(c.standard_concept IS NULL OR c.standard_concept <> 'S' OR c.invalid_reason IS NOT NULL)"
    )
    return Built(ratio(count(f"{joined} WHERE c.concept_id <> 0 AND {bad}"),
                       count(f"{t} WHERE {f} IS NOT NULL")),
                 "concepts that are not standard and valid")  # fmt: skip


BUILDERS: dict[str, Builder] = {
    "cdmTable": _cdm_table,
    "cdmField": _cdm_field,
    "isRequired": _is_required,
    "cdmDatatype": _cdm_datatype,
    "isPrimaryKey": _is_primary_key,
    "isForeignKey": _is_foreign_key,
    "fkDomain": _fk_domain,
    "fkClass": _fk_class,
    "isStandardValidConcept": _is_standard_valid_concept,
}
