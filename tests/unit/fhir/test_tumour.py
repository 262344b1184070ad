"""The tumour chosen by meaning (adapter/fhir/tumour.py): hand-written foreign Bundles, hand-written
expected records; comorbidities reported, never a second primary; entry order changes nothing."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest

from adapter.errors import Finding, Level
from adapter.fhir import read_fhir
from adapter.fhir.tumour import kind_of
from adapter.mds.record import MdsRecord
from adapter.terminology import Terminology

MCODE = "http://hl7.org/fhir/us/mcode/StructureDefinition/"
ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
SCT = "http://snomed.info/sct"
OMOP = "http://fhir.ohdsi.org/CodeSystem/concepts"
SUBJECT = {"reference": "Patient/p1"}


@pytest.fixture(scope="module")
def terminology() -> Terminology:
    return Terminology.load()


def cc(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    coding = {"system": system, "code": code}
    return {"coding": [coding | {"display": display} if display else coding]}


def patient() -> dict[str, Any]:
    return {
        "resourceType": "Patient", "id": "p1",
        "identifier": [{"system": "http://hospital.example/mrn", "value": "MRN-1"}],
        "gender": "female", "birthDate": "1971-04-02",
    }  # fmt: skip


def comorbidity(cid: str, code: dict[str, Any], onset: str) -> dict[str, Any]:
    return {"resourceType": "Condition", "id": cid, "subject": SUBJECT, "code": code,
            "onsetDateTime": onset}  # fmt: skip


def liposarcoma(cid: str = "c-sts") -> dict[str, Any]:
    """An mCODE primary cancer: ICD-10 diagnosis code, ICD-O-3 in the histology extension."""
    return {
        "resourceType": "Condition", "id": cid,
        "meta": {"profile": [MCODE + "mcode-primary-cancer-condition"]},
        "extension": [{"url": MCODE + "mcode-histology-morphology-behavior",
                       "valueCodeableConcept": cc(ICDO3, "8850/3")}],
        "subject": SUBJECT, "code": cc(ICD10, "C49.2"),
        "bodySite": [cc(ICDO3, "C49.2")], "onsetDateTime": "2023-03-01",
    }  # fmt: skip


def lung_metastasis() -> dict[str, Any]:
    return {
        "resourceType": "Condition", "id": "c-met",
        "meta": {"profile": [MCODE + "mcode-secondary-cancer-condition"]},
        "subject": SUBJECT, "code": cc(SCT, "94391008", "Secondary malignant neoplasm of lung"),
        "bodySite": [cc(OMOP, "4213162", "Lung structure")],
    }  # fmt: skip


def bundle(*resources: dict[str, Any], kind: str = "collection") -> dict[str, Any]:
    entries = [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources]
    return {"resourceType": "Bundle", "type": kind, "entry": entries}


def mcode_bundle() -> dict[str, Any]:
    """Comorbidities with ids that sort before the tumour's: the old reader took the first."""
    return bundle(
        patient(),
        comorbidity("a-htn", cc(SCT, "38341003", "Hypertensive disorder"), "2010-05-01"),
        comorbidity("a-dm", cc(ICD10, "E11.9", "Type 2 diabetes mellitus"), "2015-01-20"),
        liposarcoma(),
        lung_metastasis(),
    )


EXPECTED = MdsRecord(
    record_id="MRN-1", sex="female", birth_date="1971-04-02", histology_icdo3="8850/3",
    primary_site_icdo3="C49.2", diagnosis_date=dt.date(2023, 3, 1),
    metastasis_sites_at_diagnosis=["lung"],
)  # fmt: skip


def report(items: list[Any]) -> set[tuple[str, str | None, str]]:
    return {(f.code, f.location, f.elements[0]) for f in items if isinstance(f, Finding)}


def test_comorbidities_are_reported_never_taken_for_the_tumour(terminology: Terminology) -> None:
    items = list(read_fhir([mcode_bundle()], terminology, profiles="off"))
    assert [i for i in items if isinstance(i, MdsRecord)] == [EXPECTED]
    assert report(items) == {
        ("fhir.comorbidity", "Condition/a-htn", "Condition"),
        ("fhir.comorbidity", "Condition/a-dm", "Condition"),
        ("fhir.unknown-code", "Condition/c-sts", "Condition.code"),  # ICD-10: no morphology
    }  # the metastasis' code says what its profile says: read as its kind, not reported
    (found,) = [f for f in items if isinstance(f, Finding) and f.location == "Condition/a-htn"]
    assert found.message == "comorbidity: not an MDS element"


