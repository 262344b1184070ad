"""Loading through the record store, on SQLite and PostgreSQL, with the fake mapping.

Re-loading changes no row; a changed record replaces exactly its own rows and keeps its ids;
a tombstone removes a record's rows; rejected input lands in the quarantine with its reasons
while the good records load.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from adapter.omop.schema import qualified_name
from adapter.stores.omop_db import init_db
from tests.db.helpers import dialect_of, rows
from tests.db.loading import count, dump, fake_load, projected, write_lines

N = 30


@pytest.fixture
def url(db_url: str) -> str:
    init_db(db_url)
    return db_url


def ids(url: str, table: str, record_id: str) -> list[int]:
    """The crosswalk ids of one record in one table."""
    adapter = "adapter." if dialect_of(url) == "postgresql" else "adapter_"
    return [
        r[0]
        for r in rows(
            url,
            f"SELECT c.id FROM {adapter}crosswalk c JOIN {adapter}records r "
            f"ON r.record_no = c.record_no WHERE r.record_id = '{record_id}' "
            f"AND c.table_name = '{table}' ORDER BY c.id",
        )
    ]


def test_first_load_writes_each_record_once(url: str, tmp_path: Path) -> None:
    records = projected(N)
    report = fake_load(url, write_lines(tmp_path / "in.jsonl", records))
    sized = sum(r.tumour_size_cm is not None for r in records)
    dead = sum(r.vital_status == "dead" and r.date_of_last_contact is not None for r in records)
    assert report.counts() == {"loaded": N, "updated": 0, "unchanged": 0, "deleted": 0,
                               "rejected": 0}  # fmt: skip
    assert report.rows == 4 * N + sized + dead
    assert {t: count(url, t) for t in ("person", "condition_occurrence", "episode",
                                       "episode_event", "measurement", "death")} == {
        "person": N, "condition_occurrence": N, "episode": N, "episode_event": N,
        "measurement": sized, "death": dead,
    }  # fmt: skip
    assert count(url, "records") == N
    assert count(url, "crosswalk") == 3 * N + sized
    assert sorted(r[0] for r in rows(url, f"SELECT person_id FROM {_q(url, 'person')}")) == list(
        range(1, N + 1)
    )
    assert count(url, "cdm_source") == 1


def test_second_identical_load_changes_no_row(url: str, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "in.jsonl", projected(N))
    fake_load(url, path)
    before = dump(url)
    raw_before = rows(url, f"SELECT * FROM {_q(url, 'cdm_source')}")
    report = fake_load(url, path)
    assert report.counts() == {"loaded": 0, "updated": 0, "unchanged": N, "deleted": 0,
                               "rejected": 0}  # fmt: skip
    assert report.rows == 0
    assert dump(url) == before
    assert rows(url, f"SELECT * FROM {_q(url, 'cdm_source')}") == raw_before
    runs = rows(url, f"SELECT details FROM {_q(url, 'runs', 'adapter')} ORDER BY run_id")
    assert [json.loads(r[0])["counts"]["unchanged"] for r in runs] == [0, N]


def test_changed_record_replaces_exactly_its_rows_and_keeps_its_ids(
    url: str, tmp_path: Path
) -> None:
    records = projected(N)
    sized = [i for i, r in enumerate(records) if r.tumour_size_cm is not None]
    fake_load(url, write_lines(tmp_path / "v1.jsonl", records))
    a, b = records[sized[0]], records[sized[1]]
    person, measurement = ids(url, "person", a.record_id), ids(url, "measurement", a.record_id)
    b_measurement = ids(url, "measurement", b.record_id)
    before = dump(url)
    records[sized[0]] = a.model_copy(update={"tumour_size_cm": 99.5})
    records[sized[1]] = b.model_copy(update={"tumour_size_cm": None})
    report = fake_load(url, write_lines(tmp_path / "v2.jsonl", records))
    assert (report.loaded, report.updated, report.unchanged) == (0, 2, N - 2)
    after = dump(url)
    assert ids(url, "person", a.record_id) == person
    assert ids(url, "measurement", a.record_id) == measurement
    values = rows(url, f"SELECT value_as_number FROM {_q(url, 'measurement')} "
                  f"WHERE measurement_id = {measurement[0]}")  # fmt: skip
    assert float(values[0][0]) == 99.5
    assert count(url, "measurement") == len(sized) - 1
    # Only the two records' measurement rows and their store rows differ.
    assert {t for t in before if before[t] != after[t]} == {"measurement", "records"}
    assert len(set(before["measurement"]) ^ set(after["measurement"])) == 3
    versions = rows(url, f"SELECT record_id, version FROM {_q(url, 'records', 'adapter')} "
                    "WHERE version > 1")  # fmt: skip
    assert sorted(versions) == sorted([(a.record_id, 2), (b.record_id, 2)])
    # The dropped measurement's id stays in the crosswalk: it comes back if the size does.
    records[sized[1]] = b
    fake_load(url, write_lines(tmp_path / "v3.jsonl", records))
    assert count(url, "measurement") == len(sized)
    b_rows = [m for m in before["measurement"] if m[0] == b_measurement[0]]
    assert [m for m in dump(url)["measurement"] if m[0] == b_measurement[0]] == b_rows


def test_tombstone_removes_the_records_rows_everywhere(url: str, tmp_path: Path) -> None:
    records = projected(N)
    victim = next(r for r in records if r.vital_status == "dead" and r.tumour_size_cm)
    path = write_lines(tmp_path / "in.jsonl", records)
    fake_load(url, path)
    person = ids(url, "person", victim.record_id)
    lines: list[Any] = [*records, {"record_id": victim.record_id, "_deleted": True}]
    report = fake_load(url, write_lines(tmp_path / "del.jsonl", lines))
    assert (report.deleted, report.unchanged, report.rejected) == (1, N, 0)
    for t, column in (("person", "person_id"), ("condition_occurrence", "person_id"),
                      ("measurement", "person_id"), ("episode", "person_id"),
                      ("death", "person_id")):  # fmt: skip
        assert count(url, t, f"WHERE {column} = {person[0]}") == 0, t
    assert count(url, "person") == N - 1 and count(url, "episode_event") == N - 1
    records_table = _q(url, "records", "adapter")
    stored = rows(url, f"SELECT version, content_hash, record_json, deleted FROM "
                  f"{records_table} WHERE record_id = '{victim.record_id}'")  # fmt: skip
    assert [(v, h, j, bool(d)) for v, h, j, d in stored] == [(2, None, None, True)]
    # A tombstone seen again deletes nothing; the record coming back gets its old ids.
    tomb = write_lines(tmp_path / "tomb.jsonl", [{"record_id": victim.record_id, "_deleted": True}])
    assert (fake_load(url, tomb).deleted, count(url, "person")) == (0, N - 1)
    again = fake_load(url, path)
    assert (again.loaded, again.updated) == (0, 1)
    assert ids(url, "person", victim.record_id) == person
    assert count(url, "person") == N


def test_delete_option_and_ambiguous_tombstones(url: str, tmp_path: Path) -> None:
    records = projected(4)
    twin = records[0].model_copy(update={"institution": "OTHER-SITE"})
    fake_load(url, write_lines(tmp_path / "in.jsonl", [*records, twin]))
    assert count(url, "person") == 5
    tomb = write_lines(tmp_path / "del.jsonl", [
        {"record_id": records[0].record_id, "_deleted": True},
        {"record_id": records[1].record_id, "_deleted": True},
        {"record_id": records[2].record_id, "_deleted": True, "note": "x"},
    ])  # fmt: skip
    report = fake_load(url, tomb)
    assert (report.deleted, report.rejected) == (1, 2)
    reasons = rows(url, f"SELECT location, record_id, findings FROM "
                   f"{_q(url, 'quarantine', 'adapter')} ORDER BY location")  # fmt: skip
    assert [(loc, rid, [f["code"] for f in orjson.loads(fs)]) for loc, rid, fs in reasons] == [
        ("line 1", records[0].record_id, ["store.ambiguous-delete"]),
        ("line 3", records[2].record_id, ["source.invalid-tombstone"]),
    ]
    message = orjson.loads(reasons[0][2])[0]["message"]
    assert message == (f"record {records[0].record_id} exists at "
                       f"{', '.join(sorted([records[0].institution or '', 'OTHER-SITE']))}: "
                       "name the institution")  # fmt: skip
    named = write_lines(tmp_path / "named.jsonl", [
        {"record_id": records[0].record_id, "institution": "OTHER-SITE", "_deleted": True},
    ])  # fmt: skip
    assert fake_load(url, named).deleted == 1
    assert count(url, "person") == 3


def test_rejected_input_is_quarantined_and_good_records_load(url: str, tmp_path: Path) -> None:
    records = projected(10)
    no_histology = records[3].model_copy(update={"histology_icdo3": None})
    lines: list[object] = [*records[:3], b"{not json", no_histology, *records[4:],
                           {"record_id": "X-1", "sex": "robot"}]  # fmt: skip
    path = write_lines(tmp_path / "in.jsonl", lines)  # type: ignore[arg-type]
    report = fake_load(url, path)
    assert (report.loaded, report.rejected) == (9, 3)
    found = rows(url, f"SELECT location, record_id, findings, raw FROM "
                 f"{_q(url, 'quarantine', 'adapter')} ORDER BY location")  # fmt: skip
    assert [(loc, rid, [f["code"] for f in orjson.loads(fs)]) for loc, rid, fs, _ in found] == [
        ("line 12", "X-1", ["mds.invalid-record"]),
        ("line 4", None, ["source.invalid-json"]),
        ("line 5", no_histology.record_id, ["omop.no-histology"]),
    ]
    assert found[1][3] == "{not json"
    before = dump(url)
    assert fake_load(url, path).rejected == 3
    assert dump(url) == before  # the quarantine does not grow on a re-load


def test_rejected_update_keeps_the_previous_version(url: str, tmp_path: Path) -> None:
    records = projected(5)
    fake_load(url, write_lines(tmp_path / "v1.jsonl", records))
    before = dump(url, skip=("quarantine",))
    records[2] = records[2].model_copy(update={"histology_icdo3": None})
    report = fake_load(url, write_lines(tmp_path / "v2.jsonl", records))
    assert (report.unchanged, report.rejected, report.updated) == (4, 1, 0)
    assert dump(url, skip=("quarantine",)) == before
    assert count(url, "quarantine") == 1


def _q(url: str, t: str, part: str = "cdm") -> str:
    return qualified_name(t, part, "postgresql" if dialect_of(url) == "postgresql" else "sqlite")  # type: ignore[arg-type]
