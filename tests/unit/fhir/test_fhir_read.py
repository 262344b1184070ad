"""Reading FHIR: grouping, and every finding for what cannot become MDS (IDEA4RC examples)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import orjson

from adapter.errors import Finding
from adapter.fhir import read_fhir, read_ndjson, to_fhir
from adapter.mds.record import MdsRecord
from adapter.mds.synth import generate
from adapter.terminology import Terminology

EXAMPLES = Path("/work/shared/idea4rc/ig/examples")
if not EXAMPLES.exists():  # the checkout beside this one, as in the other tests
    EXAMPLES = Path(__file__).resolve().parents[4] / "shared" / "idea4rc" / "ig" / "examples"

# (code, type/id, element) → how many: the whole report for the 40 IDEA4RC examples (H&N).
IDEA4RC_REPORT = {
    # planned: not a contact; the last contact is observation-id-15's 2024-02-03
    ("fhir.not-a-contact", "Encounter/encounter-id-14", "Encounter.status"): 1,
    ("fhir.unknown-code", "Condition/condition-id-10", "Condition.bodySite"): 14,
    ("fhir.unknown-code", "Condition/condition-id-10", "Condition.code"): 1,
    ("fhir.unknown-code", "Observation/observation-id-0", "Observation.valueCodeableConcept"): 1,
    ("fhir.unknown-code", "Observation/observation-id-1", "Observation.valueCodeableConcept"): 1,
    ("fhir.unknown-code", "Observation/observation-id-2", "Observation.valueCodeableConcept"): 1,
    ("fhir.unknown-code", "Observation/observation-id-3", "Observation.valueCodeableConcept"): 1,
    # the diagnosis Observation's value (a head-and-neck histology concept) is read too
    ("fhir.unknown-code", "Observation/observation-id-21", "Observation.valueCodeableConcept"): 1,
    ("fhir.unknown-code", "Observation/observation-id-37", "Observation.valueCodeableConcept"): 1,
    ("fhir.unknown-code", "Procedure/procedure-id-29", "Procedure.code"): 1,
    ("fhir.unsupported-element", "Condition/condition-id-10", "Condition.bodySite.text"): 1,
    (
        "fhir.unsupported-element",
        "Condition/condition-id-10",
        "Condition.extension(http://hl7.org/fhir/StructureDefinition/condition-dueTo)",
    ): 1,
    ("fhir.unsupported-element", "Condition/condition-id-7", "Condition.clinicalStatus"): 1,
    (
        "fhir.unsupported-element",
        "MedicationAdministration/GOFSH-GENERATED-id-30",
        "MedicationAdministration.extension(http://hl7.eu/fhir/ig/idea4rc/StructureDefinition/chemiotherapy-info)",
    ): 1,
    (
        "fhir.unsupported-element",
        "MedicationAdministration/GOFSH-GENERATED-id-30",
        "MedicationAdministration.extension(http://hl7.eu/fhir/ig/idea4rc/StructureDefinition/number-of-cycles-administrations)",
    ): 1,
    (
        "fhir.unsupported-element",
        "MedicationAdministration/GOFSH-GENERATED-id-30",
        "MedicationAdministration.extension(http://hl7.eu/fhir/ig/idea4rc/StructureDefinition/reason-for-end-of-treatment)",
    ): 1,
    (
        "fhir.unsupported-element",
        "MedicationAdministration/GOFSH-GENERATED-id-30",
        "MedicationAdministration.extension(http://hl7.eu/fhir/ig/idea4rc/StructureDefinition/regimen-changed)",
    ): 1,
    (
        "fhir.unsupported-element",
        "MedicationAdministration/GOFSH-GENERATED-id-30",
        "MedicationAdministration.extension(http://hl7.eu/fhir/ig/idea4rc/StructureDefinition/treatment-response)",
    ): 1,
    (
        "fhir.unsupported-element",
        "MedicationAdministration/GOFSH-GENERATED-id-30",
        "MedicationAdministration.extension(http://hl7.org/fhir/5.0/StructureDefinition/extension-Procedure.category)",
    ): 1,
    (
        "fhir.unsupported-element",
        "MedicationAdministration/GOFSH-GENERATED-id-30",
        "MedicationAdministration.extension(http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-procedure-intent)",
    ): 1,
    ("fhir.unsupported-element", "Patient/patient-id-17", "Patient.address"): 1,
    (
        "fhir.unmatched-institution",
        "EpisodeOfCare/episodeOfCare-id-13",
        "EpisodeOfCare.managingOrganization.display",
    ): 1,  # "INT", no Organization
    (
        "fhir.unsupported-element",
        "EpisodeOfCare/episodeOfCare-id-13",
        "EpisodeOfCare.period.start",
    ): 1,  # 2020-10-30, not the diagnosis date
    (
        "fhir.rounded-value",
        "Procedure/GOFSH-GENERATED-id-28",
        "Procedure.extension(dose).totalDoseDelivered",
    ): 1,  # 10.699999809265137 is float32 10.7
    (
        "fhir.unsupported-element",
        "Patient/patient-id-17",
        "Patient.extension(http://hl7.eu/fhir/ig/idea4rc/StructureDefinition/Race-eu-i4rc)",
    ): 1,
    (
        "fhir.unsupported-element",
        "Procedure/GOFSH-GENERATED-id-28",
        "Procedure.extension(http://hl7.eu/fhir/ig/idea4rc/StructureDefinition/mcode-radiotherapy-modality-and-technique)",
    ): 1,
    (
        "fhir.unsupported-element",
        "Procedure/GOFSH-GENERATED-id-28",
        "Procedure.extension(http://hl7.eu/fhir/ig/idea4rc/StructureDefinition/same-custodian-flag)",
    ): 1,
    (
        "fhir.unsupported-element",
        "Procedure/GOFSH-GENERATED-id-28",
        "Procedure.extension(http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-procedure-intent)",
    ): 1,
    (
        "fhir.unsupported-element",
        "Procedure/GOFSH-GENERATED-id-28",
        "Procedure.extension(http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-treatment-termination-reason)",
    ): 1,
    ("fhir.unsupported-element", "Procedure/procedure-id-29", "Procedure.complication"): 1,
    (
        "fhir.unsupported-element",
        "Procedure/procedure-id-29",
        "Procedure.extension(http://hl7.org/fhir/5.0/StructureDefinition/extension-Procedure.category)",
    ): 2,
    ("fhir.unsupported-resource", "ActorDefinition/actor-headneck-i4rc", "ActorDefinition"): 1,
    ("fhir.unsupported-resource", "ActorDefinition/actor-sarcoma-i4rc", "ActorDefinition"): 1,
    ("fhir.unsupported-resource", "Condition/condition-id-16", "Condition"): 1,
    (
        "fhir.unsupported-resource",
        "Condition/condition-id-8",
        "Condition.extension(occurredFollowing)",
    ): 1,
    ("fhir.unsupported-resource", "Observation/observation-id-11", "Observation.code"): 1,
    ("fhir.unsupported-resource", "Observation/observation-id-18", "Observation.code"): 1,
    ("fhir.unsupported-resource", "Observation/observation-id-19", "Observation.code"): 1,
    ("fhir.unsupported-resource", "Observation/observation-id-20", "Observation.code"): 1,
    ("fhir.unsupported-resource", "Observation/observation-id-22", "Observation.code"): 1,
    ("fhir.unsupported-resource", "Observation/observation-id-23", "Observation.code"): 1,
    ("fhir.unsupported-resource", "Observation/observation-id-24", "Observation.code"): 1,
    ("fhir.unsupported-resource", "Observation/observation-id-25", "Observation.code"): 1,
    ("fhir.unsupported-resource", "Observation/observation-id-26", "Observation.code"): 1,
    ("fhir.unsupported-resource", "Observation/observation-id-27", "Observation.code"): 1,
    ("fhir.unsupported-resource", "Observation/observation-id-32", "Observation.code"): 1,
    ("fhir.unsupported-resource", "Observation/observation-id-33", "Observation.code"): 1,
    ("fhir.unsupported-resource", "Observation/observation-id-34", "Observation.code"): 1,
    ("fhir.unsupported-resource", "Observation/observation-id-35", "Observation.code"): 1,
    ("fhir.unsupported-resource", "Observation/observation-id-5", "Observation.code"): 1,
    ("fhir.unsupported-resource", "Observation/observation-id-9", "Observation.code"): 1,
    (
        "fhir.unsupported-value",
        "MedicationAdministration/GOFSH-GENERATED-id-30",
        "MedicationAdministration.medicationCodeableConcept",
    ): 1,
    (
        "fhir.unsupported-value",
        "Procedure/GOFSH-GENERATED-id-28",
        "Procedure.extension(dose).fractionsDelivered",
    ): 1,
    ("fhir.unsupported-value", "Procedure/GOFSH-GENERATED-id-28", "Procedure.status"): 1,
    ("fhir.unsupported-value", "Procedure/procedure-id-29", "Procedure.status"): 1,
}


def examples() -> list[dict[str, Any]]:
    return [orjson.loads(p.read_bytes()) for p in sorted(EXAMPLES.glob("*.json"))]


def test_idea4rc_examples_are_read_and_the_rest_reported() -> None:
    items = list(read_fhir(examples(), profiles="off"))  # the mapping's own report
    records = [i for i in items if isinstance(i, MdsRecord)]
    report = Counter((f.code, f.location, f.elements[0]) for f in items if isinstance(f, Finding))
    assert dict(report) == IDEA4RC_REPORT
    assert records == [
        MdsRecord(
            record_id="patient-id-17", institution="INT", birth_date="1968-01-01", sex="male",
            age_at_diagnosis=54,
            diagnosis_date=dt.date(2022, 1, 15), histologic_grade="G2", tumour_size_cm=2.5,
            surgery_date=dt.date(2023, 11, 12), surgical_margin_r="R2",
            radiotherapy_timing="adjuvant", systemic_therapy_given="unknown",
            biopsy_type="fine_needle", ajcc_m_category="M1", ajcc_stage_group="IV",
            metastasis_sites_at_diagnosis=["soft_tissue", "bone", "pleura"],  # IG structures
            radiotherapy_start_date=dt.date(2022, 5, 14),
            radiotherapy_end_date=dt.date(2022, 11, 15),
            radiotherapy_total_dose_gy=10.7,
            systemic_therapy_start_date=dt.date(2021, 12, 15),
            systemic_therapy_end_date=dt.date(2022, 3, 14),
            date_of_last_contact=dt.date(2024, 2, 3),
        )
    ]  # fmt: skip


def test_findings_name_type_id_element_and_reason_and_other_records_survive() -> None:
    t = Terminology.load()
    a, b = (r for r, _ in generate(2, 9))
    bundle_a = to_fhir(a, t, "collection")
    bad = to_fhir(b, t, "collection")
    entries = bad["entry"]
    surgery = next(e["resource"] for e in entries if e["resource"]["resourceType"] == "Procedure")
    surgery["outcome"] = {"coding": [{"system": "http://example.org", "code": "R9"}]}
    stray = {
        "resourceType": "Observation",
        "id": "o1",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "21975-8"}]},
        "subject": {"reference": "Patient/nobody"},
        "valueDateTime": "2020-01-01",
    }
    odd = {"resourceType": "Immunization", "id": "i1", "subject": {"reference": "Patient/x"}}
    items = list(read_fhir([bundle_a, bad, stray, odd], t))
    findings = [
        (f.code, f.location, f.elements, f.record_id) for f in items if isinstance(f, Finding)
    ]
    assert findings == [
        ("fhir.unknown-code", f"Procedure/{surgery['id']}", ("Procedure.outcome",), b.record_id),
        ("fhir.unplaced-resource", "Observation/o1", ("Observation.subject",), None),
        ("fhir.unsupported-resource", "Immunization/i1", ("Immunization",), None),
    ]  # fmt: skip
    records = [i for i in items if isinstance(i, MdsRecord)]
    assert records[0] == a
    assert records[1] == b.model_copy(update={"surgical_margin_r": None})


def test_idea4rc_margin_codes_are_read() -> None:
    """The IG value-set margins (4121182 = R0) are `read` rows: accepted, never written."""
    t = Terminology.load()
    record = MdsRecord(record_id="r", surgery_performed="yes", surgical_margin_r="R1")
    bundle = to_fhir(record, t)
    surgery = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Procedure"
    )
    surgery["outcome"] = {
        "coding": [{"system": "http://fhir.ohdsi.org/CodeSystem/concepts", "code": "4121182"}]
    }
    assert list(read_fhir([bundle], t)) == [record.model_copy(update={"surgical_margin_r": "R0"})]


IG_EXT = "http://hl7.eu/fhir/ig/idea4rc/StructureDefinition/"
# The IDEA4RC examples' profile errors, as read_fhir reports them before mapping.
IDEA4RC_PROFILE_ERRORS = [
    *(
        ("chunk 10 (MedicationAdministration/GOFSH-GENERATED-id-30): "
         f"MedicationAdministration.extension[{i}]", "Extension.url", IG_EXT + name)
        for i, name in enumerate(
            ["chemiotherapy-info", "number-of-cycles-administrations", "regimen-changed",
             "reason-for-end-of-treatment", "treatment-response"], start=2)
    ),
    ("chunk 10 (MedicationAdministration/GOFSH-GENERATED-id-30): "
     "MedicationAdministration.extension:categoryR5",
     "MedicationAdministration.extension:categoryR5", None),
    ("chunk 13 (Observation/observation-id-11): Observation.code.coding[0].code",
     "Observation.code", "immunohistochemistryPerformed"),
    ("chunk 30 (Observation/observation-id-34): Observation.code.coding[0].code",
     "Observation.code", "44789520"),
    ("chunk 37 (Observation/observation-id-9): Observation.code.coding[0].code",
     "Observation.code", "geneMutationAnalysisPerformed"),
    ("chunk 39 (Procedure/GOFSH-GENERATED-id-28): Procedure.extension[0].valueString",
     "Extension.value[x]", None),
]  # fmt: skip


def profile_findings(items: list[Any]) -> list[tuple[str, str | None, str, Any]]:
    return [
        (f.level.value, f.location, f.elements[0], f.values[0] if f.values else None)
        for f in items
        if isinstance(f, Finding) and f.code == "fhir.profile"
    ]


def test_input_is_checked_against_the_profiles_and_mapped_with_warnings() -> None:
    items = list(read_fhir(examples()))  # profiles="warn", the default
    expected = [("warning", *e) for e in IDEA4RC_PROFILE_ERRORS]
    assert profile_findings(items) == expected
    off = list(read_fhir(examples(), profiles="off"))
    assert [i for i in items if isinstance(i, MdsRecord)] == [
        i for i in off if isinstance(i, MdsRecord)
    ]


def test_reject_leaves_out_every_resource_with_a_profile_error() -> None:
    items = list(read_fhir(examples(), profiles="reject"))
    assert profile_findings(items) == [("error", *e) for e in IDEA4RC_PROFILE_ERRORS]
    (record,) = [i for i in items if isinstance(i, MdsRecord)]
    # chunk 10 (chemotherapy) and 39 (radiotherapy) were not mapped
    assert record.systemic_therapy_start_date is None
    assert record.radiotherapy_start_date is None
    assert record.surgical_margin_r == "R2"


def test_a_bad_bundle_line_is_located_by_line_entry_and_element() -> None:
    t = Terminology.load()
    a, b = (r for r, _ in generate(2, 4))
    bad = to_fhir(b, t, "collection")
    i, patient = next(
        (i, e["resource"]) for i, e in enumerate(bad["entry"])
        if e["resource"]["resourceType"] == "Patient"
    )  # fmt: skip
    patient["gender"] = "mal"
    lines = [orjson.dumps(to_fhir(a, t, "collection")), b"", orjson.dumps(bad)]
    warned = list(read_ndjson(lines, t))
    where = f"line 3 (Bundle/{bad['id']}): Bundle.entry[{i}].resource.gender"
    findings = [(f.level.value, f.location, f.record_id) for f in warned if isinstance(f, Finding)]
    assert findings[:1] == [("warning", where, b.record_id)]
    rejected = list(read_ndjson(lines, t, profiles="reject"))
    assert [x for x in rejected if isinstance(x, MdsRecord)] == [a]
    assert {f.level.value for f in rejected if isinstance(f, Finding)} == {"error"}


def test_a_value_the_record_model_rejects_is_located_at_the_resource_it_came_from() -> None:
    """Tumour size read from its Observation as -2 cm: the finding names that Observation, so
    the API names its entry; a record whose bad values come from two resources names the
    Patient."""
    terminology = Terminology.load()
    record = next(r for r, _ in generate(40, seed=3) if r.tumour_size_cm is not None)
    sent = to_fhir(record, terminology)
    size = next(e["resource"] for e in sent["entry"] if "valueQuantity" in e["resource"]
                and e["resource"]["valueQuantity"].get("unit") == "cm")  # fmt: skip
    size["valueQuantity"]["value"] = -2
    found = [x for x in read_fhir([sent], terminology) if isinstance(x, Finding)]
    assert [(f.code, f.location, f.elements) for f in found] == [
        ("mds.invalid-record", f"Observation/{size['id']}", ("tumour_size_cm",))
    ]
    patient = next(e["resource"] for e in sent["entry"]
                   if e["resource"]["resourceType"] == "Patient")  # fmt: skip
    patient["birthDate"] = "1800-01-01"
    found = [x for x in read_fhir([sent], terminology) if isinstance(x, Finding)]
    assert [(f.code, f.location) for f in found] == [
        ("mds.invalid-record", f"Patient/{patient['id']}")
    ]


def test_a_diagnosis_observation_that_disagrees_with_the_condition_is_a_conflict() -> None:
    """Both say the histology; the Condition's is kept and the Observation's is reported."""
    terminology = Terminology.load()
    record = next(r for r, _ in generate(1, seed=4))
    sent = to_fhir(record, terminology)
    diagnosis = next(e["resource"] for e in sent["entry"] if e["resource"].get("code", {})
                     .get("coding", [{}])[0].get("code") == "29308-4")  # fmt: skip
    other = "8805/3" if record.histology_icdo3 != "8805/3" else "8802/3"
    diagnosis["valueCodeableConcept"] = {"coding": [
        {"system": "http://terminology.hl7.org/CodeSystem/icd-o-3", "code": other}]}  # fmt: skip
    found = list(read_fhir([sent], terminology))
    assert [(f.code, f.location, f.elements) for f in found if isinstance(f, Finding)] == [
        ("fhir.conflict", f"Observation/{diagnosis['id']}", ("Observation.valueCodeableConcept",))
    ]
    assert [r.histology_icdo3 for r in found if isinstance(r, MdsRecord)] == [
        record.histology_icdo3
    ]
