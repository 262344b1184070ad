"""The profile validator: each kind of check passes a good resource and flags a bad one exactly.

Resources are built small and valid, then broken one element at a time, so every assertion
names the one finding that element causes. The IDEA4RC examples are a regression test: their
known defects (undefined extensions, wrong value types, codes outside required value sets)
must keep being found, and nothing else.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from adapter.errors import Finding
from adapter.fhir.validate import parse_r4b, validate, validate_bundle

IG = "http://hl7.eu/fhir/ig/idea4rc/StructureDefinition/"
OURS = "https://w3id.org/sarcoma-mds/fhir/StructureDefinition/"
OMOP = "http://fhir.ohdsi.org/CodeSystem/concepts"
SCT = "http://snomed.info/sct"
EXAMPLES = Path("/work/shared/idea4rc/ig/examples")


def proj(findings: list[Finding]) -> list[tuple[str, str | None, str]]:
    return [(f.level.value, f.location, f.elements[0]) for f in findings]


def cc(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


SURGERY: dict[str, Any] = {
    "resourceType": "Procedure",
    "meta": {"profile": [IG + "Procedure-surgery-eu-i4rc"]},
    "status": "completed",
    "category": cc(SCT, "387713003"),
    "code": cc(OMOP, "4315400"),
    "subject": {"reference": "urn:uuid:p"},
    "performedDateTime": "2020-01-02",
    "reasonReference": [{"reference": "urn:uuid:c"}],
    "outcome": cc(OMOP, "1634643"),
    "complication": [cc(OMOP, "4132135")],
    "extension": [
        {"url": OURS + "surgical-margin-enneking", "valueCodeableConcept": cc(
            "https://w3id.org/sarcoma-mds/fhir/CodeSystem/surgical-margin-enneking", "wide")},
    ],
}  # fmt: skip

PRIMARY: dict[str, Any] = {
    "resourceType": "Condition",
    "meta": {"profile": [IG + "Condition-primaryCancer-eu-i4rc"]},
    "clinicalStatus": {
        "coding": [
            {"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}
        ]
    },
    "code": cc(OMOP, "36552407"),
    "subject": {"reference": "urn:uuid:p"},
    "onsetDateTime": "2020-01-01",
    "stage": [{"summary": cc(OMOP, "1634752")}],
    "extension": [
        {"url": OURS + "age-at-diagnosis", "valueAge": {
            "value": 54, "unit": "a", "system": "http://unitsofmeasure.org", "code": "a"}},
    ],
}  # fmt: skip


def broken(resource: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy with `path` (dotted, ints index lists) set to `value`, or deleted if None."""
    out = copy.deepcopy(resource)
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    target: Any = out
    for p in parents:
        target = target[p]
    if value is None:
        del target[last]
    else:
        target[last] = value
    return out


