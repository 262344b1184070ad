"""Tiny hand-written CDM contents for the data quality tests: a clean one, and defects to add.

Rows are written by hand (not by the mapping), so each check's expected outcome follows from
what is written here. Structural concept ids come from conventions.csv, as the adapter's own;
the others are standard concepts of the bundled vocabulary (terminology/vocab/CONCEPT.csv).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import sqlalchemy as sa

from adapter.omop.mapping import read_conventions
from adapter.omop.schema import qualified_name, table
from adapter.stores.bulk import sqlite_value
from adapter.stores.omop_db import bundled_vocabulary, connect, init_db, load_vocabulary

__all__ = ["NON_STANDARD_MEASUREMENT", "Cdm", "clean", "with_defects", "write"]

IDS = read_conventions()
FEMALE, MALE = 8532, 8507
CONDITION = 36517166  # ICDO3 8811/3-C49.3, standard, domain Condition
TUMOUR_SIZE = IDS["measurement.tumour_size_cm"]
NON_STANDARD_MEASUREMENT = 2_099_999_001
"""A concept written into the tiny vocabulary: domain Measurement, not standard."""
D = dt.date


class Cdm:
    """Rows by table; ids are allocated per table in order of writing."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.next: dict[str, int] = defaultdict(lambda: 1)

    def add(self, table_name: str, **values: Any) -> int:
        key = table(table_name, "postgresql").primary_key if table_name != "records" else ()
        new = 0
        if len(key) == 1 and key[0] not in values:
            new = self.next[table_name]
            values[key[0]] = new
        self.next[table_name] += 1
        self.rows[table_name].append(values)
        return new

    def person(
        self,
        born: int,
        start: dt.date,
        end: dt.date,
        *,
        care_site: int = 1,
        died: dt.date | None = None,
    ) -> int:
        p = self.add(
            "person",
            gender_concept_id=FEMALE,
            year_of_birth=born,
            race_concept_id=0,
            ethnicity_concept_id=0,
            care_site_id=care_site,
            gender_source_value="female",
        )
        self.add(
            "observation_period",
            person_id=p,
            observation_period_start_date=start,
            observation_period_end_date=end,
            period_type_concept_id=IDS["type"],
        )
        if died is not None:
            self.add("death", person_id=p, death_date=died, death_type_concept_id=IDS["type"])
        return p

    def procedure(self, person: int, concept: int, date: dt.date) -> int:
        return self.add(
            "procedure_occurrence",
            person_id=person,
            procedure_concept_id=concept,
            procedure_date=date,
            procedure_type_concept_id=IDS["type"],
        )

    def episode(
        self,
        person: int,
        key: str,
        start: dt.date,
        end: dt.date | None,
        parent: int | None,
        event: int | None,
    ) -> int:
        e = self.add(
            "episode",
            person_id=person,
            episode_concept_id=IDS[f"episode.{key}"],
            episode_start_date=start,
            episode_end_date=end,
            episode_parent_id=parent,
            episode_object_concept_id=CONDITION,
            episode_type_concept_id=IDS["type"],
        )
        if event is not None:
            self.add(
                "episode_event",
                episode_id=e,
                event_id=event,
                episode_event_field_concept_id=IDS["field.procedure_occurrence"],
            )
        return e

    def tumour(
        self,
        person: int,
        diagnosed: dt.date,
        surgery: dt.date,
        last: dt.date,
        *,
        radiotherapy: dt.date | None = None,
        timing: str | None = None,
    ) -> int:
        """A condition (with its era), a size, the disease episode and its surgery episode;
        a radiotherapy course with its timing observation when given. Returns the disease
        episode's id."""
        self.add(
            "condition_occurrence",
            person_id=person,
            condition_concept_id=CONDITION,
            condition_start_date=diagnosed,
            condition_type_concept_id=IDS["type"],
            condition_source_value="8811/3-C49.3",
            condition_source_concept_id=CONDITION,
        )
        self.add(
            "condition_era",
            person_id=person,
            condition_concept_id=CONDITION,
            condition_era_start_date=diagnosed,
            condition_era_end_date=diagnosed,
            condition_occurrence_count=1,
        )
        self.add(
            "measurement",
            person_id=person,
            measurement_concept_id=TUMOUR_SIZE,
            measurement_date=diagnosed,
            measurement_type_concept_id=IDS["type"],
            value_as_number=4.5,
            unit_concept_id=IDS["unit.cm"],
            unit_source_value="cm",
        )
        disease = self.episode(person, "disease", diagnosed, last, None, None)
        cut = self.procedure(person, IDS["procedure.surgery"], surgery)
        self.episode(person, "surgery", surgery, None, disease, cut)
        if radiotherapy is not None:
            course = self.procedure(person, IDS["procedure.radiotherapy"], radiotherapy)
            self.episode(person, "radiotherapy", radiotherapy, None, disease, course)
            self.add(
                "observation",
                person_id=person,
                observation_concept_id=IDS["question.radiotherapy_timing"],
                observation_date=diagnosed,
                observation_type_concept_id=IDS["type"],
                value_source_value=timing,
            )
        return disease


