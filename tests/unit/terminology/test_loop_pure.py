"""ConceptMaps vs the CSVs (drift), unmapped codes of a record, the Usagi worklist and import."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

from adapter.errors import Finding, Level
from adapter.mds.dictionary import elements, terminology_dir
from adapter.mds.synth import generate
from adapter.terminology import Terminology, check, load
from adapter.terminology.fhir_resources import concept_maps, fhir_dir, render
from adapter.terminology.usagi import (
    WorklistEntry,
    bump_minor,
    import_reviewed,
    read_export,
    write_worklist,
)
from adapter.terminology.worklist import ICDO3_CONDITION_SYSTEM, UnmappedCode, unmapped_codes

LAT = "https://w3id.org/sarcoma-mds/fhir/CodeSystem/laterality"


def test_concept_maps_have_not_drifted_from_the_maps() -> None:
    expected = {f"ConceptMap-{r['id']}.json": render(r) for r in concept_maps()}
    found = {p.name: p.read_text("utf-8") for p in fhir_dir().glob("ConceptMap-*.json")}
    assert sorted(found) == sorted(expected), "run `mds-adapter terminology fhir`"
    stale = [name for name in expected if found[name] != expected[name]]
    assert stale == [], "run `mds-adapter terminology fhir`"


def test_concept_map_shape() -> None:
    maps = {m["id"]: m for m in concept_maps()}
    assert len(maps) == 30
    margin = maps["surgical-margin-r"]
    assert margin["version"] == "1.0.0"
    group = next(g for g in margin["group"]
                 if g["target"] == "http://fhir.ohdsi.org/CodeSystem/concepts")  # fmt: skip
    r0 = next(e for e in group["element"] if e["code"] == "R0")
    assert [(t["code"], t["equivalence"], "extension" in t) for t in r0["target"]] == [
        ("1634643", "equivalent", False), ("4121182", "equivalent", True)
    ]  # fmt: skip
    unmatched = [t for m in maps.values() for g in m["group"] for e in g["element"]
                 for t in e["target"] if t["equivalence"] == "unmatched"]  # fmt: skip
    assert unmatched and all("code" not in t for t in unmatched)
    json.dumps(maps)  # serialisable


def _bare_record() -> object:
    record, _ = next(iter(generate(1, 3)))
    coded = {e.name: None for e in elements() if e.type in ("code", "code_list")}
    return record.model_copy(
        update={
            **coded,
            "sex": "male",
            "laterality": "right",
            "histology_icdo3": "9180/3",
            "primary_site_icdo3": "C40.2",
        }
    )


def test_unmapped_codes_of_a_record() -> None:
    t = Terminology.load()
    record = _bare_record()
    finding = Finding("omop.unmapped-code", Level.WARNING, "x", "r",
                      ("histology_icdo3", "primary_site_icdo3"), ("9180/3", "C40.2"))  # fmt: skip
    got = unmapped_codes(record, [finding], t)  # type: ignore[arg-type]
    # laterality "right" is declared unmatched for OMOP (no OHDSI laterality concept): a
    # decision kept in the map, not a gap, so no worklist item (issue 18 item 3)
    assert t.wont_map(LAT, "right")
    assert got == [
        UnmappedCode(ICDO3_CONDITION_SYSTEM, "9180/3-C40.2",
                     "histology_icdo3+primary_site_icdo3", "icdo3-condition", "1.0.0"),
    ]  # fmt: skip
    # without the finding the pair is not reported (the store may have resolved it)
    assert unmapped_codes(record, [], t) == []  # type: ignore[arg-type]


def test_worklist_csv_is_a_usagi_import_file() -> None:
    entries = [
        WorklistEntry(LAT, "right", "laterality", "laterality", "1.0.0", 2, "a", "b", ("p1",)),
        WorklistEntry(ICDO3_CONDITION_SYSTEM, "9180/3-C40.2", "histology_icdo3+primary_site_icdo3",
                      "icdo3-condition", "1.0.0", 3, "t1", "t2", ("p2", "p3")),
    ]  # fmt: skip
    out = io.StringIO()
    assert write_worklist(entries, out) == 2
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("sourceCode,sourceName,sourceFrequency,ADD_INFO:sourceSystem,")
    assert lines[1] == (
        "9180/3-C40.2,Osteosarcoma of Long bones of lower limb and associated joints,3,"
        f"{ICDO3_CONDITION_SYSTEM},histology_icdo3+primary_site_icdo3,icdo3-condition,1.0.0,"
        "t1,t2,p2 p3"
    )
    assert lines[2] == f"right,laterality: right,2,{LAT},laterality,laterality,1.0.0,a,b,p1"


def test_import_takes_approved_rows_only(tmp_path: Path) -> None:
    root = tmp_path / "terminology"
    shutil.copytree(terminology_dir(), root, ignore=shutil.ignore_patterns("fhir"))
    reviewed = tmp_path / "reviewed.csv"
    reviewed.write_text(
        "sourceCode,sourceName,sourceFrequency,ADD_INFO:sourceSystem,matchScore,mappingStatus,"
        "equivalence,statusSetBy,conceptId,conceptName,domainId,comment\n"
        # 36521572 is in the bundled subset (9180/3-C49.2); taken here only to exercise the import
        f"8805/3-C40.2,x,3,,0.5,APPROVED,WIDER,rev,36521572,x,Condition,test only\n"
        f"right,x,2,{LAT},0.5,FLAGGED,,rev,0,,,\n"
        "9180/3-C41.4,x,1,,0.5,APPROVED,,rev,999999999,x,Condition,\n"
        f"left,x,1,{LAT},0.5,,,,0,,,\n",
        "utf-8",
    )
    export = read_export(reviewed)
    assert export.statuses == {"APPROVED": 2, "FLAGGED": 1, "UNCHECKED": 1}
    report = import_reviewed(export, root)
    assert report.added == [("icdo3-condition", "8805/3-C40.2", 36521572)]
    assert report.refused == [(4, "concept 999999999 is not in vocab/CONCEPT.csv (add it first)")]
    assert report.versions == {"icdo3-condition": ("1.0.0", "1.1.0")}
    data = load(root)
    assert data.versions["icdo3-condition"] == "1.1.0"
    assert [f for f in check(data) if f.level is Level.ERROR] == []
    row = [r for r in data.rows if r.source_code == "8805/3-C40.2"]
    assert [(r.target_code, r.equivalence, r.direction, r.comment) for r in row] == [
        ("36521572", "wider", "both", "Usagi review by rev: test only")
    ]
    assert Terminology.load(root).condition_concept_id("8805/3", "C40.2") == 36521572
    # the shipped maps are untouched
    assert load().versions["icdo3-condition"] == "1.0.0"


def test_import_replaces_the_unmatched_row_of_an_mds_code(tmp_path: Path) -> None:
    root = tmp_path / "terminology"
    shutil.copytree(terminology_dir(), root, ignore=shutil.ignore_patterns("fhir"))
    concept = next(c for c in load().concepts.values()
                   if c.standard_concept == "S" and not c.invalid_reason
                   and c.vocabulary_id == "SNOMED")  # fmt: skip
    reviewed = tmp_path / "reviewed.csv"
    reviewed.write_text(
        "sourceCode,ADD_INFO:sourceSystem,mappingStatus,conceptId\n"
        f"midline,{LAT},APPROVED,{concept.concept_id}\n",
        "utf-8",
    )
    report = import_reviewed(read_export(reviewed), root)
    assert report.versions == {"laterality": ("1.0.0", "1.1.0")}
    rows = [r for r in load(root).rows if r.source_code == "midline"
            and r.target_system == "http://fhir.ohdsi.org/CodeSystem/concepts"]  # fmt: skip
    assert [(r.omop_concept_id, r.equivalence) for r in rows] == [
        (concept.concept_id, "equivalent")
    ]
    assert Terminology.load(root).omop_concept_id("laterality", "midline") == concept.concept_id


def test_bump_minor() -> None:
    assert [bump_minor(v) for v in ("1.0.0", "1.4.2", "2")] == ["1.1.0", "1.5.0", "2.1.0"]