def test_valid_resources_have_no_findings() -> None:
    assert proj(validate(SURGERY)) == []
    assert proj(validate(PRIMARY)) == []


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        # cardinality: min of a choice slice (performed[x]:performedDateTime 1..1)
        ("performedDateTime", None, [
            ("error", "Procedure.performed[x]", "Procedure.performed[x]"),
            ("error", "Procedure.performedDateTime",
             "Procedure.performed[x]:performedDateTime"),
        ]),
        # choice type restricted by a type slice: a Period is still a performed[x] value
        ("performedDateTime", "2020", []),
        # pattern (category = SNOMED 387713003)
        ("category", cc(SCT, "71388002"), [
            ("error", "Procedure.category", "Procedure.category"),
        ]),
        # extensible binding not met → warning at the coding
        ("outcome", cc(OMOP, "4121182"), [
            ("warning", "Procedure.outcome.coding[0].code", "Procedure.outcome"),
        ]),
        # required binding not met → error
        ("complication", [cc(OMOP, "1")], [
            ("error", "Procedure.complication[0].coding[0].code", "Procedure.complication"),
        ]),
        # FHIR core required binding (profiles/core), which the R4B models do not check
        ("status", "bogus", [("error", "Procedure.status", "Procedure.status")]),
        # our extension: required binding to our ValueSet
        ("extension.0.valueCodeableConcept", cc(
            "https://w3id.org/sarcoma-mds/fhir/CodeSystem/surgical-margin-enneking", "R0"), [
            ("error", "Procedure.extension[0].valueCodeableConcept.coding[0].code",
             "Extension.value[x]"),
        ]),
        # an extension url in our namespace that profiles/ does not define
        ("extension.0.url", OURS + "surgical-margin", [
            ("error", "Procedure.extension[0]", "Extension.url"),
        ]),
    ],
)  # fmt: skip
def test_surgery_checks(path: str, value: Any, expected: list[tuple[str, str, str]]) -> None:
    assert proj(validate(broken(SURGERY, path, value))) == expected


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        # slice by system without a fixed system: matched through the slice's bound value set
        ("clinicalStatus", cc(OMOP, "32949"), [
            ("error", "Condition.clinicalStatus.coding[0].code", "Condition.clinicalStatus"),
            ("error", "Condition.clinicalStatus.coding:condition-clinical",
             "Condition.clinicalStatus.coding:condition-clinical"),
        ]),
        # the extension's own definition: fixedCode "a" on valueAge.code
        ("extension.0.valueAge.code", "mo", [
            ("error", "Condition.extension[0].valueAge.code", "Extension.value[x].code"),
        ]),
        # choice type not allowed by the extension (valueAge only)
        ("extension.0", {"url": OURS + "age-at-diagnosis", "valueInteger": 54}, [
            ("error", "Condition.extension[0].valueInteger", "Extension.value[x]"),
        ]),
        # required binding on stage.summary (the IG puts the grade there)
        ("stage.0.summary", cc(OMOP, "9999"), [
            ("error", "Condition.stage[0].summary.coding[0].code", "Condition.stage.summary"),
        ]),
    ],
)  # fmt: skip
def test_condition_checks(path: str, value: Any, expected: list[tuple[str, str, str]]) -> None:
    assert proj(validate(broken(PRIMARY, path, value))) == expected


def test_slice_max_and_pattern_inside_an_extension_slice() -> None:
    hmb = {"url": IG + "condition-histology-morphology-behavior",
           "valueCodeableConcept": cc(OMOP, "1242310")}  # fmt: skip
    due = {"url": "http://hl7.org/fhir/StructureDefinition/condition-dueTo",
           "valueCodeableConcept": cc(OMOP, "1")}  # fmt: skip
    condition = broken(PRIMARY, "extension", [hmb, hmb, hmb, due])
    found = [(lv, loc, el) for lv, loc, el in proj(validate(condition)) if lv == "error"]
    assert found == [
        ("error", "Condition.extension[3].valueCodeableConcept",
         "Condition.extension:condition-dueTo.value[x]:valueCodeableConcept"),
        ("error", "Condition.extension:histology-morphology-behavior",
         "Condition.extension:histology-morphology-behavior"),
    ]  # fmt: skip


def test_value_set_that_cannot_be_enumerated_is_not_checked_once() -> None:
    # cancer-diagnosis-athena-vs includes a filter: a code outside its lists may still belong
    condition = broken(PRIMARY, "code", cc(OMOP, "1"))
    condition["evidence"] = [{"code": [cc(OMOP, "2")]}]
    findings = validate(condition)
    assert proj(findings) == [("info", "Condition.code", "Condition.code")]
    assert findings[0].message == (
        "Condition-primaryCancer-eu-i4rc: Condition.code binding to "
        "http://hl7.eu/fhir/ig/idea4rc/ValueSet/cancer-diagnosis-athena-vs not checked: "
        "value set not enumerable"
    )


def test_absent_primitive_with_data_absent_reason_counts_as_present() -> None:
    dar = {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
                          "valueCode": "unknown"}]}  # fmt: skip
    patient = {"resourceType": "Patient", "meta": {"profile": [IG + "patient-eu-i4rc"]},
               "gender": "male", "_birthDate": dar}  # fmt: skip
    assert proj(validate(patient)) == []
    del patient["_birthDate"]
    assert proj(validate(patient)) == [("error", "Patient.birthDate", "Patient.birthDate")]


