"""Units and numbers read exactly (adapter/fhir/quantities.py): decimal conversion from what the
sender wrote, float32 noise rounded and reported, unknown units reported, never a silent number."""

from __future__ import annotations

from typing import Any

import pytest

from adapter.fhir import read_fhir
from adapter.fhir.quantities import age_in_years, float32_text
from adapter.mds.record import MdsRecord
from adapter.terminology import Terminology
from tests.unit.fhir.test_timeline import BASE, tumour
from tests.unit.fhir.test_tumour import OMOP, SUBJECT, bundle, cc, patient, report

UCUM = "http://unitsofmeasure.org"
DOSE = (
    "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-radiotherapy-dose-delivered-to-volume"
)


@pytest.fixture(scope="module")
def terminology() -> Terminology:
    return Terminology.load()


def radiotherapy(quantity: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Procedure", "id": "rt", "status": "completed", "subject": SUBJECT,
        "code": cc("http://snomed.info/sct", "108290001"),
        "extension": [{"url": DOSE, "extension": [
            {"url": "totalDoseDelivered", "valueQuantity": quantity}]}],
    }  # fmt: skip


def size(quantity: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Observation", "id": "size", "status": "final", "subject": SUBJECT,
            "code": cc(OMOP, "36768664"), "valueQuantity": quantity}  # fmt: skip


def read(terminology: Terminology, resource: dict[str, Any]) -> tuple[list[Any], set[Any]]:
    items = list(read_fhir([bundle(patient(), tumour(), resource)], terminology, profiles="off"))
    return [i for i in items if isinstance(i, MdsRecord)], report(items)


@pytest.mark.parametrize(
    ("quantity", "gy"),
    [
        ({"value": 10.7, "system": UCUM, "code": "Gy"}, 10.7),
        ({"value": 107, "system": UCUM, "code": "cGy"}, 1.07),
        ({"value": 5040, "unit": "cGy"}, 50.4),  # unit text alone, UCUM assumed
        ({"value": 50.4, "system": UCUM, "code": "Gy", "unit": "gray"}, 50.4),
        ({"value": 1999.9, "system": UCUM, "code": "cGy"}, 19.999),
    ],
)
def test_doses_are_converted_exactly(
    quantity: dict[str, Any], gy: float, terminology: Terminology
) -> None:
    records, found = read(terminology, radiotherapy(quantity))
    assert records == [MdsRecord(**BASE, radiotherapy_given="yes", radiotherapy_total_dose_gy=gy)]
    assert found == set()


@pytest.mark.parametrize(
    ("quantity", "cm"),
    [
        ({"value": 45, "system": UCUM, "code": "mm"}, 4.5),
        ({"value": 123, "system": UCUM, "code": "mm"}, 12.3),
        ({"value": 7.25, "system": UCUM, "code": "cm"}, 7.25),
    ],
)
def test_sizes_are_converted_exactly(
    quantity: dict[str, Any], cm: float, terminology: Terminology
) -> None:
    records, found = read(terminology, size(quantity))
    assert records == [MdsRecord(**BASE, tumour_size_cm=cm)]
    assert found == set()


@pytest.mark.parametrize(
    "quantity",
    [
        {"value": 45, "system": UCUM, "code": "[in_i]"},  # inches: no table row
        {"value": 45, "system": "http://snomed.info/sct", "code": "258673006"},  # not UCUM
        {"system": UCUM, "code": "mm"},
    ],
)
def test_an_unknown_unit_is_a_finding_never_a_number(
    quantity: dict[str, Any], terminology: Terminology
) -> None:
    records, found = read(terminology, size(quantity))
    assert records == [MdsRecord(**BASE)]
    assert found == {("fhir.unsupported-value", "Observation/size", "Observation.valueQuantity")}
    records, found = read(terminology, radiotherapy(quantity))
    assert records == [MdsRecord(**BASE, radiotherapy_given="yes")]
    path = "Procedure.extension(dose).totalDoseDelivered"
    assert found == {("fhir.unsupported-value", "Procedure/rt", path)}


def test_a_number_sent_as_text_is_malformed_and_its_record_is_not_read(
    terminology: Terminology,
) -> None:
    """A JSON string where FHIR has a decimal is caught by the structural pass (shape.py),
    before the reader: the record is left out whole, never read without its size."""
    records, found = read(terminology, size({"value": "45", "system": UCUM, "code": "mm"}))
    assert records == []
    path = "Bundle.entry[2].resource.valueQuantity.value"
    assert found == {
        ("fhir.structure", f"chunk 1: {path}", "Bundle.entry.resource.valueQuantity.value"),
        ("fhir.malformed-record", "chunk 1: Bundle.entry", "Patient"),
    }


def test_a_float32_number_is_read_as_the_number_it_stores_and_reported(
    terminology: Terminology,
) -> None:
    records, found = read(terminology, radiotherapy({"value": 10.699999809265137, "unit": "Gy"}))
    assert records == [MdsRecord(**BASE, radiotherapy_given="yes", radiotherapy_total_dose_gy=10.7)]
    path = "Procedure.extension(dose).totalDoseDelivered"
    assert found == {("fhir.rounded-value", "Procedure/rt", path)}


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (10.699999809265137, "10.7"),
        (25.700000762939453, "25.7"),  # the IG's BMI example
        (10.7, None),  # a double, as written
        (0.5, None),  # exact in both: already shortest
        (50.4, None),
    ],
)
def test_float32_text(value: float, text: str | None) -> None:
    assert float32_text(value) == text


@pytest.mark.parametrize(
    ("age", "years"),
    [
        ({"value": 54, "system": UCUM, "code": "a"}, 54),
        ({"value": 54.9, "code": "a"}, 54),  # completed years
        ({"value": 30, "system": UCUM, "code": "mo"}, 2),
        ({"value": 54, "system": UCUM, "code": "kg"}, None),
        ({"value": 54, "system": "http://example.org", "code": "a"}, None),
    ],
)
def test_age_in_completed_years(age: dict[str, Any], years: int | None) -> None:
    assert age_in_years(age) == years