def test_entry_order_changes_neither_the_record_nor_the_report(terminology: Terminology) -> None:
    sent = mcode_bundle()
    first = list(read_fhir([sent], terminology, profiles="off"))
    for seed in range(6):
        shuffled = dict(sent, entry=sent["entry"][:])
        random.Random(seed).shuffle(shuffled["entry"])
        items = list(read_fhir([shuffled], terminology, profiles="off"))
        assert [i for i in items if isinstance(i, MdsRecord)] == [EXPECTED]
        assert report(items) == report(first)


def test_the_profiled_primary_wins_over_one_only_coded(terminology: Terminology) -> None:
    breast = comorbidity("a-breast", cc(ICD10, "C50.911", "Malignant neoplasm of breast"),
                         "2001-06-01")  # fmt: skip
    for order in ((breast, liposarcoma("z-sts")), (liposarcoma("z-sts"), breast)):
        items = list(read_fhir([bundle(patient(), *order)], terminology, profiles="off"))
        (record,) = [i for i in items if isinstance(i, MdsRecord)]
        assert (record.histology_icdo3, record.diagnosis_date) == ("8850/3", dt.date(2023, 3, 1))
        (extra,) = [
            f for f in items if isinstance(f, Finding) and f.location == "Condition/a-breast"
        ]
        assert extra.code == "fhir.unsupported-resource"
        assert extra.message.endswith("the record holds Condition/z-sts")


def test_a_coded_cancer_without_profile_is_the_tumour(terminology: Terminology) -> None:
    coded = comorbidity("k1", cc(ICDO3, "9180/3", "Osteosarcoma"), "2022-09-14")
    coded["bodySite"] = [cc(ICDO3, "C40.2")]
    htn = comorbidity("a-htn", cc(SCT, "38341003"), "2010-05-01")
    items = list(read_fhir([bundle(patient(), htn, coded)], terminology, profiles="off"))
    assert [i for i in items if isinstance(i, MdsRecord)] == [
        MdsRecord(record_id="MRN-1", sex="female", birth_date="1971-04-02",
                  histology_icdo3="9180/3", primary_site_icdo3="C40.2",
                  diagnosis_date=dt.date(2022, 9, 14))
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("condition", "kind"),
    [
        ({"code": cc(ICDO3, "8850/3")}, "primary"),
        ({"code": cc(ICDO3, "8850/6")}, "metastasis"),
        ({"code": cc(ICDO3, "8850/0")}, "comorbidity"),  # benign
        ({"code": cc(ICD10, "C49.2")}, "primary"),
        ({"code": cc(ICD10, "C78.00")}, "metastasis"),
        ({"code": cc(ICD10, "D21.2")}, "comorbidity"),
        ({"code": cc(OMOP, "36769180")}, "metastasis"),
        ({"code": cc(SCT, "302998001", "Impaired mobility")}, "comorbidity"),
        (
            {
                "code": cc(ICDO3, "8850/3"),
                "verificationStatus": cc(
                    "http://terminology.hl7.org/CodeSystem/condition-ver-status", "refuted"
                ),
            },
            "refuted",
        ),
        ({"meta": {"profile": [MCODE + "mcode-primary-cancer-condition|4.0.0"]}}, "primary"),
    ],
)
def test_kind_of_a_condition(
    condition: dict[str, Any], kind: str, terminology: Terminology
) -> None:
    from adapter.fhir.codes import Codec

    assert kind_of({"resourceType": "Condition", **condition}, Codec(terminology)) == kind


def test_a_bundle_without_cancer_gives_one_error_and_no_record(terminology: Terminology) -> None:
    """An IPS document: its one problem is not a tumour, and its onset no diagnosis date."""
    composition = {"resourceType": "Composition", "id": "doc", "subject": SUBJECT,
                   "status": "final", "type": cc("http://loinc.org", "60591-5")}  # fmt: skip
    mobility = comorbidity("imp", cc(SCT, "302998001", "Impaired mobility"), "2015-03-01")
    sent = bundle(composition, patient(), mobility, kind="document")
    items = list(read_fhir([sent], terminology, profiles="off"))
    assert [i for i in items if isinstance(i, MdsRecord)] == []
    errors = [f for f in items if isinstance(f, Finding) and f.level is Level.ERROR]
    assert [(f.code, f.location, f.record_id) for f in errors] == [
        ("fhir.no-primary-cancer", "Patient/p1", "MRN-1")
    ]
    assert errors[0].message == (
        "no primary cancer Condition was found for Patient/p1; Conditions: "
        "Condition/imp (http://snomed.info/sct|302998001: comorbidity)"
    )
    assert ("fhir.comorbidity", "Condition/imp", "Condition") in report(items)
