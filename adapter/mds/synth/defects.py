"""Defects: one mutation per rule, each breaking that rule and no other (docs/rules.md).

A mutation edits the recorded elements of a clean record in place and returns True, or returns
False, untouched, when the record gives it nothing to break (R11 on a pelvic bone, whose T is
not size-based). Mutations avoid cascades: moving a site off the pelvis also refits T to size
(R11), a site outside the table keeps tissue_of_origin so R09/R10 still know the tissue, and a
date is moved only where no treatment timing (R15) depends on it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from random import Random

from adapter.mds.knowledge import histologies, sites
from adapter.mds.synth.clean import EXTREMITIES, Fields
from adapter.mds.types import partial_date_bounds

__all__ = ["DEFECTS", "DEFECT_RULES", "Mutation", "break_one_rule"]

Mutation = Callable[[Fields, Random], bool]

REGIONS = (*EXTREMITIES, "pelvis")
OUT_OF_SCOPE = {"soft_tissue": ("C48.0", "C49.0", "C49.4"), "bone": ("C41.0", "C41.1")}
BOUNDARY = {
    kind: tuple(s.code for s in sites().values() if s.scope == "boundary" and s.tissue == kind)
    for kind in ("soft_tissue", "bone")
}
# carcinomas, melanoma, lymphoma, GIST, Kaposi, NOS, and benign counterparts of sarcomas
NOT_SARCOMA = ("8070/3", "8140/3", "8720/3", "9680/3", "8936/3", "9140/3", "8000/3")
BENIGN = ("8850/0", "8890/0", "9220/0", "8810/0")
FAILED_CONFIRMATION = ("cytology_only", "imaging_only", "clinical_only")


def _codes(cls: str, kind: str) -> tuple[str, ...]:
    return tuple(
        h.code for h in histologies().values() if h.cls == cls and h.tissue in (kind, "both")
    )


def _tissue(f: Fields) -> str:
    kind: str = f.get("tissue_of_origin") or sites()[f["primary_site_icdo3"]].tissue
    return kind


SOFT_TISSUE_T = (("T1", 5.0), ("T2", 10.0), ("T3", 15.0), ("T4", 1e9))


def _size_t(kind: str, size: float) -> str:
    """AJCC 8 T from size: soft tissue 5/10/15 cm, bone outside the pelvis 8 cm."""
    tops = (("T1", 8.0), ("T2", 1e9)) if kind == "bone" else SOFT_TISSUE_T
    return next(tcat for tcat, top in tops if size <= top)


def _off_pelvis(f: Fields, kind: str) -> None:
    """A bone tumour leaving C41.4 gets a size-based T in place of a segment-based one."""
    tcat, size = f.get("ajcc_t_category"), f.get("tumour_size_cm")
    if kind == "bone" and tcat is not None and len(tcat) == 3:
        if size is None:
            del f["ajcc_t_category"]
        else:
            f["ajcc_t_category"] = _size_t(kind, size)


def _r01(f: Fields, rng: Random) -> bool:
    kind = f["tissue_of_origin"] = _tissue(f)
    f.pop("anatomic_region", None)
    if rng.random() < 0.25:
        del f["primary_site_icdo3"]
    else:
        f["primary_site_icdo3"] = rng.choice(OUT_OF_SCOPE[kind])
    _off_pelvis(f, kind)
    return True


def _r02(f: Fields, rng: Random) -> bool:
    kind = _tissue(f)
    f["primary_site_icdo3"] = rng.choice(BOUNDARY[kind])
    f.pop("anatomic_region", None)
    _off_pelvis(f, kind)
    return True


def _r03(f: Fields, rng: Random) -> bool:
    draw = rng.random()
    if draw < 0.2:
        del f["histology_icdo3"]
    else:
        f["histology_icdo3"] = rng.choice(NOT_SARCOMA if draw < 0.7 else BENIGN)
    return True


def _r04(f: Fields, rng: Random) -> bool:
    f["histology_icdo3"] = rng.choice(_codes("intermediate", _tissue(f)))
    return True


def _r05(f: Fields, rng: Random) -> bool:
    f["histology_icdo3"] = rng.choice(_codes("legacy", _tissue(f)))
    return True


def _r06(f: Fields, rng: Random) -> bool:
    if rng.random() < 0.75:
        how = f["diagnostic_confirmation"] = rng.choice(FAILED_CONFIRMATION)
        if how == "cytology_only":
            f["biopsy_type"] = "fine_needle"
        return True
    # no confirmation, and no dated tissue procedure to stand in for it
    for name, value in (("diagnostic_confirmation", "unknown"), ("biopsy_type", "unknown")):
        if rng.random() < 0.5:
            f[name] = value
        else:
            f.pop(name, None)
    f.pop("surgery_date", None)
    return True


def _r07(f: Fields, rng: Random) -> bool:
    draw = rng.random()
    if draw < 0.5:
        f["presentation_status"] = rng.choice(("local_recurrence", "metastatic_presentation_only"))
    elif draw < 0.75:  # a warning, not an error
        if rng.random() < 0.5:
            f["presentation_status"] = "unknown"
        else:
            del f["presentation_status"]
    else:  # the morphology of the metastasis, not of the primary
        f["histology_icdo3"] = f["histology_icdo3"][:4] + "/6"
    return True


def _r08(f: Fields, rng: Random) -> bool:
    region = sites()[f["primary_site_icdo3"]].region
    fits = EXTREMITIES if region == "extremity" else (region,)
    f["anatomic_region"] = rng.choice([r for r in REGIONS if r not in fits])
    return True


def _r09(f: Fields, rng: Random) -> bool:
    if _tissue(f) == "bone":
        f["tumour_depth"] = rng.choice(("deep", "superficial"))
    elif rng.random() < 0.5:
        f["tumour_depth"] = "not_applicable"
    else:
        del f["tumour_depth"]
    return True


def _r10(f: Fields, rng: Random) -> bool:
    numbered = ("G1", "G2", "G3")
    if rng.random() < 0.5:  # FNCLCC with a two-tier grade, or on bone at all
        f["grading_system"] = "FNCLCC"
        bone = _tissue(f) == "bone"
        f["histologic_grade"] = rng.choice(numbered if bone else ("low", "high", "not_applicable"))
    else:
        f["grading_system"] = "two_tier_low_high"
        f["histologic_grade"] = rng.choice(numbered)
    return True


def _r11(f: Fields, rng: Random) -> bool:
    kind = _tissue(f)
    if kind == "bone" and f["primary_site_icdo3"] == "C41.4":
        return False
    size = f.setdefault("tumour_size_cm", round(rng.uniform(2.0, 25.0), 1))
    fits = _size_t(kind, size)
    wrong = (
        [x for x in ("T1", "T2") if x != fits]
        if kind == "bone"
        else [x for x, _ in SOFT_TISSUE_T if x != fits]
    )
    f["ajcc_t_category"] = rng.choice(wrong)
    return True


def _r12(f: Fields, rng: Random) -> bool:
    met, m = f.get("metastasis_at_diagnosis"), f.get("ajcc_m_category")
    options = ["sites"]
    if met == "distant" and m is not None:
        options.append("m0")
    if m == "M1" and _tissue(f) == "soft_tissue":
        options.append("bone_m")
    match rng.choice(options):
        case "sites":  # sites of metastasis, but none at diagnosis
            f["metastasis_at_diagnosis"] = "none"
            f.setdefault("metastasis_sites_at_diagnosis", ["lung"])
        case "m0":
            f["ajcc_m_category"] = "M0"
        case _:
            f["ajcc_m_category"] = rng.choice(("M1a", "M1b"))
    return True


def _r13(f: Fields, rng: Random) -> bool:
    rule = sites()[f["primary_site_icdo3"]].laterality
    if rule == "paired":
        side = rng.choice((None, "not_paired", "midline"))
    elif rule == "not_paired":
        side = rng.choice(("right", "left", "bilateral"))
    else:
        side = None
    f["laterality"] = side
    if side is None:
        del f["laterality"]
    return True


def _years(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _r14(f: Fields, rng: Random) -> bool:
    options = []
    if "birth_date" in f and "diagnosis_date" in f:
        options.append("age")
    if f.get("vital_status") == "alive" and "date_of_last_contact" in f:
        options.append("death")
    for therapy in ("radiotherapy", "systemic_therapy"):
        start, end = f.get(f"{therapy}_start_date"), f.get(f"{therapy}_end_date")
        timing = f.get(f"{therapy}_timing")
        if start and end and start < end and timing not in ("pre_and_post", "intraoperative"):
            options.append(therapy)  # swapping keeps both dates on the same side of surgery
    if not options:
        return False
    match choice := rng.choice(options):
        case "age":
            earliest, latest = partial_date_bounds(f["birth_date"])
            youngest = _years(latest, f["diagnosis_date"])
            oldest = _years(earliest, f["diagnosis_date"])
            off = rng.randint(2, 6)
            young = youngest - off >= 0 and rng.random() < 0.5
            f["age_at_diagnosis"] = youngest - off if young else oldest + off
        case "death":
            f["date_of_death"] = f["date_of_last_contact"]
        case _:
            start, end = f"{choice}_start_date", f"{choice}_end_date"
            f[start], f[end] = f[end], f[start]
    return True


def _r15(f: Fields, rng: Random) -> bool:
    options = []
    if f.get("systemic_therapy_given") == "no":
        options.append("regimen")
    if f.get("surgery_performed") in ("yes", "no"):
        options.append("surgery_type")
    if f.get("vital_status") == "alive":
        options.append("status")
    neo = f.get("radiotherapy_timing") == "neoadjuvant"
    if neo and "radiotherapy_start_date" in f and "surgery_date" in f:
        options.append("timing")
    if not options:
        return False
    match rng.choice(options):
        case "regimen":
            f["systemic_regimen"] = "doxorubicin"
        case "surgery_type":
            done = f["surgery_performed"] == "yes"
            f["surgery_type"] = "none" if done else "wide_resection_limb_salvage"
        case "status":
            f["disease_status_last_followup"] = rng.choice(("DOD", "DOC", "DUC"))
        case _:  # an RT course before surgery, called adjuvant
            f["radiotherapy_timing"] = "adjuvant"
    return True


def _r17(f: Fields, rng: Random) -> bool:
    dose = f.get("radiotherapy_total_dose_gy")
    if dose is not None and rng.random() < 0.5:
        f["radiotherapy_total_dose_gy"] = dose * 100  # cGy
        return True
    size = f.get("tumour_size_cm", 5.0)
    f["tumour_size_cm"] = float(round(size * 10) if size * 10 > 60 else rng.randint(61, 300))
    f.pop("ajcc_t_category", None)  # a T that fits the real size would not fit the mm value
    return True


DEFECTS: dict[str, Mutation] = {
    "R01": _r01,
    "R02": _r02,
    "R03": _r03,
    "R04": _r04,
    "R05": _r05,
    "R06": _r06,
    "R07": _r07,
    "R08": _r08,
    "R09": _r09,
    "R10": _r10,
    "R11": _r11,
    "R12": _r12,
    "R13": _r13,
    "R14": _r14,
    "R15": _r15,
    "R17": _r17,
}
DEFECT_RULES: tuple[str, ...] = tuple(DEFECTS)  # R16 is info by default: nothing to break


def break_one_rule(f: Fields, rng: Random) -> str:
    """Break a rule drawn uniformly; when it does not apply, the next one that does."""
    start = rng.randrange(len(DEFECT_RULES))
    for k in range(len(DEFECT_RULES)):
        rule = DEFECT_RULES[(start + k) % len(DEFECT_RULES)]
        if DEFECTS[rule](f, rng):
            return rule
    raise AssertionError("R17 applies to every record")  # pragma: no cover
