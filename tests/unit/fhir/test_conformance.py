"""Every bundle we write is valid against profiles/: no error, and only the declared warnings.

Generated records (defects included, so absent and contradictory values occur) in both bundle
forms; then the values the IG cannot code, one record, checked element by element.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from adapter.fhir import read_fhir, to_fhir
from adapter.fhir.codes import DAR
from adapter.fhir.mapping import ACCEPTED_WARNINGS
from adapter.fhir.validate import validate_bundle
from adapter.mds.record import MdsRecord
from adapter.mds.synth import generate
from adapter.terminology import Terminology

OURS = "https://w3id.org/sarcoma-mds/fhir/"
_VALUE_SET = re.compile(r"value set \S+/ValueSet/(\S+)")


@pytest.mark.parametrize("kind", ["transaction", "collection"])
def test_2000_generated_records_give_bundles_without_profile_errors(kind: str) -> None:
    t = Terminology.load()
    errors: list[tuple[str, str | None, str]] = []
    warnings: set[tuple[str, str]] = set()
    for record, _ in generate(2000, 5, 0.1):
        for f in validate_bundle(to_fhir(record, t, kind)):  # type: ignore[arg-type]
            if f.level.value == "error":
                errors.append((record.record_id, f.location, f.message))
            elif f.level.value == "warning":
                found = _VALUE_SET.search(f.message)
                warnings.add((f.elements[0], found.group(1) if found else f.message))
    assert errors == []
    assert warnings == set(ACCEPTED_WARNINGS)  # docs/fhir-mapping.md lists each with its reason


def _resource(bundle: dict[str, Any], kind: str, profile_tail: str = "") -> dict[str, Any]:
    found: dict[str, Any]
    (found,) = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == kind
        and profile_tail in str(e["resource"].get("meta", {}).get("profile", ""))
    ]
    return found


def _absent(reason: str) -> dict[str, Any]:
    return {"extension": [{"url": DAR, "valueCode": reason}]}


def test_values_the_ig_cannot_code_go_to_absent_reasons_and_our_extensions() -> None:
    t = Terminology.load()
    record = MdsRecord(
        record_id="r1", histologic_grade="GX_unknown", grading_system="FNCLCC",
        biopsy_type="unknown",
    )  # fmt: skip
    bundle = to_fhir(record, t, "collection")
    assert [f for f in validate_bundle(bundle) if f.level.value == "error"] == []
    patient = _resource(bundle, "Patient")
    assert patient["_gender"] == _absent("unknown")
    condition = _resource(bundle, "Condition", "primaryCancer")
    assert condition["code"] == _absent("unknown")
    assert condition["stage"][0]["summary"] == _absent("asked-unknown")
    assert condition["extension"] == [
        {
            "url": OURS + "StructureDefinition/histologic-grade",
            "valueCodeableConcept": {
                "coding": [{"system": OURS + "CodeSystem/histologic-grade", "code": "GX_unknown"}]
            },
        }
    ]
    diagnosis = _resource(bundle, "Observation", "Observation-diagnosis")
    assert diagnosis["_effectiveDateTime"] == _absent("unknown")
    assert diagnosis["method"] == _absent("asked-unknown")
    assert diagnosis["extension"][0]["url"] == OURS + "StructureDefinition/biopsy-type"
    episode = _resource(bundle, "EpisodeOfCare")
    assert episode["managingOrganization"] == {"_display": _absent("unknown")}
    assert list(read_fhir([bundle], t)) == [record]


def test_an_institution_of_only_a_country_still_names_the_managing_organization_absent() -> None:
    t = Terminology.load()
    record = MdsRecord(record_id="r2", institution_country="IT", histologic_grade="not_applicable")
    bundle = to_fhir(record, t, "transaction")
    assert [f for f in validate_bundle(bundle) if f.level.value == "error"] == []
    org = _resource(bundle, "Organization")
    episode = _resource(bundle, "EpisodeOfCare")
    assert episode["managingOrganization"] == {
        "reference": "urn:uuid:" + org["id"],
        "_display": _absent("unknown"),
    }
    condition = _resource(bundle, "Condition", "primaryCancer")
    assert condition["stage"] == [{"summary": _absent("not-applicable")}]
    assert list(read_fhir([bundle], t)) == [record]
