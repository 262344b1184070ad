"""A small stand-in for adapter.omop's mapping, so the store is tested on its own terms.

It honours the contract of adapter/omop/rows.py (every id and same-record FK is a `Ref`) and
uses what stresses the store: a row per table with a key, optional rows (measurement, death)
that come and go with the record, key-less tables (death, episode_event) hung on an owner, and
an error finding that must send the record to the quarantine. It round-trips the FIELDS below.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from adapter.errors import Finding, Level
from adapter.mds.record import MdsRecord
from adapter.omop.rows import OmopRows, Ref

__all__ = ["FIELDS", "from_omop", "project", "to_omop"]

FIELDS = (
    "record_id", "institution", "birth_date", "sex", "diagnosis_date", "histology_icdo3",
    "primary_site_icdo3", "tumour_size_cm", "vital_status", "date_of_last_contact",
)  # fmt: skip
EHR = 32879
PERSON, CONDITION = Ref("person", "patient"), Ref("condition_occurrence", "primary")
EPISODE = Ref("episode", "disease")
UNDATED = dt.date(1900, 1, 1)


def project(record: MdsRecord) -> MdsRecord:
    """The record reduced to what this fake mapping keeps."""
    return MdsRecord(**{k: getattr(record, k) for k in FIELDS if getattr(record, k) is not None})


def to_omop(
    record: MdsRecord, terminology: Any, *, pseudonym: Callable[[str], str], resolve: Any = None
) -> tuple[OmopRows, list[Finding]]:
    if record.histology_icdo3 is None:
        return {}, [
            Finding("omop.no-histology", Level.ERROR, "no histology: no condition to map",
                    record_id=record.record_id, elements=("histology_icdo3",))
        ]  # fmt: skip
    start = record.diagnosis_date or UNDATED
    birth = record.birth_date.split("-") if record.birth_date else []
    last = record.date_of_last_contact.isoformat() if record.date_of_last_contact else ""
    rows: OmopRows = {
        "person": [{
            "person_id": PERSON, "gender_concept_id": 0,
            "year_of_birth": int(birth[0]) if birth else 1900,
            "month_of_birth": int(birth[1]) if len(birth) > 1 else None,
            "day_of_birth": int(birth[2]) if len(birth) > 2 else None,
            "race_concept_id": 0, "ethnicity_concept_id": 0,
            "person_source_value": pseudonym(record.record_id),
            "gender_source_value": record.sex, "race_source_value": last,
            "ethnicity_source_value": record.vital_status,
        }],
        "condition_occurrence": [{
            "condition_occurrence_id": CONDITION, "person_id": PERSON,
            "condition_concept_id": 0, "condition_start_date": start,
            "condition_type_concept_id": EHR,
            "condition_source_value": f"{record.histology_icdo3}|{record.primary_site_icdo3 or ''}",
        }],
        "episode": [{
            "episode_id": EPISODE, "person_id": PERSON, "episode_concept_id": 32533,
            "episode_start_date": start, "episode_object_concept_id": 0,
            "episode_type_concept_id": EHR,
        }],
        "episode_event": [{
            "episode_id": EPISODE, "event_id": CONDITION,
            "episode_event_field_concept_id": 1147127,
        }],
    }  # fmt: skip
    if record.tumour_size_cm is not None:
        rows["measurement"] = [{
            "measurement_id": Ref("measurement", "size"), "person_id": PERSON,
            "measurement_concept_id": 0, "measurement_date": start,
            "measurement_type_concept_id": EHR, "value_as_number": record.tumour_size_cm,
            "measurement_event_id": CONDITION, "meas_event_field_concept_id": 1147127,
        }]  # fmt: skip
    if record.vital_status == "dead" and record.date_of_last_contact:
        rows["death"] = [{"person_id": PERSON, "death_date": record.date_of_last_contact,
                          "death_type_concept_id": EHR}]  # fmt: skip
    return rows, []


def from_omop(rows: OmopRows, terminology: Any, *, record_id: str) -> MdsRecord | Finding:
    person, condition = rows["person"][0], rows["condition_occurrence"][0]
    histology, site = condition["condition_source_value"].split("|")
    start = condition["condition_start_date"]
    size = [m["value_as_number"] for m in rows.get("measurement", [])]
    assert rows["episode_event"][0]["event_id"] == condition["condition_occurrence_id"]
    data: dict[str, Any] = {
        "record_id": record_id,
        "birth_date": "-".join(
            f"{v:02d}" if i else str(v)
            for i, v in enumerate(
                person[k]
                for k in ("year_of_birth", "month_of_birth", "day_of_birth")
                if person[k] is not None
            )
        )
        if person["year_of_birth"] != 1900
        else None,
        "sex": person["gender_source_value"],
        "diagnosis_date": start if start != UNDATED else None,
        "histology_icdo3": histology,
        "primary_site_icdo3": site or None,
        "tumour_size_cm": size[0] if size else None,
        "vital_status": person["ethnicity_source_value"],
        "date_of_last_contact": dt.date.fromisoformat(last)
        if (last := person["race_source_value"])
        else None,
    }
    return MdsRecord(**{k: v for k, v in data.items() if v is not None})