def clean() -> Cdm:
    """Three persons whose rows break no check: one institution, one care site, one record."""
    cdm = Cdm()
    cdm.add("care_site", care_site_source_value="site-a")
    p1 = cdm.person(1970, D(2019, 1, 10), D(2024, 3, 1))
    cdm.tumour(
        p1,
        D(2019, 1, 10),
        D(2019, 4, 2),
        D(2024, 3, 1),
        radiotherapy=D(2019, 5, 20),
        timing="adjuvant",
    )
    p2 = cdm.person(1985, D(2020, 6, 1), D(2023, 9, 9))
    cdm.tumour(
        p2,
        D(2020, 6, 1),
        D(2020, 9, 15),
        D(2023, 9, 9),
        radiotherapy=D(2020, 7, 1),
        timing="neoadjuvant",
    )
    p3 = cdm.person(1950, D(2018, 2, 2), D(2021, 1, 1), died=D(2021, 1, 1))
    cdm.tumour(p3, D(2018, 2, 2), D(2018, 3, 3), D(2021, 1, 1))
    cdm.add(
        "records",
        record_no=1,
        institution="A",
        record_id="R1",
        version=1,
        content_hash="h",
        mapping="m",
        source="hand",
        run_id=1,
        deleted=False,
    )
    return cdm


def with_defects() -> Cdm:
    """The clean rows plus one defect per check under test (tests/db/test_quality_checks.py)."""
    cdm = clean()
    cdm.person(1700, D(2019, 1, 1), D(2020, 1, 1))  # year_of_birth below 1850
    cdm.add(
        "measurement",
        person_id=1,
        measurement_concept_id=NON_STANDARD_MEASUREMENT,
        measurement_date=D(2019, 1, 10),
        measurement_type_concept_id=IDS["type"],
    )
    dead = cdm.person(1960, D(2020, 1, 1), D(2021, 1, 1), died=D(2021, 1, 1))
    cdm.procedure(dead, IDS["procedure.surgery"], D(2021, 1, 11))  # 10 days after death
    cdm.procedure(dead, IDS["procedure.surgery"], D(2021, 6, 1))  # 151 days after death
    early = cdm.person(1975, D(2021, 1, 15), D(2022, 1, 1))
    cdm.tumour(
        early,
        D(2021, 1, 15),
        D(2021, 5, 1),
        D(2022, 1, 1),
        radiotherapy=D(2021, 3, 1),
        timing="adjuvant",
    )  # adjuvant, before the surgery
    outside = cdm.person(1980, D(2019, 12, 1), D(2022, 1, 1))
    disease = cdm.episode(outside, "disease", D(2020, 1, 10), None, None, None)
    cut = cdm.procedure(outside, IDS["procedure.surgery"], D(2019, 12, 1))
    cdm.episode(outside, "surgery", D(2019, 12, 1), None, disease, cut)  # before its disease
    cdm.add("care_site", care_site_source_value="site-a")  # a second site for institution A
    return cdm


def _name(table_name: str, dialect: str) -> str:
    if table_name == "records":
        return qualified_name(
            "records", "adapter", "postgresql" if dialect == "postgresql" else "sqlite"
        )
    part = table(table_name, "postgresql").part
    return qualified_name(table_name, part, "postgresql" if dialect == "postgresql" else "sqlite")


def write(url: str, cdm: Cdm) -> None:
    """`db init` with the bundled vocabulary (plus the non-standard test concept), then the rows."""
    init_db(url)
    load_vocabulary(url, bundled_vocabulary())
    engine = connect(url)
    dialect = engine.dialect.name
    concept = {
        "concept_id": NON_STANDARD_MEASUREMENT,
        "concept_name": "non-standard test",
        "domain_id": "Measurement",
        "vocabulary_id": "None",
        "concept_class_id": "Undefined",
        "concept_code": "TEST1",
        "valid_start_date": D(1970, 1, 1),
        "valid_end_date": D(2099, 12, 31),
    }
    try:
        with engine.begin() as conn:
            for table_name, rows in [("concept", [concept]), *cdm.rows.items()]:
                for row in rows:
                    columns = ", ".join(row)
                    marks = ", ".join(f":{c}" for c in row)
                    values = (
                        row
                        if dialect == "postgresql"
                        else {k: sqlite_value(v) for k, v in row.items()}
                    )
                    conn.execute(
                        sa.text(
                            f"INSERT INTO {_name(table_name, dialect)} ({columns}) VALUES ({marks})"
                        ),
                        values,
                    )
    finally:
        engine.dispose()
