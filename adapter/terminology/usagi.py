"""The Usagi side of the terminology loop (pure): write a worklist, import a reviewed export.

OHDSI Usagi imports a CSV of source codes with `sourceCode`, `sourceName` and
`sourceFrequency` (plus any `ADD_INFO:<name>` columns, which it carries into its export) and
exports the reviewed mappings with, per row, `sourceCode`, `sourceName`, `sourceFrequency`,
the `ADD_INFO:` columns, `matchScore`, `mappingStatus`, `equivalence`, `statusSetBy`,
`statusSetOn`, `conceptId`, `conceptName`, `domainId`, `mappingType`, `comment`, …

The worklist carries `ADD_INFO:sourceSystem` because one code (`unknown`, `right`) exists in
many MDS elements; the import needs it to find the map (for ICD-O-3 pairs such as
`9180/3-C40.2` it can do without). Only `APPROVED` rows are taken; every other status is
counted and reported. A taken row becomes a written (`both`) row of the map in the OMOP system,
replacing the code's `unmatched` row there if it has one, and the map's version gets a minor
bump (docs/terminology.md, "Editing and versioning maps"). A row whose concept is not in
vocab/CONCEPT.csv, not standard, or whose code is already mapped is refused with its reason,
so `terminology check` still passes after an import.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from adapter.mds.dictionary import terminology_dir
from adapter.terminology.maps import EQUIVALENCES, MAP_COLUMNS, TerminologyData, load
from adapter.terminology.worklist import ICDO3_CONDITION_SYSTEM, source_name

__all__ = [
    "OMOP_SYSTEM",
    "WORKLIST_COLUMNS",
    "ImportReport",
    "Reviewed",
    "UsagiExport",
    "WorklistEntry",
    "bump_minor",
    "import_reviewed",
    "read_export",
    "write_worklist",
]

OMOP_SYSTEM = "http://fhir.ohdsi.org/CodeSystem/concepts"
WORKLIST_COLUMNS = (
    "sourceCode", "sourceName", "sourceFrequency", "ADD_INFO:sourceSystem", "ADD_INFO:element",
    "ADD_INFO:map", "ADD_INFO:mapVersion", "ADD_INFO:firstSeen", "ADD_INFO:lastSeen",
    "ADD_INFO:examples",
)  # fmt: skip
_ICDO3_PAIR = "/"  # `8805/3-C49.2`: only a pair has a slash


@dataclass(frozen=True, slots=True)
class WorklistEntry:
    """One row of the unmapped-code worklist; `examples` are record pseudonyms (≤ 5)."""

    system: str
    code: str
    element: str
    map: str
    map_version: str
    count: int
    first_seen: str
    last_seen: str
    examples: tuple[str, ...] = ()


def write_worklist(
    entries: Iterable[WorklistEntry], out: IO[str], directory: Path | None = None
) -> int:
    """Write the Usagi import file, most frequent first; returns the number of rows."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(WORKLIST_COLUMNS)
    n = 0
    for e in sorted(entries, key=lambda e: (-e.count, e.system, e.code)):
        writer.writerow((e.code, source_name(e.system, e.code, directory), e.count, e.system,
                         e.element, e.map, e.map_version, e.first_seen, e.last_seen,
                         " ".join(e.examples)))  # fmt: skip
        n += 1
    return n


@dataclass(frozen=True, slots=True)
class Reviewed:
    """An APPROVED row of a Usagi export, as the import needs it."""

    line: int
    system: str
    code: str
    concept_id: int
    equivalence: str
    comment: str
    approved_by: str


@dataclass
class UsagiExport:
    """The approved rows, the count of rows per mapping status, and rows that cannot be read."""

    approved: list[Reviewed] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    unreadable: list[tuple[int, str]] = field(default_factory=list)


def read_export(path: Path) -> UsagiExport:
    """Read Usagi's mapping export (CSV, header row); only APPROVED rows are taken."""
    out = UsagiExport()
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        missing = {"sourceCode", "mappingStatus", "conceptId"} - set(reader.fieldnames or ())
        if missing:
            out.unreadable.append((1, f"not a Usagi export: missing columns {sorted(missing)}"))
            return out
        for r in reader:
            row = {k: (v or "").strip() for k, v in r.items() if k is not None}
            status = row["mappingStatus"].upper() or "UNCHECKED"
            out.statuses[status] += 1
            if status != "APPROVED":
                continue
            line, code = reader.line_num, row["sourceCode"]
            system = row.get("ADD_INFO:sourceSystem", "")
            if not system and _ICDO3_PAIR in code:
                system = ICDO3_CONDITION_SYSTEM
            if not system:
                out.unreadable.append((line, f"{code}: no ADD_INFO:sourceSystem"))
                continue
            if not row["conceptId"].isdigit() or int(row["conceptId"]) == 0:
                out.unreadable.append((line, f"{code}: conceptId {row['conceptId']!r}"))
                continue
            equivalence = row.get("equivalence", "").lower()
            if equivalence in ("", "unreviewed"):
                equivalence = "equivalent"  # APPROVED without a stated equivalence: the concept
            out.approved.append(Reviewed(line, system, code, int(row["conceptId"]),
                                         equivalence, row.get("comment", ""),
                                         row.get("statusSetBy", "")))  # fmt: skip
    return out


