"""The terminology service: translate, lookup, validate-code, cached per map versions."""

from __future__ import annotations

from pathlib import Path

from adapter.terminology import Terminology, mds_system
from tests.unit.terminology.conftest import Edit

ATHENA = "http://fhir.ohdsi.org/CodeSystem/concepts"
SNOMED = "http://snomed.info/sct"


def test_r0_is_written_as_the_cancer_modifier_concept() -> None:
    t = Terminology.load()
    assert t.omop_concept_id("surgical_margin_r", "R0") == 1634643
    assert t.omop_concept_id("surgical_margin_r", "R1") == 1633801
    assert t.omop_concept_id("surgical_margin_r", "R2") == 1634484
    (match,) = t.translate(mds_system("surgical_margin_r"), "R0", ATHENA)
    assert (match.code, match.equivalence) == ("1634643", "equivalent")


def test_idea4rc_fhir_margin_codes_are_read_back_but_never_written() -> None:
    t = Terminology.load()
    assert t.mds_code("surgical_margin_r", ATHENA, "4121182") == "R0"
    assert t.mds_code("surgical_margin_r", ATHENA, "1634643") == "R0"
    written = {m.code for m in t.translate(mds_system("surgical_margin_r"), "R0")}
    assert "4121182" not in written


def test_histology_and_site_give_the_icdo3_condition_concept() -> None:
    t = Terminology.load()
    assert t.condition_concept_id("8805/3", "C49.2") == 36529931
    assert t.condition_concept_id("9040/3", "C49.1") == 36567162
    assert t.condition_concept_id("9180/3", "C40.2") is None  # no bone concepts (conflict C9)


def test_codes_with_standard_fhir_targets() -> None:
    t = Terminology.load()
    (right,) = t.translate(mds_system("laterality"), "right", SNOMED)
    assert right.code == "24028007"
    gender = t.translate(mds_system("sex"), "female", "http://hl7.org/fhir/administrative-gender")
    assert [g.code for g in gender] == ["female"]
    assert t.omop_concept_id("sex", "female") == 8532
    assert t.omop_concept_id("sex", "unknown") is None  # conflict C2: gender_concept_id 0
    assert t.omop_concept_id("disease_status_last_followup", "NED") == 2000100071


def test_unmatched_codes_say_why() -> None:
    t = Terminology.load()
    assert t.translate(mds_system("surgical_margin_enneking"), "wide") == ()
    (row,) = t.unmatched(mds_system("surgical_margin_enneking"), "wide")
    assert "no standard code" in row.comment


def test_lookup_gives_concept_attributes_and_mds_codes() -> None:
    t = Terminology.load()
    found = t.lookup(ATHENA, "36529931")
    assert found is not None
    assert found.properties["concept_code"] == "8805/3-C49.2"
    assert found.properties["vocabulary_id"] == "ICDO3"
    mds = t.lookup(mds_system("tumour_depth"), "deep")
    assert mds is not None and mds.properties["element"] == "tumour_depth"
    assert t.lookup(ATHENA, "1") is None


def test_validate_code_against_an_element_value_set() -> None:
    t = Terminology.load()
    assert t.validate_code("surgical_margin_r", ATHENA, "4121182").result
    assert t.validate_code(
        "https://w3id.org/sarcoma-mds/fhir/ValueSet/surgical-margin-r", ATHENA, "1634643"
    ).result
    assert t.validate_code("surgical_margin_r", mds_system("surgical_margin_r"), "R1").result
    assert not t.validate_code("surgical_margin_r", mds_system("surgical_margin_r"), "R9").result
    assert not t.validate_code("surgical_margin_r", ATHENA, "8507").result
    assert not t.validate_code("no_such_element", ATHENA, "8507").result


def test_service_is_cached_per_map_version(tree: Path, edit: Edit) -> None:
    first = Terminology.load(tree)
    assert Terminology.load(tree) is first
    assert first.versions["sex"] == "1.0.0"
    edit(
        "maps/manifest.csv",
        lambda ls: [line.replace("sex,sex.csv,1.0.0", "sex,sex.csv,1.0.1") for line in ls],
    )
    second = Terminology.load(tree)
    assert second is not first and second.versions["sex"] == "1.0.1"
