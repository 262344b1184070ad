"""The shipped maps: loadable, versioned, complete against the MDS dictionary, Athena layout."""

from __future__ import annotations

import csv

from adapter.mds.dictionary import elements, terminology_dir
from adapter.terminology.maps import CONCEPT_COLUMNS, MAP_COLUMNS, load, mds_system


def test_every_closed_dictionary_code_has_a_map_row() -> None:
    data = load()
    rows = {(r.source_system, r.source_code): r for r in data.rows}
    closed = [e for e in elements() if e.type in ("code", "code_list") and not e.is_open_code]
    assert len(closed) == 29
    for e in closed:
        for code in e.codes:
            row = rows.get((mds_system(e.name), code))
            assert row is not None, f"{e.name} = {code} has no row"
            if not row.matched:
                assert row.comment, f"{e.name} = {code}: unmatched row without a comment"


def test_manifest_lists_every_map_with_version_and_licence() -> None:
    data = load()
    assert {m.file for m in data.maps} == set(data.map_files)
    assert all(m.version and m.licence == "CC-BY-SA-4.0" for m in data.maps)
    assert data.versions["surgical-margin-r"] == "1.0.0"
    for path in (terminology_dir() / "maps").glob("*.csv"):
        if path.name not in ("manifest.csv", "systems.csv", "conflicts.csv"):
            with path.open(encoding="utf-8", newline="") as f:
                assert tuple(next(csv.reader(f))) == MAP_COLUMNS, path.name


def test_concept_subset_is_athena_layout_and_covers_every_map_concept() -> None:
    vocab = terminology_dir() / "vocab"
    header = (vocab / "CONCEPT.csv").read_text(encoding="utf-8").splitlines()[0]
    assert tuple(header.split("\t")) == CONCEPT_COLUMNS
    data = load()
    used = {r.omop_concept_id for r in data.rows if r.omop_concept_id is not None}
    assert used <= set(data.concepts)
    vocabularies = {c.vocabulary_id for c in data.concepts.values()}
    listed = {line.split("\t")[0] for line in (vocab / "VOCABULARY.csv").read_text().splitlines()}
    assert vocabularies <= listed
    domains = {line.split("\t")[0] for line in (vocab / "DOMAIN.csv").read_text().splitlines()}
    assert {c.domain_id for c in data.concepts.values()} <= domains
    classes = {
        line.split("\t")[0] for line in (vocab / "CONCEPT_CLASS.csv").read_text().splitlines()
    }
    assert {c.concept_class_id for c in data.concepts.values()} <= classes


def test_icdo3_condition_map_is_the_idea4rc_sarcoma_list_at_c40_c41_c47_c49() -> None:
    rows = [r for r in load().rows if r.map == "icdo3-condition"]
    assert len(rows) == 308
    assert {r.source_code.split("-")[1][:3] for r in rows} <= {"C40", "C41", "C47", "C49"}
    assert all(r.target_code == str(r.omop_concept_id) for r in rows)


def test_custom_concepts_are_shipped_standard_with_provenance() -> None:
    ned = load().concepts[2000100071]
    assert (ned.vocabulary_id, ned.standard_concept, ned.concept_code) == (
        "IDEA4RC_vocab",
        "S",
        "IDEA71",
    )
    assert ned.provenance == "source-modified"
