"""A private copy of terminology/ that a test may break in exactly one place."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from adapter.mds.dictionary import terminology_dir

Edit = Callable[[str, Callable[[list[str]], list[str]]], Path]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "terminology"
    shutil.copytree(terminology_dir() / "maps", root / "maps")
    shutil.copytree(terminology_dir() / "vocab", root / "vocab")
    return root


@pytest.fixture
def edit(tree: Path) -> Edit:
    """edit("maps/sex.csv", lambda lines: ...) rewrites one file of the copy, line by line."""

    def run(relative: str, change: Callable[[list[str]], list[str]]) -> Path:
        path = tree / relative
        lines = path.read_text(encoding="utf-8").splitlines()
        path.write_text("\n".join(change(lines)) + "\n", encoding="utf-8")
        return tree

    return run
