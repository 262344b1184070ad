"""R12 metastasis, M category and stage group say the same thing three times; they must agree."""

from __future__ import annotations

from collections.abc import Iterator

from adapter.errors import Finding, Level
from adapter.mds.record import MdsRecord
from adapter.mds.rules.base import Rule, RuleConfig, finding, show, tissue

__all__ = ["RULE", "check"]

STAGE_IV = ("IV", "IVA", "IVB")


def _m_vs_metastasis(r: MdsRecord) -> Iterator[Finding]:
    met, m = r.metastasis_at_diagnosis, r.ajcc_m_category
    if m is None or met in (None, "unknown"):
        return
    if (met == "distant") != m.startswith("M1"):
        yield finding(
            "R12",
            Level.ERROR,
            r,
            f"metastasis_at_diagnosis {met} does not fit ajcc_m_category {m}",
            metastasis_at_diagnosis=met,
            ajcc_m_category=m,
        )


def _sites_vs_metastasis(r: MdsRecord) -> Iterator[Finding]:
    met, where = r.metastasis_at_diagnosis, r.metastasis_sites_at_diagnosis
    if not where:
        return
    if met == "none" or (met == "regional_nodes_only" and set(where) - {"lymph_node_regional"}):
        yield finding(
            "R12",
            Level.ERROR,
            r,
            f"metastasis_sites_at_diagnosis {show(where)} does not fit "
            f"metastasis_at_diagnosis {met}",
            metastasis_sites_at_diagnosis=where,
            metastasis_at_diagnosis=met,
        )


def _stage(r: MdsRecord) -> Iterator[Finding]:
    stage, m, n, met = (
        r.ajcc_stage_group,
        r.ajcc_m_category,
        r.ajcc_n_category,
        r.metastasis_at_diagnosis,
    )
    if stage in (None, "unknown"):
        return
    iv = stage in STAGE_IV
    if m is not None:
        m1 = m.startswith("M1")
        if (m1 and not iv) or (iv and not m1 and n != "N1"):
            yield finding(
                "R12",
                Level.ERROR,
                r,
                f"ajcc_stage_group {stage} does not fit ajcc_m_category {m} and "
                f"ajcc_n_category {show(n)} (stage IV means M1, or N1)",
                ajcc_stage_group=stage,
                ajcc_m_category=m,
                ajcc_n_category=n,
            )
    elif (met == "distant" and not iv) or (met == "none" and iv and n != "N1"):
        yield finding(
            "R12",
            Level.ERROR,
            r,
            f"ajcc_stage_group {stage} does not fit metastasis_at_diagnosis {met}",
            ajcc_stage_group=stage,
            metastasis_at_diagnosis=met,
        )


def _bone_m1a_m1b(r: MdsRecord) -> Iterator[Finding]:
    m, stage, kind = r.ajcc_m_category, r.ajcc_stage_group, tissue(r)
    if m not in ("M1a", "M1b"):
        return
    if kind == "soft_tissue":
        yield finding(
            "R12",
            Level.ERROR,
            r,
            f"ajcc_m_category {m} is a bone category; soft-tissue sarcoma uses M0 or M1",
            ajcc_m_category=m,
            tissue_of_origin=kind,
        )
        return
    if kind != "bone":
        return
    if (m == "M1a" and stage == "IVB" and r.ajcc_n_category != "N1") or (
        m == "M1b" and stage == "IVA"
    ):
        yield finding(
            "R12",
            Level.ERROR,
            r,
            f"ajcc_stage_group {stage} does not fit ajcc_m_category {m} (bone: M1a is IVA "
            "unless N1, M1b is IVB)",
            ajcc_stage_group=stage,
            ajcc_m_category=m,
        )
    where = r.metastasis_sites_at_diagnosis
    if where and "unknown" not in where:
        lung_only = set(where) - {"lymph_node_regional"} == {"lung"}
        if lung_only != (m == "M1a"):
            yield finding(
                "R12",
                Level.ERROR,
                r,
                f"ajcc_m_category {m} does not fit metastasis_sites_at_diagnosis {show(where)} "
                "(bone: M1a is lung only, M1b other distant sites)",
                ajcc_m_category=m,
                metastasis_sites_at_diagnosis=where,
            )


def check(record: MdsRecord, config: RuleConfig) -> Iterator[Finding]:
    for part in (_m_vs_metastasis, _sites_vs_metastasis, _stage, _bone_m1a_m1b):
        yield from part(record)


RULE = Rule("R12", "metastasis, M and stage", "error", check)
