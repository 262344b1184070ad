"""One clean synthetic record: a true case history first, then what a registry recorded of it.

The case (site, histology, grade, size, spread, treatment dates, outcome) is drawn first and
never contradicts itself; the record is what a registry would have written down of it, with
elements left out at realistic rates. Staging, dates and treatment details are all derived
from the same case, so a clean record passes every rule of docs/rules.md by construction and
a defect (defects.py) can break exactly one.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from random import Random
from typing import Any

from adapter.mds.dictionary import element
from adapter.mds.knowledge import Site, sites
from adapter.mds.synth import tables as t

__all__ = ["Fields", "clean_fields"]

Fields = dict[str, Any]

DX_FIRST = dt.date(2015, 1, 1).toordinal()
DX_LAST = dt.date(2025, 6, 30).toordinal()
CUTOFF = dt.date(2026, 9, 30)  # data freeze: follow-up ends here (or just after treatment)
EXTREMITIES = ("upper_extremity", "lower_extremity")
PRE_OP = ("neoadjuvant", "pre_and_post")
LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
# A multi-select has no order: write it in dictionary order, as forms (REDCap checkboxes) do.
SITE_ORDER = element("metastasis_sites_at_diagnosis").codes
_HISTOLOGY = {code: t.histology_table(code) for code in (*t.STS_SITES.values, *t.BONE_SITES.values)}


@dataclass(slots=True)
class _Case:
    """The truth behind one record; `f` collects what was recorded of it."""

    rng: Random
    site: Site
    profile: t.Profile
    dx: dt.date
    f: Fields = field(default_factory=dict)
    region: str = ""
    grade: int | None = None  # 1-3; 0 = not assessable (GX); None = not graded
    size: float = 0.0
    deep: bool = False
    unplanned: bool = False
    distant: tuple[str, ...] = ()
    regional: bool = False
    surgery: dt.date | None = None
    last_event: dt.date = dt.date.min

    @property
    def bone(self) -> bool:
        return self.site.tissue == "bone"

    @property
    def tissue(self) -> str:
        return self.site.tissue

    def days(self, low: int, high: int) -> dt.timedelta:
        return dt.timedelta(days=self.rng.randint(low, high))


def clean_fields(rng: Random, index: int) -> Fields:
    """The recorded elements of case `index`, as MdsRecord keyword arguments."""
    code = (t.BONE_SITES if rng.random() < t.BONE_FRACTION else t.STS_SITES).pick(rng)
    dx = dt.date.fromordinal(rng.randint(DX_FIRST, DX_LAST))
    c = _Case(rng, sites()[code], _HISTOLOGY[code].pick(rng), dx)
    c.f["record_id"] = f"SYN-{index + 1:06d}-{''.join(rng.choices(LETTERS, k=4))}"
    institution, country = t.INSTITUTIONS.pick(rng)
    _maybe(c, "institution", institution, 0.98)
    _maybe(c, "institution_country", country, 0.98)
    _tumour(c)
    _patient(c)
    _grade(c)
    _size_and_depth(c)
    _spread(c)
    if rng.random() < 0.6:
        _staging(c)
    _treatment(c)
    _confirmation(c)
    if rng.random() < 0.88:
        _follow_up(c)
    return c.f


def _maybe(c: _Case, name: str, value: Any, p: float) -> None:
    """Record `value` with probability p: registries leave out even core elements."""
    if value is not None and c.rng.random() < p:
        c.f[name] = value


def _tumour(c: _Case) -> None:
    rng, site = c.rng, c.site
    c.region = rng.choice(EXTREMITIES) if site.region == "extremity" else site.region
    c.f["primary_site_icdo3"] = site.code
    _maybe(c, "tissue_of_origin", site.tissue, 0.95)
    _maybe(c, "anatomic_region", c.region, 0.95)
    sacral = c.profile.code == "9370/3"
    side = (t.SACRAL_LATERALITY if sacral else t.LATERALITY[site.laterality]).pick(rng)
    _maybe(c, "laterality", side, 1.0)
    c.f["histology_icdo3"] = c.profile.code


def _patient(c: _Case) -> None:
    """Birth date in its partial forms, or the age instead (withheld birth date), or both."""
    rng, f = c.rng, c.f
    mean, sd = c.profile.age
    years = min(92.0, max(2.0, rng.gauss(mean, sd)))
    born = c.dx - dt.timedelta(days=int(years * 365.25) + rng.randint(0, 364))
    age = c.dx.year - born.year - ((c.dx.month, c.dx.day) < (born.month, born.day))
    kind = rng.random()
    if kind >= 0.10:
        form = rng.random()
        iso = born.isoformat()
        f["birth_date"] = iso[:4] if form < 0.6 else iso[:7] if form < 0.75 else iso
    if kind < 0.18:
        f["age_at_diagnosis"] = age
    _maybe(c, "sex", t.SEX.pick(rng), 1.0)


def _grade(c: _Case) -> None:
    rng, f, weights = c.rng, c.f, c.profile.grade
    system = t.GRADING_SYSTEMS[c.tissue].pick(rng)
    if weights is None:  # chordoma: not graded
        if rng.random() < 0.5:
            f["histologic_grade"] = "not_applicable"
            _maybe(c, "grading_system", "WHO_or_other", 0.7)
        return
    if rng.random() < 0.03:
        c.grade, grade = 0, "GX_unknown"
    else:
        c.grade = rng.choices((1, 2, 3), weights)[0]
        tiers = "low" if c.grade == 1 else "high"
        if system == "two_tier_low_high" or (system != "FNCLCC" and c.bone and rng.random() < 0.5):
            grade = tiers
        else:
            grade = f"G{c.grade}"
    _maybe(c, "histologic_grade", grade, 0.96)
    _maybe(c, "grading_system", system, 1.0)


def _size_and_depth(c: _Case) -> None:
    rng = c.rng
    if c.bone:
        median, sigma, low, high = 9.0, 0.45, 1.0, 35.0
        _maybe(c, "tumour_depth", "not_applicable", 0.45)
    else:
        c.deep = c.region == "pelvis" or rng.random() < 0.7
        median, sigma, low, high = (9.5, 0.55, 0.5, 40.0) if c.deep else (3.5, 0.6, 0.5, 25.0)
        depth = "deep" if c.deep else "superficial"
        c.f["tumour_depth"] = "unknown" if rng.random() < 0.04 else depth
    c.size = round(min(high, max(low, median * math.exp(rng.gauss(0.0, sigma)))), 1)
    _maybe(c, "tumour_size_cm", c.size, 0.95)
    c.unplanned = rng.random() < (0.02 if c.bone else 0.08 if c.deep else 0.25)
    c.f["presentation_status"] = (
        "primary_after_unplanned_excision" if c.unplanned else "primary_untreated"
    )


def _spread(c: _Case) -> None:
    """Metastasis at diagnosis; recorded as unknown or left out only when there was none."""
    rng, f, code = c.rng, c.f, c.profile.code
    p_distant = 0.22 if code in t.ROUND_CELL else 0.03 if c.grade == 1 else 0.13
    p_nodes = 0.06 if code in t.NODAL_HISTOLOGIES else 0.005 if c.bone else 0.015
    draw = rng.random()
    if draw < p_distant:
        c.distant = t.DISTANT_SITES.pick(rng)
        f["metastasis_at_diagnosis"] = "distant"
        if rng.random() < 0.75:
            f["metastasis_sites_at_diagnosis"] = (
                ["unknown"] if rng.random() < 0.03 else sorted(c.distant, key=SITE_ORDER.index)
            )
    elif draw < p_distant + p_nodes:
        c.regional = True
        f["metastasis_at_diagnosis"] = "regional_nodes_only"
        _maybe(c, "metastasis_sites_at_diagnosis", ["lymph_node_regional"], 0.6)
    else:
        left_out = rng.random()
        if left_out >= 0.04:
            f["metastasis_at_diagnosis"] = "none"
        elif left_out >= 0.025:
            f["metastasis_at_diagnosis"] = "unknown"


def _staging(c: _Case) -> None:
    """AJCC 8 T/N/M and stage group from the case (mds-notes 4.4), Enneking for some."""
    rng, f, g = c.rng, c.f, c.grade
    low = g in (0, 1)  # AJCC: G1 and GX stage as low grade
    pelvis = c.site.code == "C41.4"
    if c.bone and pelvis:  # segment-based T; the a/b suffix is the 8 cm cut-off
        seg = rng.choices(("T1", "T2", "T3", "T4"), (40, 30, 20, 10))[0]
        suffix = rng.choice("ab") if seg == "T4" else "a" if c.size <= 8 else "b"
        tcat = seg + suffix
    elif c.bone:
        tcat = "T3" if rng.random() < 0.03 else "T1" if c.size <= 8 else "T2"
    else:
        tcat = next(
            x for x, top in (("T1", 5), ("T2", 10), ("T3", 15), ("T4", 1e9)) if c.size <= top
        )
    if "tumour_size_cm" not in f and rng.random() < 0.3:
        tcat = "TX"
    n = "N1" if c.regional else "NX" if not c.bone and rng.random() < 0.03 else "N0"
    m = (
        "M0"
        if not c.distant
        else "M1"
        if not c.bone
        else "M1a"
        if c.distant == ("lung",)
        else "M1b"
    )
    stage: str | None = None
    if not c.bone and (n == "N1" or m == "M1"):
        stage = "IV"
    elif c.bone and (n == "N1" or m == "M1b"):
        stage = "IVB"
    elif c.bone and m == "M1a":
        stage = "IVA"
    elif g is not None and tcat != "TX" and not pelvis:  # AJCC has no pelvis stage groups
        base = tcat[:2]
        if c.bone:
            stage = {"T1": ("IA", "IIA"), "T2": ("IB", "IIB"), "T3": ("IB", "III")}[base][not low]
        else:
            stage = (
                ("IA" if base == "T1" else "IB")
                if low
                else {"T1": "II", "T2": "IIIA"}.get(base, "IIIB")
            )
    f["ajcc_n_category"] = n
    f["ajcc_m_category"] = m
    _maybe(c, "ajcc_t_category", tcat, 0.9)
    _maybe(c, "ajcc_stage_group", stage or ("unknown" if rng.random() < 0.3 else None), 0.85)
    if rng.random() < (0.35 if c.bone else 0.08):
        if c.distant or c.regional:
            enneking = "III"
        elif g in (None, 0):
            enneking = "unknown"
        else:
            extra = rng.random() < 0.75  # extracompartmental (T2)
            enneking = ("IA", "IB")[extra] if g == 1 else ("IIA", "IIB")[extra]
        f["enneking_stage"] = enneking


def _span(c: _Case, fractions: int) -> dt.timedelta:
    """Days from first to last fraction, five fractions a week."""
    done = fractions - 1
    return dt.timedelta(days=done // 5 * 7 + done % 5 + c.rng.randint(0, 3))


def _treatment(c: _Case) -> None:
    """First-course treatment, dated around the surgery so every timing code holds."""
    rng, p, dx = c.rng, c.profile, c.dx
    surgery = rng.random() < (0.6 if c.distant else 0.87 if c.bone else 0.9)
    p_rt = p.rt * (0.5 if c.grade == 1 else 1.0) * (1.0 if c.deep or c.bone else 0.6)
    rt = rng.random() < p_rt
    chemo = rng.random() < (max(p.chemo, 0.6) if c.distant and p.chemo else p.chemo)
    rt_timing = t.RT_TIMING[c.tissue].pick(rng) if surgery else "definitive_no_surgery"
    sys_timing = t.SYSTEMIC_TIMING[c.tissue].pick(rng) if surgery else "no_surgery"
    dose, fractions = t.RT_COURSES[rt_timing].pick(rng)
    sys_start = sys_end = rt_start = rt_end = op = None
    pre_ends = []
    if chemo and sys_timing != "adjuvant":
        sys_start = dx + c.days(7, 28)
        sys_end = sys_start + c.days(56, 84)
        pre_ends.append(sys_end)
    if rt and rt_timing in (*PRE_OP, "definitive_no_surgery"):
        rt_start = (sys_end + c.days(7, 14)) if sys_end else dx + c.days(14, 42)
        rt_end = rt_start + _span(c, fractions if rt_timing != "pre_and_post" else 25)
        pre_ends.append(rt_end)
    if surgery:
        op = max(pre_ends) + c.days(21, 42) if pre_ends else dx + c.days(10, 45)
        if c.unplanned and not pre_ends:
            op = dx + c.days(30, 90)
        c.surgery = op
        if chemo and sys_timing == "pre_and_post":
            sys_end = op + c.days(90, 200)
        elif chemo and sys_timing == "adjuvant":
            sys_start = op + c.days(21, 42)
            sys_end = sys_start + c.days(90, 180)
        if rt and rt_timing == "pre_and_post":
            rt_end = op + c.days(35, 56)
        elif rt and rt_timing == "adjuvant":
            rt_start = op + c.days(28, 56)
            rt_end = rt_start + _span(c, fractions)
        elif rt and rt_timing == "intraoperative":
            rt_start = rt_end = op
    elif chemo:
        sys_end = (sys_end or dx) + c.days(0, 100)
    c.last_event = max(d for d in (dx, op, rt_end, sys_end) if d is not None)
    _record_surgery(c, op, rt or chemo)
    _record_therapy(c, "radiotherapy", rt, rt_timing, rt_start, rt_end)
    if rt and "radiotherapy_timing" in c.f and rng.random() < 0.8:
        c.f["radiotherapy_total_dose_gy"] = dose
        c.f["radiotherapy_fractions"] = fractions
    _record_therapy(c, "systemic_therapy", chemo, sys_timing, sys_start, sys_end)
    if chemo:
        # Some centres write the regimen out in full; which ones is taken from the diagnosis
        # date, so the choice draws nothing from the random stream (same seed, same records).
        spelled = t.SPELLED_OUT.get(p.regimen or "") if dx.toordinal() % 8 == 0 else None
        _maybe(c, "systemic_regimen", spelled or p.regimen, 0.7)
    pre_op = c.f.get("systemic_therapy_timing") in PRE_OP  # R15: necrosis needs it recorded
    if c.bone and c.f.get("surgery_performed") == "yes" and pre_op:
        necrosis = float(round(rng.betavariate(4, 1.3) * 100))  # most respond, few completely
        _maybe(c, "percent_necrosis_post_neoadjuvant", necrosis, 0.7)


def _record_surgery(c: _Case, op: dt.date | None, treated: bool) -> None:
    rng, f = c.rng, c.f
    if op is None:  # left out only when no definitive therapy hangs on "no surgery"
        if treated or rng.random() < 0.9:
            f["surgery_performed"] = "no"
            _maybe(c, "surgery_type", "none", 0.25)
            _maybe(c, "surgical_margin_r", "not_applicable", 0.2)
        return
    left_out = rng.random()
    if left_out < 0.03:  # surgery done, but the registry did not say (details unrecordable)
        _maybe(c, "surgery_performed", "unknown", 0.4)
        return
    f["surgery_performed"] = "yes"
    _maybe(c, "surgery_date", op, 0.97)
    kind = t.SURGERY_TYPES[c.tissue, "pelvis" if c.region == "pelvis" else "limb"].pick(rng)
    if kind == "quarter":
        kind = "forequarter" if c.region == "upper_extremity" else "hindquarter"
    if kind == "local_excision" and not (c.grade == 1 or (not c.deep and not c.bone)):
        kind = "wide_resection_limb_salvage"
    _maybe(c, "surgery_type", kind, 0.97)
    margin = "R0" if kind != "local_excision" and rng.random() < 0.5 else t.MARGIN_R.pick(rng)
    _maybe(c, "surgical_margin_r", margin, 0.94)
    ablative = kind in ("amputation", "forequarter", "hindquarter", "hemipelvectomy")
    plane = "radical" if ablative and margin == "R0" else t.ENNEKING_MARGIN.get(margin, "unknown")
    _maybe(c, "surgical_margin_enneking", plane, 0.35)


Day = dt.date | None


def _record_therapy(c: _Case, name: str, given: bool, timing: str, start: Day, end: Day) -> None:
    rng, f = c.rng, c.f
    if not given:
        answer = rng.choices(("no", None, "unknown"), (88, 9, 3))[0]
        if answer == "no" and rng.random() < 0.15:
            f[f"{name}_timing"] = "none"
        _maybe(c, f"{name}_given", answer, 1.0)
        return
    f[f"{name}_given"] = "yes"
    _maybe(c, f"{name}_timing", timing, 0.96)
    if rng.random() < 0.8:
        f[f"{name}_start_date"] = start
        _maybe(c, f"{name}_end_date", end, 0.94)


def _confirmation(c: _Case) -> None:
    """How the diagnosis was made; without 'histology', a dated tissue procedure shows it (R06)."""
    rng, f = c.rng, c.f
    draw = rng.random()
    how = "histology" if draw < 0.85 else None if draw < 0.95 else "unknown"
    _maybe(c, "diagnostic_confirmation", how, 1.0)
    if c.unplanned:
        _maybe(c, "biopsy_type", "unplanned_excision", 0.75)
    else:
        _maybe(c, "biopsy_type", t.BIOPSY.pick(rng), 1.0)
    if how != "histology" or rng.random() < 0.97:
        f["diagnosis_date"] = c.dx
    if how == "histology":
        return
    biopsy = f.get("biopsy_type") not in (None, "unknown")
    resection = f.get("surgery_performed") == "yes" and "surgery_date" in f
    if not (biopsy or resection):
        f["biopsy_type"] = "core_needle"


def _follow_up(c: _Case) -> None:
    """Outcome at last contact, after every event; a death is dated at the last contact."""
    rng, f = c.rng, c.f
    risk = 0.55 if c.distant else 0.06 if c.grade == 1 else 0.22
    dead = rng.random() < risk
    room = max(30, (CUTOFF - c.last_event).days)
    last = c.last_event + dt.timedelta(
        days=max(14, int(room * rng.uniform(0.15 if dead else 0.5, 1)))
    )
    anchor = (c.surgery or c.dx) + dt.timedelta(days=60)
    window = (last - anchor).days
    local = c.surgery is not None and window > 30 and rng.random() < (0.3 if dead else 0.1)
    spread = (
        not c.distant
        and window > 30
        and rng.random() < (0.06 if c.grade == 1 else 0.2) + (0.4 * dead)
    )
    if c.surgery is not None:
        told = rng.choices(("yes" if local else "no", None, "unknown"), (82, 15, 3))[0]
        _maybe(c, "local_recurrence", told, 1.0)
        if told == "yes":
            _maybe(c, "local_recurrence_date", anchor + c.days(0, window), 0.85)
    if not c.distant:
        told = rng.choices(("yes" if spread else "no", None, "unknown"), (82, 15, 3))[0]
        _maybe(c, "distant_metastasis_after_diagnosis", told, 1.0)
        if told == "yes":
            _maybe(c, "distant_metastasis_date", anchor + c.days(0, window), 0.85)
    _maybe(c, "date_of_last_contact", last, 0.97)
    if rng.random() < 0.03:  # vital status not recorded: say nothing about death or disease
        return
    disease = bool(c.distant) or local or spread
    if dead:
        f["vital_status"] = "dead"
        _maybe(c, "date_of_death", last, 0.92)
        status = "DOD" if disease and rng.random() < 0.85 else rng.choice(("DOC", "DUC"))
    else:
        f["vital_status"] = "alive"
        status = "AWD" if disease and rng.random() < 0.7 else "NED"
        status = "lost_to_follow_up" if rng.random() < 0.04 else status
    _maybe(c, "disease_status_last_followup", status, 0.9)