def test_unknown_and_mismatched_profiles() -> None:
    obs = {"resourceType": "Observation", "status": "final", "code": {"text": "x"},
           "meta": {"profile": ["http://example.org/p", IG + "patient-eu-i4rc"]}}  # fmt: skip
    findings = validate(obs)
    assert proj(findings) == [
        ("warning", "Observation", "http://example.org/p"),
        ("error", "Observation", IG + "patient-eu-i4rc"),
    ]
    assert findings[1].message == (
        "patient-eu-i4rc: http://hl7.eu/fhir/ig/idea4rc/StructureDefinition/patient-eu-i4rc "
        "profile is for Patient (value 'Observation')"
    )


def test_message_names_profile_element_value_and_rule() -> None:
    (finding,) = validate(broken(SURGERY, "outcome", cc(OMOP, "4121182")))
    assert finding.code == "fhir.profile"
    assert finding.values == ("4121182",)
    assert finding.message == (
        "Procedure-surgery-eu-i4rc: Procedure.outcome not in extensible value set "
        "http://hl7.eu/fhir/ig/idea4rc/ValueSet/surgery-outcome-eu-i4rc (value '4121182')"
    )


def test_bundle_locations_point_at_the_entry() -> None:
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"resource": broken(SURGERY, "status", "bogus")}]}  # fmt: skip
    assert proj(validate_bundle(bundle)) == [
        ("error", "Bundle.entry[0].resource.status", "Procedure.status")
    ]


def test_parse_r4b_reports_structure_with_locations() -> None:
    assert parse_r4b(SURGERY) == []
    bad = broken(SURGERY, "performedDateTime", "2020-13-45")
    assert [(f.code, f.location) for f in parse_r4b(bad)] == [
        ("fhir.structure", "Procedure.performedDateTime")
    ]


# The IG's own examples, with the defects its README warns about: this exact set, no more.
EXAMPLE_FINDINGS = {
    "MedicationAdministration-GOFSH-GENERATED-id-30.json": [
        ("error", "MedicationAdministration.extension[2]", "Extension.url"),
        ("error", "MedicationAdministration.extension[3]", "Extension.url"),
        ("error", "MedicationAdministration.extension[4]", "Extension.url"),
        ("error", "MedicationAdministration.extension[5]", "Extension.url"),
        ("error", "MedicationAdministration.extension[6]", "Extension.url"),
        ("error", "MedicationAdministration.extension:categoryR5",
         "MedicationAdministration.extension:categoryR5"),
    ],
    "Observation-observation-id-11.json": [
        ("error", "Observation.code.coding[0].code", "Observation.code"),
    ],
    "Observation-observation-id-9.json": [
        ("error", "Observation.code.coding[0].code", "Observation.code"),
    ],
    "Observation-observation-id-34.json": [
        ("error", "Observation.code.coding[0].code", "Observation.code"),
    ],
    "Procedure-GOFSH-GENERATED-id-28.json": [
        ("error", "Procedure.extension[0].valueString", "Extension.value[x]"),
    ],
}  # fmt: skip
EXAMPLE_WARNINGS = {
    "Condition-GOFSH-GENERATED-id-36.json": 6,  # mitotic/in-transit codes as site qualifiers
    "Observation-observation-id-20.json": 1,  # core bmi profile: not in profiles/
    "Observation-observation-id-23.json": 12,  # comorbidity codes outside the value set
    "Procedure-procedure-id-29.json": 1,  # ILP code 4019656 on a surgery
}


def _examples() -> list[Path]:
    return sorted(p for p in EXAMPLES.glob("*.json") if not p.name.startswith("ActorDefinition"))


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason="IDEA4RC examples not available")
def test_idea4rc_examples_known_defects() -> None:
    errors: dict[str, list[tuple[str, str | None, str]]] = {}
    warnings: dict[str, int] = {}
    for path in _examples():
        findings = validate(json.loads(path.read_text(encoding="utf-8")))
        if e := [p for p in proj(findings) if p[0] == "error"]:
            errors[path.name] = e
        if w := sum(f.level.value == "warning" for f in findings):
            warnings[path.name] = w
        assert parse_r4b(json.loads(path.read_text(encoding="utf-8"))) == [], path.name
    assert errors == EXAMPLE_FINDINGS
    assert warnings == EXAMPLE_WARNINGS
