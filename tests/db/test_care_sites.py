"""One CARE_SITE per institution and one LOCATION per country, shared by their persons (issue 14).

OMOP wants a care site to be the institution (analysts count them, ATLAS groups by them); the
store writes each once, keeps it while some person points at it, drops it when none does, and
a record coming back gets the same care_site_id (its crosswalk entry stays).
"""

from __future__ import annotations

import json
from pathlib import Path

from adapter.mds.record import MdsRecord
from adapter.mds.synth import generate
from adapter.stores.incoming import read_incoming
from adapter.stores.load import LoadReport, load_records
from adapter.stores.omop_db import init_db
from adapter.stores.pseudonym import Pseudonymiser
from tests.db.helpers import dialect_of, rows
from tests.db.loading import KEY, write_lines

N = 300


def _record(fields: dict[str, str]) -> MdsRecord:
    return MdsRecord.model_validate_json(json.dumps(fields))


def _load(url: str, path: Path) -> LoadReport:
    with path.open("rb") as f:
        # minimal hand-made records: the eligibility rules are not what is tested here
        return load_records(url, read_incoming(f), pseudonym=Pseudonymiser(KEY), source="sites",
                            rules=None)  # fmt: skip


def _name(url: str, table: str) -> str:
    return f"cdm.{table}" if dialect_of(url) == "postgresql" else table


def _sites(url: str) -> list[tuple[int, str | None, int | None]]:
    return [(int(r[0]), r[1], r[2]) for r in rows(
        url, f"SELECT care_site_id, care_site_source_value, location_id "
             f"FROM {_name(url, 'care_site')} ORDER BY care_site_id")]  # fmt: skip


def test_one_care_site_per_institution_and_one_location_per_country(
    db_url: str, tmp_path: Path
) -> None:
    init_db(db_url)
    records = [r for r, _ in generate(N, 5)]
    assert _load(db_url, write_lines(tmp_path / "in.jsonl", records)).loaded == N
    institutions = {r.institution for r in records if r.institution is not None}
    country_of = {r.institution: r.institution_country for r in records
                  if r.institution is not None and r.institution_country is not None}  # fmt: skip
    sites = _sites(db_url)
    assert len(sites) == len(institutions) <= 13  # the generator's centres
    pseudonym = Pseudonymiser(KEY)
    assert sorted(s[1] for s in sites) == sorted(pseudonym(i) for i in institutions)
    places = rows(db_url, f"SELECT country_source_value FROM {_name(db_url, 'location')}")
    assert sorted(p[0] for p in places) == sorted(set(country_of.values()))
    # every person points at its institution's care site, and that at the institution's country
    linked = rows(db_url, f"SELECT c.care_site_source_value, l.country_source_value "
                  f"FROM {_name(db_url, 'person')} p LEFT JOIN {_name(db_url, 'care_site')} c "
                  f"ON c.care_site_id = p.care_site_id LEFT JOIN {_name(db_url, 'location')} l "
                  f"ON l.location_id = c.location_id")  # fmt: skip
    expected = [(pseudonym(r.institution), country_of.get(r.institution)) if r.institution
                else (None, None) for r in records]  # fmt: skip
    assert sorted(linked, key=str) == sorted(expected, key=str)


def test_a_care_site_goes_with_its_last_person_and_comes_back_with_the_same_id(
    db_url: str, tmp_path: Path
) -> None:
    init_db(db_url)
    base = {"diagnosis_date": "2024-03-11", "birth_date": "1961"}
    records = [
        _record({"record_id": f"A{i}", "institution": "OUS-RAD",
                                  "institution_country": "NO", **base}) for i in range(3)
    ] + [_record({"record_id": "B1", "institution": "RIZ",
                                   "institution_country": "IT", **base})]  # fmt: skip
    _load(db_url, write_lines(tmp_path / "in.jsonl", records))
    before = _sites(db_url)
    assert len(before) == 2
    # deleting two of OUS-RAD's three records keeps its care site; deleting RIZ's one drops it
    gone = [{"record_id": rid, "_deleted": True} for rid in ("A0", "A1", "B1")]
    assert _load(db_url, write_lines(tmp_path / "del.jsonl", gone)).deleted == 3
    pseudonym = Pseudonymiser(KEY)
    after = _sites(db_url)
    assert [s[1] for s in after] == [pseudonym("OUS-RAD")]
    assert rows(db_url, f"SELECT country_source_value FROM {_name(db_url, 'location')}") == [
        ("NO",)
    ]
    # RIZ comes back: same care_site_id and location_id as before
    _load(db_url, write_lines(tmp_path / "back.jsonl", records[3:]))
    assert _sites(db_url) == [s for s in before if s[1] in (pseudonym("OUS-RAD"), pseudonym("RIZ"))]
    # the last record of OUS-RAD moves to RIZ (a new record there, a tombstone here)
    moved = records[2].model_copy(update={"institution": "RIZ", "institution_country": "IT"})
    lines: list[object] = [moved, {"record_id": "A2", "institution": "OUS-RAD", "_deleted": True}]
    report = _load(db_url, write_lines(tmp_path / "moved.jsonl", lines))
    assert (report.loaded, report.deleted) == (1, 1)
    assert [s[1] for s in _sites(db_url)] == [pseudonym("RIZ")]
    assert rows(db_url, f"SELECT country_source_value FROM {_name(db_url, 'location')}") == [
        ("IT",)
    ]


def test_a_care_site_first_written_without_a_country_gets_the_first_one_given(
    db_url: str, tmp_path: Path
) -> None:
    init_db(db_url)
    base = {"diagnosis_date": "2024-03-11", "birth_date": "1961", "institution": "LUMC"}
    first = _record({"record_id": "L1", **base})
    _load(db_url, write_lines(tmp_path / "a.jsonl", [first]))
    assert [s[2] for s in _sites(db_url)] == [None]
    second = _record({"record_id": "L2", "institution_country": "NL", **base})
    _load(db_url, write_lines(tmp_path / "b.jsonl", [second]))
    [(_, _, place)] = _sites(db_url)
    assert rows(db_url, f"SELECT location_id, country_source_value "
                        f"FROM {_name(db_url, 'location')}") == [(place, "NL")]  # fmt: skip
