"""Clinical plausibility beyond the DQD: what a sarcoma registry's rows must never say.

The DQD is generic: it allows events up to 60 days after death (claims arrive late) and knows
nothing of oncology episodes. A registry record is one curated case, so these are strict:

- noEventAfterDeath: no dated row of a person after DEATH.death_date (same day allowed);
- radiotherapyTimingOrder / systemicTherapyTimingOrder: a course whose timing observation says
  neoadjuvant starts on or before the surgery; adjuvant, on or after it; pre_and_post (the MDS
  code for "both", peri-operative) starts on or before it and does not end before it. The
  dictionary has no "concomitant" code; intraoperative and definitive/no-surgery courses state
  no order to check against a surgery date;
- treatmentStartsInDisease / treatmentEndsInDisease: a treatment episode starts no earlier than
  its parent disease episode and, when both have an end, ends no later;
- careSiteSourceValueUnique / careSitePerInstitution: one CARE_SITE per institution: no two rows
  with the same (pseudonymised) care_site_source_value and, where the adapter's record store
  is in the database, no more rows than distinct institutions of live records.

Concept ids come from adapter/omop/conventions.csv (never typed here) and the timing codes from
the MDS dictionary, so a renamed code breaks import, not the meaning of a check.
"""

from __future__ import annotations

from adapter.mds.dictionary import element
from adapter.omop.mapping import read_conventions
from adapter.omop.schema import Dialect
from adapter.quality.dialect import Sql
from adapter.quality.model import Check
from adapter.quality.sql_common import count, literal, ratio

__all__ = [
    "AFTER_SURGERY",
    "BEFORE_SURGERY",
    "DATED",
    "SPANNING_SURGERY",
    "STORE_CHECKS",
    "clinical_checks",
]

DATED: tuple[tuple[str, str], ...] = (
    ("condition_occurrence", "condition_start_date"),
    ("condition_occurrence", "condition_end_date"),
    ("procedure_occurrence", "procedure_date"),
    ("procedure_occurrence", "procedure_end_date"),
    ("measurement", "measurement_date"),
    ("observation", "observation_date"),
    ("episode", "episode_start_date"),
    ("episode", "episode_end_date"),
    ("observation_period", "observation_period_end_date"),
    ("drug_exposure", "drug_exposure_start_date"),
    ("drug_exposure", "drug_exposure_end_date"),
    ("device_exposure", "device_exposure_start_date"),
    ("device_exposure", "device_exposure_end_date"),
)
"""The person's dated events that must not come after the death."""

BEFORE_SURGERY = "neoadjuvant"
AFTER_SURGERY = "adjuvant"
SPANNING_SURGERY = "pre_and_post"
_THERAPIES = (("radiotherapy", "radiotherapyTimingOrder"),
              ("systemic_therapy", "systemicTherapyTimingOrder"))  # fmt: skip
_TREATMENTS = ("surgery", "radiotherapy", "systemic_therapy")


def _timing_codes(therapy: str) -> tuple[str, ...]:
    """The timing codes with an order to check, verified against the MDS dictionary."""
    wanted = (BEFORE_SURGERY, AFTER_SURGERY, SPANNING_SURGERY)
    codes = element(f"{therapy}_timing").codes
    missing = [c for c in wanted if c not in codes]
    if missing:
        raise RuntimeError(f"{therapy}_timing has no code {missing} in the MDS dictionary")
    return wanted


def _after_death(s: Sql, table: str, field: str) -> Check:
    t = f"{s.table(table)} t JOIN {s.table('death')} d ON d.person_id = t.person_id"
    dated = f"{t} WHERE t.{field} IS NOT NULL"
    late = f"{s.date('t.' + field)} > {s.date('d.death_date')}"
    return Check(
        name="noEventAfterDeath",
        level="clinical",
        table=table,
        field=field,
        threshold=0.0,
        sql=ratio(count(f"{dated} AND {late}"), count(dated)),
        description="dates after the person's death_date",
    )


def _courses(s: Sql, episode_param: str) -> str:
    """(person_id, start, end) of the procedures inside episodes of one concept."""
    return (
        "SELECT po.person_id, po.procedure_date AS start_date, "
        "po.procedure_end_date AS end_date "
        f"FROM {s.table('procedure_occurrence')} po "
        f"JOIN {s.table('episode_event')} ee ON ee.event_id = po.procedure_occurrence_id "
        "AND ee.episode_event_field_concept_id = :procedure_field "
        f"JOIN {s.table('episode')} e ON e.episode_id = ee.episode_id "
        f"AND e.episode_concept_id = :{episode_param}"
    )


