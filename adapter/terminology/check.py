"""`mds-adapter terminology check`: what can be wrong with the maps, as findings with stable codes.

Each check is a small generator over the loaded data, so a test can run one and assert a compact
projection of what it found. Codes (all `terminology.*`):

    bad-row               a row that could not be read (equivalence, direction, concept id, ...)
    unknown-system        a source or target system not declared in systems.csv
    unknown-concept       an OMOP concept id the concept subset (vocab/CONCEPT.csv) lacks
    non-standard-concept  a written OMOP target that is not standard, or is invalid
    conflicting-duplicate one source code written as two codes of one system, or one target read
                          back exactly as two source codes
    duplicate-row         the same mapping twice (warning)
    unmapped-mds-code     a closed MDS dictionary code with no row (not even `unmatched`)
    unknown-source-code   a row whose source code is not in the MDS dictionary
    unlisted-map          a map file that the manifest does not list, or a map without a version
    conflict-unresolved   a known conflict whose resolution the maps do not follow
    unverified-concept    (info) concept attributes not verified against Athena
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator

from adapter.errors import Finding, Level
from adapter.mds.dictionary import elements
from adapter.terminology.maps import Conflict, MapRow, TerminologyData, mds_system

__all__ = ["CHECKS", "check", "summary"]

# equivalences where every target code means the source code, so reading it back is exact
_EXACT_BACK = frozenset(("equal", "equivalent", "narrower", "specializes"))


def _finding(code: str, message: str, row: MapRow, level: Level = Level.ERROR) -> Finding:
    return Finding(
        code=f"terminology.{code}",
        level=level,
        message=message,
        elements=(row.map,),
        values=(row.source_code, row.target_code),
        location=row.location,
    )


def _bad_rows(data: TerminologyData) -> Iterator[Finding]:
    for p in data.problems:
        yield Finding(
            "terminology.bad-row", Level.ERROR, p.message, values=p.values, location=p.location
        )
    omop = {url for url, s in data.systems.items() if s.kind == "omop"}
    for row in data.rows:
        if not row.source_code:
            yield _finding("bad-row", "empty source_code", row)
        elif row.matched and not row.target_code:
            yield _finding("bad-row", f"{row.equivalence} row without a target_code", row)
        elif not row.matched and row.target_code:
            yield _finding("bad-row", "unmatched row with a target_code", row)
        elif row.target_system in omop and row.target_code != str(row.omop_concept_id or ""):
            yield _finding(
                "bad-row", f"target_code {row.target_code} differs from omop_concept_id", row
            )


def _systems(data: TerminologyData) -> Iterator[Finding]:
    for row in data.rows:
        for url in (row.source_system, row.target_system):
            if url not in data.systems:
                yield _finding("unknown-system", f"system {url} is not in systems.csv", row)


def _concepts(data: TerminologyData) -> Iterator[Finding]:
    for row in data.rows:
        cid = row.omop_concept_id
        if cid is None:
            continue
        concept = data.concepts.get(cid)
        if concept is None:
            yield _finding("unknown-concept", f"concept {cid} is not in vocab/CONCEPT.csv", row)
        elif row.direction == "both" and (
            concept.standard_concept != "S" or concept.invalid_reason
        ):
            state = (
                f"invalid ({concept.invalid_reason})" if concept.invalid_reason else "not standard"
            )
            yield _finding(
                "non-standard-concept",
                f"concept {cid} {concept.concept_name!r} is {state}; OMOP needs a standard one",
                row,
            )


def _duplicates(data: TerminologyData) -> Iterator[Finding]:
    seen: dict[tuple[str, ...], MapRow] = {}
    written: dict[tuple[str, str, str, str], MapRow] = {}
    back: dict[tuple[str, str, str], list[MapRow]] = defaultdict(list)
    for row in data.rows:
        key = (row.map, row.source_system, row.source_code, row.target_system, row.target_code)
        if key in seen:
            yield _finding(
                "duplicate-row", f"same mapping as line {seen[key].line}", row, Level.WARNING
            )
            continue
        seen[key] = row
        if row.direction == "both" and row.matched:
            wkey = (row.map, row.source_system, row.source_code, row.target_system)
            first = written.setdefault(wkey, row)
            if first is not row:
                yield _finding(
                    "conflicting-duplicate",
                    f"{row.source_code} is written as {first.target_code} (line {first.line}) "
                    f"and as {row.target_code} in {row.target_system}",
                    row,
                )
        if row.equivalence in _EXACT_BACK:
            back[(row.map, row.target_system, row.target_code)].append(row)
    for rows in back.values():
        sources = {r.source_code for r in rows}
        if len(sources) > 1:
            yield _finding(
                "conflicting-duplicate",
                f"{rows[0].target_code} reads back exactly as {sorted(sources)}",
                rows[-1],
            )


def _dictionary(data: TerminologyData) -> Iterator[Finding]:
    mapped: dict[str, set[str]] = defaultdict(set)
    for row in data.rows:
        mapped[row.source_system].add(row.source_code)
    by_system = {
        mds_system(e.name): e
        for e in elements()
        if e.type in ("code", "code_list") and not e.is_open_code
    }
    for url, element in by_system.items():
        for code in element.codes:
            if code not in mapped[url]:
                yield Finding(
                    "terminology.unmapped-mds-code",
                    Level.ERROR,
                    f"{element.name} = {code} has no map row (add one, or an unmatched row)",
                    elements=(element.name,),
                    values=(code,),
                    location=f"terminology/maps/{element.name.replace('_', '-')}.csv",
                )
    for row in data.rows:
        owner = by_system.get(row.source_system)
        if owner is not None and row.source_code not in owner.codes:
            yield _finding(
                "unknown-source-code",
                f"{row.source_code} is not a code of {owner.name} in the MDS dictionary",
                row,
            )


def _manifest(data: TerminologyData) -> Iterator[Finding]:
    listed = {m.file for m in data.maps}
    for name in data.map_files:
        if name not in listed:
            yield Finding(
                "terminology.unlisted-map",
                Level.ERROR,
                f"{name} is not listed in manifest.csv: it would never be loaded",
                values=(name,),
                location="terminology/maps/manifest.csv",
            )
    for m in data.maps:
        if not m.version or not m.licence:
            yield Finding(
                "terminology.unlisted-map",
                Level.ERROR,
                f"map {m.name} has no version or licence",
                values=(m.name,),
                location="terminology/maps/manifest.csv",
            )


def _unresolved(c: Conflict, message: str, location: str = "") -> Finding:
    return Finding(
        "terminology.conflict-unresolved",
        Level.ERROR,
        f"{c.conflict}: {message}",
        elements=(c.map,) if c.map else (),
        values=(c.source_code,) if c.source_code else (),
        location=location or f"terminology/maps/conflicts.csv line {c.line}",
    )


def _conflicts(data: TerminologyData) -> Iterator[Finding]:
    by_map: dict[str, list[MapRow]] = defaultdict(list)
    for row in data.rows:
        by_map[row.map].append(row)
    omop = {url for url, s in data.systems.items() if s.kind == "omop"}
    for c in data.conflicts:
        if not c.resolution:
            yield _unresolved(c, "no resolution written down")
        if not c.map:
            continue
        rows = [
            r for r in by_map.get(c.map, []) if r.source_code == (c.source_code or r.source_code)
        ]
        if not rows:
            yield _unresolved(c, f"map {c.map} has no row for {c.source_code or 'any code'}")
            continue
        written = [r for r in rows if r.direction == "both" and r.matched]
        for r in written:
            if r.target_code in c.rejected_codes:
                yield _unresolved(
                    c, f"{r.source_code} is written as rejected {r.target_code}", r.location
                )
        if c.source_code and c.written_code:
            if not any(
                r.target_system == c.written_system and r.target_code == c.written_code
                for r in written
            ):
                yield _unresolved(c, f"{c.source_code} is not written as {c.written_code}")
        elif c.source_code and any(r.target_system in omop for r in written):
            yield _unresolved(c, f"{c.source_code} should be unmatched for OMOP")


def _unverified(data: TerminologyData) -> Iterator[Finding]:
    for concept in data.concepts.values():
        if concept.provenance == "asserted":
            yield Finding(
                "terminology.unverified-concept",
                Level.INFO,
                f"concept {concept.concept_id} {concept.concept_name!r}: attributes asserted, "
                "not verified against Athena",
                values=(concept.concept_id,),
                location="terminology/vocab/provenance.csv",
            )


CHECKS: tuple[Callable[[TerminologyData], Iterable[Finding]], ...] = (
    _bad_rows,
    _manifest,
    _systems,
    _concepts,
    _duplicates,
    _dictionary,
    _conflicts,
    _unverified,
)


def check(data: TerminologyData) -> Iterator[Finding]:
    """Every finding of every check, in check order."""
    for run in CHECKS:
        yield from run(data)


def summary(findings: Iterable[Finding]) -> dict[str, int]:
    """Counts per level, for the CLI's last line."""
    counts = {level.value: 0 for level in Level}
    for f in findings:
        counts[f.level.value] += 1
    return counts
