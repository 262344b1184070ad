"""`db init --athena` takes Athena's zip, or the folder it unzips to at any depth (issue 18
item 4); the CDM_SOURCE then states the download's vocabulary version."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from adapter.errors import SourceError
from adapter.stores.athena_source import vocabulary_folder
from adapter.stores.omop_db import init_db, load_vocabulary


def _zip(folder: Path, archive: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(archive, "w") as z:
        for file in sorted(folder.iterdir()):
            z.write(file, f"{prefix}{file.name}")
    return archive


def test_a_zip_and_a_nested_folder_load_like_the_folder(
    db_url: str, athena_dir: Path, tmp_path: Path
) -> None:
    init_db(db_url)
    flat = load_vocabulary(db_url, athena_dir)
    nested = tmp_path / "releases" / "v5-2026-08"
    shutil.copytree(athena_dir, nested / "vocabulary_download_v5")
    assert load_vocabulary(db_url, tmp_path / "releases").counts == flat.counts
    for prefix in ("", "vocabulary_download_v5/"):
        archive = _zip(athena_dir, tmp_path / f"athena{len(prefix)}.zip", prefix)
        loaded = load_vocabulary(db_url, archive)
        assert (loaded.counts, loaded.vocabulary_version) == (flat.counts, flat.vocabulary_version)
    assert flat.vocabulary_version == "v5.0 31-AUG-26 TEST"


def _refused(path: Path, message: str) -> None:
    with pytest.raises(SourceError) as caught, vocabulary_folder(path):
        pass
    assert str(caught.value) == message


def test_ambiguous_and_unsafe_sources_are_refused(athena_dir: Path, tmp_path: Path) -> None:
    two = tmp_path / "two"
    shutil.copytree(athena_dir, two / "a")
    shutil.copytree(athena_dir, two / "b")
    _refused(two, f"{two}: several folders hold a CONCEPT.csv (a, b): name one")
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as z:
        z.writestr("../CONCEPT.csv", "concept_id\n")
    _refused(evil, f"{evil}: unsafe path in the zip: ../CONCEPT.csv")
