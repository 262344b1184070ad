"""The synthetic generator: deterministic, streaming, realistic, and labelled exactly.

The last two tests hold the generator to docs/rules.md through the rules module: clean records
raise no error or warning, and each defect raises exactly the rule it is labelled with.
"""

from __future__ import annotations

import statistics
from collections import Counter
from itertools import islice

import pytest

from adapter.errors import Level
from adapter.mds.dictionary import elements
from adapter.mds.knowledge import histologies, sites
from adapter.mds.record import MdsRecord
from adapter.mds.synth import DEFECT_RULES, generate
from adapter.mds.synth import tables as t

Sample = list[tuple[MdsRecord, str | None]]
# Elements a clean record must carry (R01, R03, R07); defects leave them out.
REQUIRED = {"record_id", "primary_site_icdo3", "histology_icdo3", "presentation_status"}
BONE = ("C40", "C41")


def _lines(n: int, seed: int, defects: float = 0.0) -> list[str]:
    return [
        f"{r.model_dump_json(exclude_none=True)} {rule}" for r, rule in generate(n, seed, defects)
    ]


@pytest.fixture(scope="module")
def sample() -> Sample:
    return list(generate(2000, 11, defects=0.2))


@pytest.fixture(scope="module")
def clean() -> list[MdsRecord]:
    return [r for r, _ in generate(4000, 12)]


def test_same_seed_same_records() -> None:
    assert _lines(300, 5, 0.2) == _lines(300, 5, 0.2)


def test_different_seed_different_records() -> None:
    a, b = _lines(100, 5), _lines(100, 6)
    assert sum(x != y for x, y in zip(a, b, strict=True)) > 95


def test_prefix_does_not_depend_on_n() -> None:
    assert _lines(50, 3, 0.3) == _lines(200, 3, 0.3)[:50]


def test_streams_without_materialising() -> None:
    first = list(islice(generate(10**12, 1), 3))
    assert [r.record_id[:10] for r, _ in first] == ["SYN-000001", "SYN-000002", "SYN-000003"]


@pytest.mark.parametrize(
    ("n", "share"), [(1000, 0.2), (999, 0.1), (7, 0.5), (33, 1 / 3), (50, 0.0)]
)
def test_defect_count_is_round_half_up(n: int, share: float) -> None:
    labels = [rule for _, rule in generate(n, 9, share)]
    assert sum(rule is not None for rule in labels) == int(n * share + 0.5 + 1e-9)


def test_every_record_defective_at_one() -> None:
    assert all(rule is not None for _, rule in generate(200, 4, 1.0))


def test_defects_change_only_the_defective_records() -> None:
    pairs = zip(generate(400, 2), generate(400, 2, 0.3), strict=True)
    for (plain, _), (maybe_broken, rule) in pairs:
        assert (plain == maybe_broken) == (rule is None)


@pytest.mark.parametrize(("n", "defects"), [(-1, 0.0), (10, -0.1), (10, 1.5)])
def test_rejects_bad_arguments(n: int, defects: float) -> None:
    with pytest.raises(ValueError):
        next(generate(n, 1, defects))


def test_record_ids_unique(sample: Sample) -> None:
    ids = [r.record_id for r, _ in sample]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == len("SYN-000001-ABCD") and i.startswith("SYN-") for i in ids)


def test_records_round_trip(sample: Sample) -> None:
    for record, _ in sample:
        assert MdsRecord.model_validate_json(record.model_dump_json(exclude_none=True)) == record


def test_every_element_present_and_absent(sample: Sample, clean: list[MdsRecord]) -> None:
    def seen(records: list[MdsRecord], name: str) -> tuple[bool, bool]:
        values = [getattr(r, name) for r in records]
        return any(v is not None for v in values), any(v is None for v in values)

    everything = [r for r, _ in sample]
    for e in elements():
        if e.name == "record_id":
            continue
        present, absent = seen(clean, e.name)
        assert present, e.name
        assert absent or e.name in REQUIRED, e.name
        assert seen(everything, e.name) == (True, True), e.name


def test_every_rule_has_defects(sample: Sample) -> None:
    counts = Counter(rule for _, rule in sample if rule is not None)
    assert set(counts) == set(DEFECT_RULES)
    assert "R16" not in DEFECT_RULES
    assert min(counts.values()) >= 10


def test_tables_use_codes_the_terminology_knows() -> None:
    for table, kind in ((t.STS_SITES, "soft_tissue"), (t.BONE_SITES, "bone")):
        for code in table.values:
            assert sites()[code].scope == "core" and sites()[code].tissue == kind
    for profiles, kind in ((t.STS_HISTOLOGY, "soft_tissue"), (t.BONE_HISTOLOGY, "bone")):
        for p in profiles:
            h = histologies()[p.code]
            assert h.cls == "sarcoma" and h.tissue in (kind, "both"), p.code


