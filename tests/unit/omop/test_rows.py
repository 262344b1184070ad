"""The rows to_omop writes: official columns, required columns filled, concepts known."""

from __future__ import annotations

import pytest

from adapter.errors import ConfigurationError, Level
from adapter.mds.dictionary import element
from adapter.mds.record import MdsRecord
from adapter.mds.synth import generate
from adapter.omop import from_omop, to_omop
from adapter.omop.mapping import conventions, read_conventions
from adapter.omop.rows import Ref
from adapter.omop.schema import field_level
from adapter.terminology import Terminology
from tests.unit.omop.helpers import pseudonym

FIELDS = {(f.table, f.name): f for f in field_level()}
# *_source_concept_id may be non-standard; every other concept column needs a standard concept
NON_STANDARD_OK = ("_source_concept_id",)


def _rows_of(n: int, seed: int) -> list[tuple[MdsRecord, dict[str, list[dict[str, object]]]]]:
    t = Terminology.load()
    return [(r, to_omop(r, t, pseudonym=pseudonym)[0]) for r, _ in generate(n, seed, 0.1)]


def test_columns_are_official_and_required_ones_are_filled() -> None:
    required: dict[str, set[str]] = {}
    for f in field_level():
        if f.required:
            required.setdefault(f.table, set()).add(f.name)
    for record, rows in _rows_of(2000, 3):
        if record.diagnosis_date is None and record.birth_date is None:
            continue  # no date at all: reported as omop.no-date (test below)
        for table, table_rows in rows.items():
            for row in table_rows:
                unknown = {c for c in row if (table, c) not in FIELDS}
                assert not unknown, (table, unknown)
                empty = {c for c in required[table] if row.get(c) is None}
                assert not empty, (record.record_id, table, empty)


def test_every_concept_written_is_in_the_subset_and_standard_where_required() -> None:
    concepts = Terminology.load().data.concepts
    seen: set[int] = set()
    for _, rows in _rows_of(3000, 5):
        for table, table_rows in rows.items():
            for row in table_rows:
                for column, value in row.items():
                    if column.endswith("_concept_id") and value is not None:
                        assert isinstance(value, int), (table, column, value)
                        assert value in concepts, (table, column, value)
                        seen.add(value)
                        if value and not column.endswith(NON_STANDARD_OK):
                            c = concepts[value]
                            assert c.standard_concept == "S" and not c.invalid_reason, (
                                table, column, value,
                            )  # fmt: skip
    conv = conventions(Terminology.load())
    unused = {
        key for key, cid in read_conventions().items()
        if cid not in seen
        # a question whose element has an OMOP concept for every code is never needed
        and not (key.startswith("question.") and all(
            (key[9:], code) in conv.value for code in element(key[9:]).codes))
    }  # fmt: skip
    assert unused == set()


def test_ids_are_refs_unique_within_the_record() -> None:
    for _, rows in _rows_of(300, 9):
        ids = [r[f"{t}_id"] for t, rs in rows.items() for r in rs if f"{t}_id" in r]
        assert all(isinstance(i, Ref) and i.table in rows for i in ids)
        assert len(ids) == len(set(ids))


def _bone(**changes: object) -> MdsRecord:
    base = {
        "record_id": "B1",
        "histology_icdo3": "9180/3",
        "primary_site_icdo3": "C40.2",
        "diagnosis_date": __import__("datetime").date(2020, 3, 1),
        "birth_date": "1990",
    }
    return MdsRecord(**{**base, **changes})


def test_a_site_without_a_bundled_icdo3_concept_is_written_as_0_and_reported() -> None:
    rows, findings = to_omop(_bone(), Terminology.load(), pseudonym=pseudonym)
    (condition,) = rows["condition_occurrence"]
    assert (condition["condition_concept_id"], condition["condition_source_value"]) == (
        0, "9180/3-C40.2",
    )  # fmt: skip
    assert [(f.code, f.level, f.elements, f.values) for f in findings] == [
        ("omop.unmapped-code", Level.WARNING, ("histology_icdo3", "primary_site_icdo3"),
         ("9180/3", "C40.2")),
    ]  # fmt: skip


def test_a_resolver_replaces_the_bundled_subset() -> None:
    asked: list[tuple[str, str]] = []

    def athena(vocabulary_id: str, concept_code: str) -> int | None:
        asked.append((vocabulary_id, concept_code))
        return 44499999

    rows, findings = to_omop(_bone(), Terminology.load(), pseudonym=pseudonym, resolve=athena)
    assert asked == [("ICDO3", "9180/3-C40.2")]
    assert rows["condition_occurrence"][0]["condition_concept_id"] == 44499999
    assert rows["episode"][0]["episode_object_concept_id"] == 44499999
    assert findings == []


def test_a_soft_tissue_pair_resolves_from_the_bundled_map() -> None:
    rows, findings = to_omop(
        _bone(histology_icdo3="8811/3", primary_site_icdo3="C49.3"),
        Terminology.load(), pseudonym=pseudonym,
    )  # fmt: skip
    assert rows["condition_occurrence"][0]["condition_concept_id"] == 36517166
    assert findings == []


def test_a_record_without_any_date_is_an_error_finding_but_still_reads_back() -> None:
    t = Terminology.load()
    record = MdsRecord(record_id="X", sex="female")
    rows, findings = to_omop(record, t, pseudonym=pseudonym)
    assert sorted(f.code for f in findings if f.level is Level.ERROR) == [
        "omop.no-date", "omop.required-missing",
    ]  # fmt: skip
    back = from_omop(rows, t, record_id="X")
    assert back == record


def test_a_pseudonym_function_that_leaks_or_overflows_is_refused() -> None:
    t = Terminology.load()
    with pytest.raises(ConfigurationError):
        to_omop(_bone(), t, pseudonym=lambda s: s)
    with pytest.raises(ConfigurationError):
        to_omop(_bone(), t, pseudonym=lambda s: "x" * 51)
