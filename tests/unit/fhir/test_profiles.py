"""profiles/ loads, every definition compiles, and the generated CodeSystems match the maps."""

from __future__ import annotations

import json

from adapter.fhir.profiles import load_profiles, local_terminology, profiles_dir
from adapter.fhir.structure import compile_structure
from adapter.fhir.validate import Validator

IG = "http://hl7.eu/fhir/ig/idea4rc/"
LOCAL = "https://w3id.org/sarcoma-mds/fhir/"


def test_profiles_load_with_expected_counts() -> None:
    p = load_profiles()
    urls = p.structure_definitions
    assert sum(u.startswith(IG) for u in urls) == 58  # 37 profiles + 21 extensions
    assert sum(u.startswith("http://hl7.org/fhir/StructureDefinition/") for u in urls) == 10
    assert sorted(u.removeprefix(LOCAL + "StructureDefinition/") for u in urls if LOCAL in u) == [
        "age-at-diagnosis", "biopsy-type", "date-of-death", "enneking-stage", "histologic-grade",
        "presentation-status", "surgical-margin-enneking", "tissue-of-origin",
    ]  # fmt: skip
    assert sum(u.startswith(IG) for u in p.value_sets) == 121
    assert sum(u.startswith(IG) for u in p.code_systems) == 3
    assert load_profiles() is p  # cached: read once


def test_every_structure_definition_compiles() -> None:
    p = load_profiles()
    for url, sd in p.structure_definitions.items():
        structure = compile_structure(sd, p)
        assert structure.url == url
        assert structure.root.children or sd["differential"]["element"][1:] == []


def test_expansions() -> None:
    p = load_profiles()
    margins = p.expansion(IG + "ValueSet/surgery-outcome-eu-i4rc")
    assert margins is not None and margins.complete
    assert sorted(c for _, c in margins.codes) == ["1633801", "1634484", "1634643"]
    diagnosis = p.expansion(IG + "ValueSet/cancer-diagnosis-athena-vs")
    assert diagnosis is not None and not diagnosis.complete  # a filter part
    assert diagnosis.has("http://fhir.ohdsi.org/CodeSystem/concepts", "36552407")
    status = p.expansion("http://hl7.org/fhir/ValueSet/event-status")  # whole core CodeSystem
    assert status is not None and status.complete and status.has(None, "not-done")
    enneking = p.expansion(LOCAL + "ValueSet/surgical-margin-enneking")
    assert enneking is not None and enneking.complete
    assert sorted(c for _, c in enneking.codes) == [
        "intralesional", "marginal", "radical", "unknown", "wide",
    ]  # fmt: skip
    assert p.expansion("http://example.org/ValueSet/none") is None


def test_every_required_binding_of_an_emitted_profile_is_known() -> None:
    """A required binding to a ValueSet we do not hold can only ever say "not checked"."""
    p = load_profiles()
    missing = set()
    for sd in p.structure_definitions.values():
        for e in sd["differential"]["element"]:
            b = e.get("binding", {})
            if b.get("strength") == "required" and b["valueSet"].split("|")[0] not in p.value_sets:
                missing.add(b["valueSet"])
    # two LOINC answer lists (ECOG, Karnofsky): not in profiles/, so "not checked"
    assert sorted(missing) == ["http://loinc.org/vs/LL4986-7", "http://loinc.org/vs/LL529-9"]


def test_local_terminology_has_not_drifted_from_the_maps() -> None:
    """Regenerate with `python -m adapter.fhir.profiles` after editing terminology/maps."""
    folder = profiles_dir() / "local" / "terminology"
    expected = {f"{r['resourceType']}-{r['id']}.json": r for r in local_terminology()}
    on_disk = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in folder.glob("*.json")}
    assert sorted(on_disk) == sorted(expected)
    for name, resource in expected.items():
        assert on_disk[name] == resource, name


def test_local_extensions_validate_their_values() -> None:
    v = Validator()
    ext = {
        "url": LOCAL + "StructureDefinition/presentation-status",
        "valueCodeableConcept": {
            "coding": [{"system": LOCAL + "CodeSystem/presentation-status", "code": "recurrent"}]
        },
    }
    findings = v.validate({"resourceType": "Condition", "extension": [ext]})
    assert [(f.level.value, f.location) for f in findings] == [
        ("error", "Condition.extension[0].valueCodeableConcept.coding[0].code")
    ]


def test_notice_and_readme_exist() -> None:
    assert (profiles_dir() / "NOTICE.md").is_file()
    assert (profiles_dir() / "README.md").is_file()