def _timing_order(s: Sql, ids: dict[str, int], therapy: str, name: str) -> Check:
    codes = _timing_codes(therapy)
    start, end, surgery = (s.date("j.start_date"), s.date("j.end_date"),
                           s.date("j.surgery_date"))  # fmt: skip
    wrong = (
        f"(j.timing = {literal(BEFORE_SURGERY)} AND {start} > {surgery}) "
        f"OR (j.timing = {literal(AFTER_SURGERY)} AND {start} < {surgery}) "
        f"OR (j.timing = {literal(SPANNING_SURGERY)} AND ({start} > {surgery} "
        f"OR (j.end_date IS NOT NULL AND {end} < {surgery})))"
    )
    sql = (
        f"WITH course AS ({_courses(s, 'course_episode')}), "
        f"surgery AS (SELECT person_id, MIN(start_date) AS surgery_date "
        f"FROM ({_courses(s, 'surgery_episode')}) sc GROUP BY person_id), "
        "timing AS (SELECT person_id, value_source_value AS timing "
        f"FROM {s.table('observation')} WHERE observation_concept_id = :timing_question), "
        "j AS (SELECT c.start_date, c.end_date, su.surgery_date, ti.timing FROM course c "
        "JOIN surgery su ON su.person_id = c.person_id "
        "JOIN timing ti ON ti.person_id = c.person_id "
        f"WHERE ti.timing IN ({', '.join(literal(c) for c in codes)})) "
        + ratio(count(f"j WHERE {wrong}"), count("j"))
    )
    return Check(
        name=name,
        level="clinical",
        table="procedure_occurrence",
        field="procedure_date",
        threshold=0.0,
        sql=sql,
        description=f"{therapy} courses dated against their timing "
        f"({', '.join(codes)}) and the surgery date",
        params=(
            ("procedure_field", ids["field.procedure_occurrence"]),
            ("course_episode", ids[f"episode.{therapy}"]),
            ("surgery_episode", ids["episode.surgery"]),
            ("timing_question", ids[f"question.{therapy}_timing"]),
        ),
    )


def _inside_disease(s: Sql, ids: dict[str, int], *, end: bool) -> Check:
    treatments = ", ".join(f":{key}" for key in _TREATMENTS)
    pairs = (
        f"{s.table('episode')} c JOIN {s.table('episode')} p ON p.episode_id = c.episode_parent_id "
        f"AND p.episode_concept_id = :disease WHERE c.episode_concept_id IN ({treatments})"
    )
    if end:
        pairs += " AND c.episode_end_date IS NOT NULL AND p.episode_end_date IS NOT NULL"
        wrong = f"{s.date('c.episode_end_date')} > {s.date('p.episode_end_date')}"
    else:
        wrong = f"{s.date('c.episode_start_date')} < {s.date('p.episode_start_date')}"
    return Check(
        name="treatmentEndsInDisease" if end else "treatmentStartsInDisease",
        level="clinical",
        table="episode",
        field="episode_end_date" if end else "episode_start_date",
        threshold=0.0,
        sql=ratio(count(f"{pairs} AND {wrong}"), count(pairs)),
        description="treatment episodes ending after their disease episode"
        if end
        else "treatment episodes starting before their disease episode",
        params=(
            ("disease", ids["episode.disease"]),
            *((key, ids[f"episode.{key}"]) for key in _TREATMENTS),
        ),
    )


def _care_site_unique(s: Sql) -> Check:
    sites = f"{s.table('care_site')} WHERE care_site_source_value IS NOT NULL"
    return Check(
        name="careSiteSourceValueUnique",
        level="clinical",
        table="care_site",
        field="care_site_source_value",
        threshold=0.0,
        sql=ratio(
            f"SELECT COUNT(*) - COUNT(DISTINCT care_site_source_value) FROM {sites}",
            count(sites),
        ),
        description="care_site rows beyond the first of each care_site_source_value",
    )


def _care_site_per_institution(s: Sql) -> Check:
    sites = count(s.table("care_site"))
    institutions = (
        f"SELECT COUNT(DISTINCT institution) FROM {s.adapter_table('records')} WHERE NOT deleted"
    )
    return Check(
        name="careSitePerInstitution",
        level="clinical",
        table="care_site",
        field=None,
        threshold=0.0,
        sql=(
            "SELECT CASE WHEN n.sites > n.institutions THEN n.sites - n.institutions ELSE 0 END "
            "AS num_violated_rows, n.sites AS num_denominator_rows "
            f"FROM (SELECT ({sites}) AS sites, ({institutions}) AS institutions) n"
        ),
        description="care_site rows beyond the number of institutions in the record store",
    )


STORE_CHECKS = frozenset({"careSitePerInstitution"})
"""Checks that read the adapter's record store: not applicable to a CDM without one."""


def clinical_checks(dialect: Dialect) -> list[Check]:
    """The clinical checks for one dialect, concept ids from conventions.csv."""
    s, ids = Sql(dialect), read_conventions()
    return [
        *(_after_death(s, table, field) for table, field in DATED),
        *(_timing_order(s, ids, therapy, name) for therapy, name in _THERAPIES),
        _inside_disease(s, ids, end=False),
        _inside_disease(s, ids, end=True),
        _care_site_unique(s),
        _care_site_per_institution(s),
    ]