def test_clean_records_are_realistic(clean: list[MdsRecord]) -> None:
    bone = [r for r in clean if (r.primary_site_icdo3 or "")[:3] in BONE]
    sts = [r for r in clean if (r.primary_site_icdo3 or "")[:3] not in BONE]
    assert 0.2 <= len(bone) / len(clean) <= 0.4
    assert {r.primary_site_icdo3 for r in clean} <= {
        c for c, s in sites().items() if s.scope == "core"
    }
    assert all(histologies()[r.histology_icdo3 or ""].cls == "sarcoma" for r in clean)
    assert Counter(r.primary_site_icdo3 for r in sts).most_common(1)[0][0] == "C49.2"
    assert Counter(r.primary_site_icdo3 for r in bone).most_common(1)[0][0] == "C40.2"
    assert 6 <= statistics.median(r.tumour_size_cm for r in sts if r.tumour_size_cm) <= 10
    assert all(r.tumour_size_cm is None or 0.5 <= r.tumour_size_cm <= 40 for r in clean)
    deep = Counter(r.tumour_depth for r in sts)
    assert 0.6 <= deep["deep"] / len(sts) <= 0.8
    assert all(r.tumour_depth in (None, "not_applicable") for r in bone)
    distant = sum(r.metastasis_at_diagnosis == "distant" for r in clean) / len(clean)
    assert 0.08 <= distant <= 0.22
    unplanned = sum(r.presentation_status == "primary_after_unplanned_excision" for r in sts)
    assert 0.08 <= unplanned / len(sts) <= 0.2
    assert sum(r.surgery_performed == "yes" for r in clean) / len(clean) >= 0.75
    assert sum(r.radiotherapy_given == "yes" for r in sts) / len(sts) >= 0.5
    assert sum(r.radiotherapy_given == "yes" for r in bone) / len(bone) <= 0.3
    assert sum(r.diagnostic_confirmation == "histology" for r in clean) / len(clean) >= 0.8


def test_ages_follow_histology(clean: list[MdsRecord]) -> None:
    def median_year_gap(code: str) -> float:
        gaps = [
            r.diagnosis_date.year - int(r.birth_date[:4])
            for r in clean
            if r.histology_icdo3 == code and r.birth_date and r.diagnosis_date
        ]
        return statistics.median(gaps)

    assert median_year_gap("9364/3") < 25  # Ewing sarcoma
    assert median_year_gap("9180/3") < 25  # osteosarcoma
    assert median_year_gap("9220/3") > 40  # chondrosarcoma
    assert median_year_gap("8802/3") > 50  # undifferentiated pleomorphic sarcoma


def test_treatment_dates_are_coherent(clean: list[MdsRecord]) -> None:
    timed = 0
    for r in clean:
        op, rt, sys = r.surgery_date, r.radiotherapy_start_date, r.systemic_therapy_start_date
        if op and rt and r.radiotherapy_timing in ("neoadjuvant", "pre_and_post"):
            assert rt < op
            timed += 1
        if op and rt and r.radiotherapy_timing == "adjuvant":
            assert rt > op
        if op and sys and r.systemic_therapy_timing in ("neoadjuvant", "pre_and_post"):
            assert sys < op
        if r.vital_status == "dead" and r.date_of_death and r.date_of_last_contact:
            assert r.date_of_death == r.date_of_last_contact
        if r.date_of_death:
            assert r.vital_status == "dead"
        if r.radiotherapy_total_dose_gy:
            assert r.radiotherapy_total_dose_gy <= 80
        if r.percent_necrosis_post_neoadjuvant is not None:
            assert r.primary_site_icdo3 and r.primary_site_icdo3[:3] in BONE
    assert timed > 100


def _problems(records: Sample) -> set[tuple[str, str]]:
    rules = pytest.importorskip("adapter.mds.rules")
    return {
        (r.record_id, f.rule)
        for r, _ in records
        for f in rules.check_record(r, rules.RuleConfig())
        if f.level in (Level.ERROR, Level.WARNING) and f.rule is not None
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_clean_records_pass_every_rule(seed: int) -> None:
    assert sorted(_problems(list(generate(3000, seed))))[:5] == []


@pytest.mark.parametrize("seed", [1, 7])
def test_defect_labels_match_rule_findings(seed: int) -> None:
    records = list(generate(3000, seed, defects=0.2))
    labels = {(r.record_id, rule) for r, rule in records if rule is not None}
    found = _problems(records)
    assert sorted(found - labels)[:5] == []
    assert sorted(labels - found)[:5] == []
