"""The structural pass (adapter/fhir/shape.py) and FHIR date grammar (adapter/fhir/plausible.py):
each malformed node is one finding with its code and FHIRPath; valid output has none."""

from __future__ import annotations

from typing import Any

import pytest

from adapter.fhir import to_fhir
from adapter.fhir.plausible import date_problem
from adapter.fhir.shape import Limits, check_bundle, check_resource
from adapter.mds.synth import generate
from adapter.terminology import Terminology


@pytest.fixture(scope="module")
def valid() -> dict[str, Any]:
    terminology = Terminology.load()
    items = [e for r, _ in generate(5, 3) for e in to_fhir(r, terminology)["entry"]]
    return {"resourceType": "Bundle", "type": "batch", "entry": items}


def found(resource: dict[str, Any], limits: Limits | None = None) -> list[tuple[str, str]]:
    return [(f.code, str(f.location)) for f in check_resource(resource, "R", limits)]


def test_what_the_adapter_writes_is_well_formed(valid: dict[str, Any]) -> None:
    assert check_bundle(valid) == ([], {})


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        ({"resourceType": "Patient", "managingOrganization": "x"},
         [("fhir.structure", "R.managingOrganization")]),
        ({"resourceType": "Patient", "identifier": {"value": "a"}},
         [("fhir.structure", "R.identifier")]),
        ({"resourceType": "Patient", "gender": ["male"]}, [("fhir.structure", "R.gender")]),
        ({"resourceType": "Patient", "active": "true"}, [("fhir.structure", "R.active")]),
        ({"resourceType": "Patient", "managingOrganization": None},
         [("fhir.structure", "R.managingOrganization")]),
        ({"resourceType": "Observation", "code": {"coding": [{"code": 7}]}},
         [("fhir.structure", "R.code.coding[0].code")]),
        ({"resourceType": "Observation", "valueInteger": 2**63},
         [("fhir.out-of-range", "R.valueInteger")]),
        ({"resourceType": "Observation", "valueInteger": True},
         [("fhir.structure", "R.valueInteger")]),
        ({"resourceType": "Observation", "effectiveDateTime": "2019-03-06T25:61:00Z"},
         [("fhir.invalid-date", "R.effectiveDateTime")]),
        ({"resourceType": "Patient", "birthDate": "2019-02-30"},
         [("fhir.invalid-date", "R.birthDate")]),
        ({"resourceType": "Patient", "name": [{"family": "a\x00b"}]},
         [("fhir.control-character", "R.name[0].family")]),
        ({"resourceType": "Patient", "x\x00": 1}, [("fhir.control-character", "R")]),
        ({"resourceType": 5}, [("fhir.structure", "R")]),
        ({"resourceType": "Patient", "name": [{"given": ["a", None], "_given": [None, {}]}]}, []),
    ],
)  # fmt: skip
def test_each_malformed_node_is_named(resource: dict[str, Any], expected: list[Any]) -> None:
    assert found(resource) == expected


def test_depth_and_length_are_bounded_and_name_their_settings() -> None:
    deep: dict[str, Any] = {"resourceType": "Patient"}
    node = deep
    for _ in range(300):
        node["extension"] = [{"url": "u"}]
        node = node["extension"][0]
    [problem] = check_resource(deep, "R", Limits(max_depth=32))
    assert problem.code == "fhir.too-deep"
    assert "MDS_ADAPTER_MAX_JSON_DEPTH" in problem.message
    [long] = check_resource({"resourceType": "Patient", "id": "a" * 11}, "R", Limits(32, 10))
    assert (long.code, long.location) == ("fhir.too-long", "R.id")
    assert "MDS_ADAPTER_MAX_STRING_LENGTH" in long.message


def test_entries_are_checked_one_by_one(valid: dict[str, Any]) -> None:
    bad = {**valid, "entry": [*valid["entry"], {"resource": {"resourceType": "Patient",
                                                              "birthDate": 1970}}]}  # fmt: skip
    outside, per_entry = check_bundle(bad)
    n = len(valid["entry"])
    assert outside == []
    assert [(i, f.location) for i, fs in per_entry.items() for f in fs] == [
        (n, f"Bundle.entry[{n}].resource.birthDate")
    ]
    assert check_bundle({"resourceType": "Bundle", "entry": {}})[0][0].code == "fhir.structure"


@pytest.mark.parametrize(
    ("kind", "value", "ok"),
    [
        ("date", "2019", True), ("date", "2019-02", True), ("date", "2020-02-29", True),
        ("date", "2019-02-29", False), ("date", "2019-13", False), ("date", "19-01-01", False),
        ("dateTime", "2019-03-06T10:00:00+01:00", True), ("dateTime", "2019-03-06T10:00", False),
        ("dateTime", "2019-03-06T25:61:00Z", False), ("dateTime", "2019-04-31", False),
        ("instant", "2019-03-06T10:00:00.123Z", True), ("instant", "2019-03-06", False),
        ("time", "23:59:60", True), ("time", "24:00:00", False),
    ],
)  # fmt: skip
def test_dates_follow_the_r4_grammar_and_the_calendar(kind: str, value: str, ok: bool) -> None:
    assert (date_problem(kind, value) is None) is ok
