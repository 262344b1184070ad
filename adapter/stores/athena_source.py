"""Where the Athena files are: the zip Athena sends, or the folder it unzips to, at any depth.

Athena delivers `vocabulary_download_v5_{...}.zip`; unzipping it may give the CSVs at the top
or one folder down, and maintainers keep several releases side by side. `db init --athena`
takes any of these: a zip is unpacked into a temporary folder (removed afterwards), and a
folder is searched for the one directory that holds CONCEPT.csv (names case-insensitive). Two
such directories are an error naming both, never a guess; none is left to the file check,
which names the files an Athena download must have.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from adapter.errors import SourceError

__all__ = ["vocabulary_folder"]

_MARKER = "concept.csv"


def _holders(root: Path) -> list[Path]:
    return sorted({p.parent for p in root.rglob("*") if p.is_file() and p.name.lower() == _MARKER})


def _one(root: Path, shown: Path) -> Path:
    found = _holders(root)
    if not found:
        return root  # the file check names what is missing (athena.find_files)
    if len(found) > 1:
        names = ", ".join(str(p.relative_to(root)) or "." for p in found)
        raise SourceError(f"{shown}: several folders hold a CONCEPT.csv ({names}): name one")
    return found[0]


def _unzip(archive: Path, into: Path) -> None:
    try:
        with zipfile.ZipFile(archive) as z:
            for member in z.infolist():
                parts = PurePosixPath(member.filename).parts
                if member.filename.startswith("/") or ".." in parts:
                    raise SourceError(f"{archive}: unsafe path in the zip: {member.filename}")
            z.extractall(into)
    except zipfile.BadZipFile as exc:
        raise SourceError(f"{archive}: not a readable zip file ({exc})") from exc


@contextmanager
def vocabulary_folder(path: Path) -> Iterator[Path]:
    """The folder of the Athena CSVs that `path` (a zip or a folder) holds."""
    if path.is_file() and zipfile.is_zipfile(path):
        with tempfile.TemporaryDirectory(prefix="athena-") as tmp:
            _unzip(path, Path(tmp))
            yield _one(Path(tmp), path)
        return
    if not path.is_dir():
        raise SourceError(f"{path}: neither a folder nor a zip of Athena vocabulary files")
    yield _one(path, path)
