"""The MDS record: one patient-tumour record, one field per data dictionary element.

Generated from terminology/mds-dictionary.tsv by `python -m adapter.mds.gen`; do not edit.
Dictionary sha256 prefix: 0a3f26a88c0c10af. Each field carries its definition, group, level
and unit (see `MdsRecord.model_fields`); an absent element is None (not recorded).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field

from adapter.mds.types import (
    Age,
    CountryCode,
    Fractions,
    MdsBase,
    Morphology,
    PartialDate,
    Percent,
    Positive,
    Text,
    Topography,
    TumourSize,
    UniqueList,
    element_field,
)

__all__ = [
    "AjccMCategory",
    "AjccNCategory",
    "AjccStageGroup",
    "AjccTCategory",
    "AnatomicRegion",
    "BiopsyType",
    "DiagnosticConfirmation",
    "DiseaseStatusLastFollowup",
    "DistantMetastasisAfterDiagnosis",
    "EnnekingStage",
    "GradingSystem",
    "HistologicGrade",
    "Laterality",
    "LocalRecurrence",
    "MdsRecord",
    "MetastasisAtDiagnosis",
    "MetastasisSitesAtDiagnosis",
    "PresentationStatus",
    "RadiotherapyGiven",
    "RadiotherapyTiming",
    "Sex",
    "SurgeryPerformed",
    "SurgeryType",
    "SurgicalMarginEnneking",
    "SurgicalMarginR",
    "SystemicTherapyGiven",
    "SystemicTherapyTiming",
    "TissueOfOrigin",
    "TumourDepth",
    "VitalStatus",
]

Sex = Literal["male", "female", "other", "unknown"]
PresentationStatus = Literal[
    "primary_untreated",
    "primary_after_unplanned_excision",
    "local_recurrence",
    "metastatic_presentation_only",
    "unknown",
]
TissueOfOrigin = Literal["bone", "soft_tissue"]
AnatomicRegion = Literal["upper_extremity", "lower_extremity", "pelvis"]
Laterality = Literal["right", "left", "bilateral", "midline", "not_paired", "unknown"]
HistologicGrade = Literal["G1", "G2", "G3", "low", "high", "GX_unknown", "not_applicable"]
GradingSystem = Literal["FNCLCC", "two_tier_low_high", "WHO_or_other", "unknown"]
TumourDepth = Literal["superficial", "deep", "not_applicable", "unknown"]
MetastasisAtDiagnosis = Literal["none", "distant", "regional_nodes_only", "unknown"]
MetastasisSitesAtDiagnosis = Literal[
    "lung",
    "bone",
    "lymph_node_regional",
    "lymph_node_distant",
    "soft_tissue",
    "liver",
    "brain",
    "pleura",
    "peritoneum",
    "other",
    "unknown",
]
SurgeryPerformed = Literal["yes", "no", "unknown"]
SurgeryType = Literal[
    "local_excision",
    "wide_resection_limb_salvage",
    "amputation",
    "forequarter",
    "hindquarter",
    "hemipelvectomy",
    "internal_hemipelvectomy",
    "other",
    "none",
]
SurgicalMarginR = Literal["R0", "R1", "R2", "RX_not_assessable", "not_applicable"]
RadiotherapyGiven = Literal["yes", "no", "unknown"]
RadiotherapyTiming = Literal[
    "neoadjuvant",
    "adjuvant",
    "pre_and_post",
    "intraoperative",
    "definitive_no_surgery",
    "none",
    "unknown",
]
SystemicTherapyGiven = Literal["yes", "no", "unknown"]
SystemicTherapyTiming = Literal[
    "neoadjuvant",
    "adjuvant",
    "pre_and_post",
    "no_surgery",
    "none",
    "unknown",
]
DiagnosticConfirmation = Literal[
    "histology",
    "cytology_only",
    "imaging_only",
    "clinical_only",
    "unknown",
]
BiopsyType = Literal[
    "fine_needle",
    "core_needle",
    "incisional",
    "excisional",
    "unplanned_excision",
    "unknown",
]
SurgicalMarginEnneking = Literal["intralesional", "marginal", "wide", "radical", "unknown"]
AjccTCategory = Literal[
    "TX",
    "T0",
    "T1",
    "T2",
    "T3",
    "T4",
    "T1a",
    "T1b",
    "T2a",
    "T2b",
    "T3a",
    "T3b",
    "T4a",
    "T4b",
]
AjccNCategory = Literal["NX", "N0", "N1"]
AjccMCategory = Literal["M0", "M1", "M1a", "M1b"]
AjccStageGroup = Literal[
    "IA",
    "IB",
    "II",
    "IIA",
    "IIB",
    "III",
    "IIIA",
    "IIIB",
    "IV",
    "IVA",
    "IVB",
    "unknown",
]
EnnekingStage = Literal["IA", "IB", "IIA", "IIB", "III", "unknown"]
VitalStatus = Literal["alive", "dead"]
DiseaseStatusLastFollowup = Literal["NED", "AWD", "DOD", "DOC", "DUC", "lost_to_follow_up"]
LocalRecurrence = Literal["yes", "no", "unknown"]
DistantMetastasisAfterDiagnosis = Literal["yes", "no", "unknown"]


class MdsRecord(MdsBase):
    """One sarcoma MDS record: a patient and one primary tumour."""

    record_id: Text = element_field("record_id", required=True)
    institution: Text | None = element_field("institution")
    institution_country: CountryCode | None = element_field("institution_country")
    birth_date: PartialDate | None = element_field("birth_date")
    sex: Sex | None = element_field("sex")
    age_at_diagnosis: Age | None = element_field("age_at_diagnosis")
    diagnosis_date: dt.date | None = element_field("diagnosis_date")
    presentation_status: PresentationStatus | None = element_field("presentation_status")
    tissue_of_origin: TissueOfOrigin | None = element_field("tissue_of_origin")
    anatomic_region: AnatomicRegion | None = element_field("anatomic_region")
    primary_site_icdo3: Topography | None = element_field("primary_site_icdo3")
    laterality: Laterality | None = element_field("laterality")
    histology_icdo3: Morphology | None = element_field("histology_icdo3")
    histologic_grade: HistologicGrade | None = element_field("histologic_grade")
    grading_system: GradingSystem | None = element_field("grading_system")
    tumour_size_cm: TumourSize | None = element_field("tumour_size_cm")
    tumour_depth: TumourDepth | None = element_field("tumour_depth")
    metastasis_at_diagnosis: MetastasisAtDiagnosis | None = element_field("metastasis_at_diagnosis")
    metastasis_sites_at_diagnosis: (
        Annotated[list[MetastasisSitesAtDiagnosis], Field(min_length=1), UniqueList] | None
    ) = element_field("metastasis_sites_at_diagnosis")
    surgery_performed: SurgeryPerformed | None = element_field("surgery_performed")
    surgery_date: dt.date | None = element_field("surgery_date")
    surgery_type: SurgeryType | None = element_field("surgery_type")
    surgical_margin_r: SurgicalMarginR | None = element_field("surgical_margin_r")
    radiotherapy_given: RadiotherapyGiven | None = element_field("radiotherapy_given")
    radiotherapy_timing: RadiotherapyTiming | None = element_field("radiotherapy_timing")
    systemic_therapy_given: SystemicTherapyGiven | None = element_field("systemic_therapy_given")
    systemic_therapy_timing: SystemicTherapyTiming | None = element_field("systemic_therapy_timing")
    diagnostic_confirmation: DiagnosticConfirmation | None = element_field(
        "diagnostic_confirmation"
    )
    biopsy_type: BiopsyType | None = element_field("biopsy_type")
    surgical_margin_enneking: SurgicalMarginEnneking | None = element_field(
        "surgical_margin_enneking"
    )
    ajcc_t_category: AjccTCategory | None = element_field("ajcc_t_category")
    ajcc_n_category: AjccNCategory | None = element_field("ajcc_n_category")
    ajcc_m_category: AjccMCategory | None = element_field("ajcc_m_category")
    ajcc_stage_group: AjccStageGroup | None = element_field("ajcc_stage_group")
    enneking_stage: EnnekingStage | None = element_field("enneking_stage")
    radiotherapy_start_date: dt.date | None = element_field("radiotherapy_start_date")
    radiotherapy_end_date: dt.date | None = element_field("radiotherapy_end_date")
    radiotherapy_total_dose_gy: Positive | None = element_field("radiotherapy_total_dose_gy")
    radiotherapy_fractions: Fractions | None = element_field("radiotherapy_fractions")
    systemic_therapy_start_date: dt.date | None = element_field("systemic_therapy_start_date")
    systemic_therapy_end_date: dt.date | None = element_field("systemic_therapy_end_date")
    systemic_regimen: Text | None = element_field("systemic_regimen")
    percent_necrosis_post_neoadjuvant: Percent | None = element_field(
        "percent_necrosis_post_neoadjuvant"
    )
    vital_status: VitalStatus | None = element_field("vital_status")
    date_of_last_contact: dt.date | None = element_field("date_of_last_contact")
    date_of_death: dt.date | None = element_field("date_of_death")
    disease_status_last_followup: DiseaseStatusLastFollowup | None = element_field(
        "disease_status_last_followup"
    )
    local_recurrence: LocalRecurrence | None = element_field("local_recurrence")
    local_recurrence_date: dt.date | None = element_field("local_recurrence_date")
    distant_metastasis_after_diagnosis: DistantMetastasisAfterDiagnosis | None = element_field(
        "distant_metastasis_after_diagnosis"
    )
    distant_metastasis_date: dt.date | None = element_field("distant_metastasis_date")
