"""The terminology loop end to end, on SQLite and PostgreSQL (issue 7, items 4-5).

Input with unmapped codes → worklist → a reviewed Usagi export → import into a tmp copy of
terminology/ → remap: only the records using the approved code change, every row id stays.
The approved concept is a test fixture added to the tmp copy only (never to terminology/).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from adapter.errors import Level
from adapter.mds.dictionary import terminology_dir
from adapter.mds.synth import generate
from adapter.sources.jsonl import dumps
from adapter.stores.incoming import read_incoming
from adapter.stores.load import load_records
from adapter.stores.omop_db import connect, init_db
from adapter.stores.pseudonym import Pseudonymiser
from adapter.stores.remap import remap
from adapter.stores.worklist import read_worklist
from adapter.terminology import Terminology, check, load
from adapter.terminology.usagi import import_reviewed, read_export, write_worklist
from adapter.terminology.worklist import ICDO3_CONDITION_SYSTEM
from tests.db.helpers import rows
from tests.db.loading import KEY, dump

FIXTURE_CONCEPT = 2099999901  # TEST FIXTURE, not an Athena concept
FIXTURE_ROW = (
    f"{FIXTURE_CONCEPT}\tTEST FIXTURE Osteosarcoma, NOS, of long bones of lower limb\t"
    "Condition\tICDO3\tICDO Condition\tS\ttest-fixture\t19700101\t20991231\t"
)
# Unmapped ICD-O-3 pairs of synth records 0-23 (seed 11), record 1 set to 9180/3-C40.2.
EXPECTED_PAIRS = {
    "9180/3-C40.2": ["SYN-000002-", "SYN-000021-"],
    "9364/3-C40.2": ["SYN-000001-"], "9364/3-C41.4": ["SYN-000004-"],
    "9180/3-C40.0": ["SYN-000009-"], "9367/3-C49.2": ["SYN-000010-"],
    "9261/3-C40.2": ["SYN-000011-"], "9220/3-C40.0": ["SYN-000013-"],
    "8805/3-C47.5": ["SYN-000014-"], "9180/3-C41.4": ["SYN-000015-"],
    "8802/3-C49.2": ["SYN-000016-"], "9187/3-C41.4": ["SYN-000017-"],
    "9186/3-C40.2": ["SYN-000019-"],
}  # fmt: skip


@pytest.fixture
def tmp_terminology(tmp_path: Path) -> Path:
    root = tmp_path / "terminology"
    shutil.copytree(terminology_dir(), root, ignore=shutil.ignore_patterns("fhir"))
    with (root / "vocab" / "CONCEPT.csv").open("a", encoding="utf-8") as f:
        f.write(FIXTURE_ROW + "\n")
    with (root / "vocab" / "provenance.csv").open("a", encoding="utf-8") as f:
        f.write(f"{FIXTURE_CONCEPT},asserted,test fixture (tests/db/test_worklist_loop.py),\n")
    return root


def _reviewed(worklist_csv: str, path: Path) -> Path:
    """What a reviewer exports from Usagi: 9180/3-C40.2 approved, one flagged, rest unchecked."""
    columns = ["sourceCode", "sourceName", "sourceFrequency", "sourceAutoAssignedConceptIds",
               "ADD_INFO:sourceSystem", "matchScore", "mappingStatus", "equivalence",
               "statusSetBy", "statusSetOn", "conceptId", "conceptName", "domainId",
               "mappingType", "comment", "createdBy", "createdOn", "assignedReviewer"]  # fmt: skip
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, columns)
        writer.writeheader()
        for r in csv.DictReader(io.StringIO(worklist_csv)):
            if r["ADD_INFO:sourceSystem"] != ICDO3_CONDITION_SYSTEM:
                continue
            status = {"9180/3-C40.2": "APPROVED", "9364/3-C40.2": "FLAGGED"}.get(
                r["sourceCode"], "UNCHECKED"
            )
            writer.writerow({"sourceCode": r["sourceCode"], "sourceName": r["sourceName"],
                             "sourceFrequency": r["sourceFrequency"],
                             "ADD_INFO:sourceSystem": r["ADD_INFO:sourceSystem"],
                             "matchScore": "0.9", "mappingStatus": status,
                             "equivalence": "EQUIVALENT", "statusSetBy": "reviewer",
                             "conceptId": str(FIXTURE_CONCEPT) if status == "APPROVED" else "0",
                             "conceptName": "x", "domainId": "Condition",
                             "mappingType": "MAPS_TO"})  # fmt: skip
    return path


def test_worklist_import_remap_loop(db_url: str, tmp_terminology: Path, tmp_path: Path) -> None:
    records = [r for r, _ in generate(24, 11)]
    records[1] = records[1].model_copy(
        update={"histology_icdo3": "9180/3", "primary_site_icdo3": "C40.2"}
    )
    data = b"".join(dumps(r) + b"\n" for r in records)
    pseudonym = Pseudonymiser(KEY)
    before_t = Terminology.load(tmp_terminology)
    init_db(db_url)
    load_records(db_url, read_incoming(io.BytesIO(data)), pseudonym=pseudonym,
                 source="in.jsonl", terminology=before_t, rules=None, chunk_size=5)  # fmt: skip

    engine = connect(db_url)
    try:
        with engine.connect() as conn:
            entries = read_worklist(conn, before_t)
    finally:
        engine.dispose()
    ids = {r.record_id[:11]: r.record_id for r in records}
    pairs = {e.code: e for e in entries if e.system == ICDO3_CONDITION_SYSTEM}
    assert sorted(pairs) == sorted(EXPECTED_PAIRS)
    for code, prefixes in EXPECTED_PAIRS.items():
        e = pairs[code]
        assert (e.count, e.map, e.map_version) == (len(prefixes), "icdo3-condition", "1.0.0")
        assert sorted(e.examples) == sorted(pseudonym(ids[p]) for p in prefixes)
    # codes the maps declare won't-map for OMOP (every laterality, "none", "alive", ...) are
    # decisions, not gaps: the worklist holds only the ICDO3 pairs the vocabulary lacks
    assert any(r.laterality for r in records)
    assert [e for e in entries if e.system != ICDO3_CONDITION_SYSTEM] == []

    # a second load of the same file counts nothing twice
    load_records(db_url, read_incoming(io.BytesIO(data)), pseudonym=pseudonym,
                 source="in.jsonl", terminology=before_t, rules=None)  # fmt: skip
    engine = connect(db_url)
    try:
        with engine.connect() as conn:
            assert read_worklist(conn, before_t) == entries
    finally:
        engine.dispose()

    out = io.StringIO()
    assert write_worklist(entries, out, tmp_terminology) == len(entries)
    export = read_export(_reviewed(out.getvalue(), tmp_path / "reviewed.csv"))
    assert export.statuses == {"APPROVED": 1, "FLAGGED": 1, "UNCHECKED": len(EXPECTED_PAIRS) - 2}
    report = import_reviewed(export, tmp_terminology)
    assert report.added == [("icdo3-condition", "9180/3-C40.2", FIXTURE_CONCEPT)]
    assert report.refused == []
    assert report.versions == {"icdo3-condition": ("1.0.0", "1.1.0")}
    assert [f for f in check(load(tmp_terminology)) if f.level is Level.ERROR] == []

    before = dump(db_url)
    after_t = Terminology.load(tmp_terminology)
    result = remap(db_url, pseudonym=pseudonym, terminology=after_t, rules=None)
    assert sorted(result.record_ids) == sorted(ids[p] for p in EXPECTED_PAIRS["9180/3-C40.2"])
    assert result.codes == [(ICDO3_CONDITION_SYSTEM, "9180/3-C40.2")]
    after = dump(db_url)

    # every row keeps its id; the only ids allocated are the CONDITION_ERA rows the two
    # conditions gain now that they have a standard concept (concept 0 gets no era)
    assert set(before["crosswalk"]) <= set(after["crosswalk"])
    gained = [e for e in after["crosswalk"] if e not in before["crosswalk"]]
    assert sorted(e[1:3] for e in gained) == [("condition_era", "primary")] * 2
    changed = {t for t in before if before[t] != after[t]}
    assert changed <= {"condition_occurrence", "condition_era", "episode", "records", "cdm_source",
                       "crosswalk", "id_sequence"}  # fmt: skip
    assert len(after["condition_era"]) == len(before["condition_era"]) + 2
    persons = {pseudonym(ids[p]) for p in EXPECTED_PAIRS["9180/3-C40.2"]}
    affected = {int(r[0]) for r in rows(db_url, _persons_sql(db_url, persons))}
    assert len(affected) == 2
    concept_col = 1  # condition_occurrence: (id, person_id, condition_concept_id, ...)
    for old, new in zip(before["condition_occurrence"], after["condition_occurrence"], strict=True):
        assert old[0] == new[0]
        if old[1] in affected:
            assert (old[concept_col + 1], new[concept_col + 1]) == (0, FIXTURE_CONCEPT)
        else:
            assert old == new
    runs = rows(db_url, _runs_sql(db_url))
    assert [r[0] for r in runs] == ["load", "load", "remap", "load"]
    details = json.loads(runs[2][1])
    assert details["load_run_id"] == 4 and details["records"] == 2
    assert details["old_maps"]["icdo3-condition"] == "1.0.0"
    assert details["new_maps"]["icdo3-condition"] == "1.1.0"
    assert details["changed_maps"] == {"icdo3-condition": ["1.0.0", "1.1.0"]}
    engine = connect(db_url)
    try:
        with engine.connect() as conn:
            left = {e.code for e in read_worklist(conn) if e.system == ICDO3_CONDITION_SYSTEM}
    finally:
        engine.dispose()
    assert left == set(EXPECTED_PAIRS) - {"9180/3-C40.2"}


def _persons_sql(url: str, pseudonyms: set[str]) -> str:
    person = "cdm.person" if url.startswith("postgresql") else "person"
    quoted = ", ".join(f"'{p}'" for p in sorted(pseudonyms))
    return f"SELECT person_id FROM {person} WHERE person_source_value IN ({quoted})"


def _runs_sql(url: str) -> str:
    runs = "adapter.runs" if url.startswith("postgresql") else "adapter_runs"
    return f"SELECT command, details FROM {runs} ORDER BY run_id"