@dataclass
class ImportReport:
    """What an import did: rows added per map, refused rows, and the version bumps."""

    added: list[tuple[str, str, int]] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)
    versions: dict[str, tuple[str, str]] = field(default_factory=dict)


def bump_minor(version: str) -> str:
    """`1.0.0` → `1.1.0`: new rows are a minor change (docs/terminology.md)."""
    parts = [*version.split("."), "0", "0", "0"][:3]
    major, minor = parts[0], int(parts[1]) if parts[1].isdigit() else 0
    return f"{major}.{minor + 1}.0"


def _refusal(data: TerminologyData, r: Reviewed) -> str:
    concept = data.concepts.get(r.concept_id)
    if concept is None:
        return f"concept {r.concept_id} is not in vocab/CONCEPT.csv (add it first)"
    if concept.standard_concept != "S" or concept.invalid_reason:
        return f"concept {r.concept_id} is not a valid standard concept"
    if r.equivalence not in EQUIVALENCES or r.equivalence in ("unmatched", "disjoint"):
        return f"equivalence {r.equivalence!r} is not a match"
    for row in data.rows:
        if (row.source_system, row.source_code, row.target_system) == (
            r.system, r.code, OMOP_SYSTEM
        ) and row.matched and row.direction == "both":  # fmt: skip
            return f"{r.code} is already written as {row.target_code} ({row.location})"
    return ""


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _write(path: Path, columns: Iterable[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def import_reviewed(export: UsagiExport, directory: Path | None = None) -> ImportReport:
    """Add the approved rows to the maps of `directory` (default terminology/) and bump them."""
    root = directory or terminology_dir()
    data = load(root)
    by_system = {row.source_system: (row.map, row.file) for row in data.rows}
    report = ImportReport(refused=list(export.unreadable))
    new: dict[str, list[tuple[Reviewed, str]]] = {}
    taken: set[tuple[str, str]] = set()
    for r in export.approved:
        if r.system not in by_system:
            report.refused.append((r.line, f"{r.code}: no map has source system {r.system}"))
            continue
        why = _refusal(data, r) or (
            f"{r.code}: a second approved concept (one is written per code)"
            if (r.system, r.code) in taken else ""
        )  # fmt: skip
        if why:
            report.refused.append((r.line, why))
            continue
        taken.add((r.system, r.code))
        new.setdefault(by_system[r.system][1], []).append((r, by_system[r.system][0]))
    for file, items in sorted(new.items()):
        path = root / "maps" / file
        rows = _read(path)
        for r, map_name in items:
            concept = data.concepts[r.concept_id]
            note = f"Usagi review{' by ' + r.approved_by if r.approved_by else ''}"
            written = {
                "source_system": r.system, "source_code": r.code, "target_system": OMOP_SYSTEM,
                "target_code": str(r.concept_id), "target_display": concept.concept_name,
                "omop_concept_id": str(r.concept_id), "equivalence": r.equivalence,
                "direction": "both", "comment": f"{note}: {r.comment}" if r.comment else note,
            }  # fmt: skip
            at = next((i for i, old in enumerate(rows)
                       if (old["source_system"], old["source_code"], old["target_system"],
                           old["equivalence"]) == (r.system, r.code, OMOP_SYSTEM, "unmatched")),
                      None)  # fmt: skip
            if at is None:
                rows.append(written)
            else:
                rows[at] = written
            report.added.append((map_name, r.code, r.concept_id))
        _write(path, MAP_COLUMNS, rows)
    if new:
        manifest = root / "maps" / "manifest.csv"
        entries = _read(manifest)
        files = set(new)
        for m in entries:
            if m["file"] in files:
                bumped = bump_minor(m["version"])
                report.versions[m["map"]] = (m["version"], bumped)
                m["version"] = bumped
        _write(manifest, entries[0].keys(), entries)
    return report
