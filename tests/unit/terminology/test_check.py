"""`terminology check`: clean on the shipped maps; each defect found, naming file, row, code."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapter.errors import Level
from adapter.terminology import check, load
from tests.unit.terminology.conftest import Edit

MARGIN = "maps/surgical-margin-r.csv"


def errors(root: Path) -> list[tuple[str, str | None, tuple[object, ...]]]:
    return [(f.code, f.location, f.values) for f in check(load(root)) if f.level is not Level.INFO]


def test_shipped_maps_pass() -> None:
    assert [f for f in check(load()) if f.level is not Level.INFO] == []


def test_unverified_concepts_are_reported_as_info() -> None:
    info = [f for f in check(load()) if f.code == "terminology.unverified-concept"]
    assert info and all(f.level is Level.INFO for f in info)


def _replace(old: str, new: str, count: int = 1):  # type: ignore[no-untyped-def]
    def change(lines: list[str]) -> list[str]:
        text = "\n".join(lines)
        assert old in text
        return text.replace(old, new, count).split("\n")

    return change


def test_unknown_concept(edit: Edit) -> None:
    root = edit(MARGIN, _replace("1634643,R0: No residual tumor,1634643", "999999999,R0,999999999"))
    assert errors(root) == [
        (
            "terminology.unknown-concept",
            "terminology/maps/surgical-margin-r.csv line 2",
            ("R0", "999999999"),
        ),
        ("terminology.conflict-unresolved", "terminology/maps/conflicts.csv line 2", ("R0",)),
    ]


def test_non_standard_concept(edit: Edit) -> None:
    root = edit(
        "vocab/CONCEPT.csv",
        _replace(
            "1634643\tR0: No residual tumor\tMeasurement\tCancer Modifier\tMargin\tS",
            "1634643\tR0: No residual tumor\tMeasurement\tCancer Modifier\tMargin\t",
        ),
    )
    (found,) = errors(root)
    assert found == (
        "terminology.non-standard-concept",
        "terminology/maps/surgical-margin-r.csv line 2",
        ("R0", "1634643"),
    )


def test_conflicting_duplicate(edit: Edit) -> None:
    extra = (
        "https://w3id.org/sarcoma-mds/fhir/CodeSystem/surgical-margin-r,R0,"
        "http://fhir.ohdsi.org/CodeSystem/concepts,1633801,R1,1633801,equivalent,both,"
    )
    root = edit(MARGIN, lambda lines: [*lines, extra])
    codes = {(c, loc, v) for c, loc, v in errors(root)}
    last = "terminology/maps/surgical-margin-r.csv line 10"  # the appended row
    assert ("terminology.conflicting-duplicate", last, ("R0", "1633801")) in codes
    assert {c for c, _, _ in codes} == {"terminology.conflicting-duplicate"}


def test_duplicate_row_is_a_warning(edit: Edit) -> None:
    root = edit(MARGIN, lambda lines: [*lines, lines[1]])
    assert [(f.code, f.level) for f in check(load(root)) if f.level is not Level.INFO] == [
        ("terminology.duplicate-row", Level.WARNING)
    ]


def test_unmapped_mds_code(edit: Edit) -> None:
    root = edit(MARGIN, lambda lines: [line for line in lines if ",R2," not in line])
    found = errors(root)
    assert (
        "terminology.unmapped-mds-code",
        "terminology/maps/surgical-margin-r.csv",
        ("R2",),
    ) in found
    assert {c for c, _, _ in found} == {
        "terminology.unmapped-mds-code",
        "terminology.conflict-unresolved",
    }


def test_unknown_source_code(edit: Edit) -> None:
    root = edit(MARGIN, _replace("surgical-margin-r,RX_not_assessable,", "surgical-margin-r,RX,"))
    found = errors(root)
    assert (
        "terminology.unknown-source-code",
        "terminology/maps/surgical-margin-r.csv line 8",
        ("RX", ""),
    ) in found


def test_known_conflict_resolved_the_other_way(edit: Edit) -> None:
    def swap(lines: list[str]) -> list[str]:
        out = []
        for line in lines:
            if ",1634643,equivalent,both," in line:
                line = line.replace(",both,", ",read,")
            elif ",4121182,equivalent,read," in line:
                line = line.replace(",read,", ",both,")
            out.append(line)
        return out

    found = errors(edit(MARGIN, swap))
    assert (
        "terminology.conflict-unresolved",
        "terminology/maps/surgical-margin-r.csv line 3",
        ("R0",),
    ) in found
    assert (
        "terminology.conflict-unresolved",
        "terminology/maps/conflicts.csv line 2",
        ("R0",),
    ) in found


@pytest.mark.parametrize(
    ("old", "new", "code"),
    [
        (",equivalent,both,", ",same,both,", "terminology.bad-row"),
        (",equivalent,both,", ",equivalent,sideways,", "terminology.bad-row"),
        (
            "http://fhir.ohdsi.org/CodeSystem/concepts,1634643",
            "http://fhir.ohdsi.org/CodeSystem/concept,1634643",
            "terminology.unknown-system",
        ),
    ],
)
def test_bad_rows(edit: Edit, old: str, new: str, code: str) -> None:
    found = errors(edit(MARGIN, _replace(old, new)))
    assert (code, "terminology/maps/surgical-margin-r.csv line 2") in [
        (c, loc) for c, loc, _ in found
    ]


def test_map_file_missing_from_manifest(tree: Path) -> None:
    (tree / "maps" / "extra.csv").write_text((tree / "maps" / "sex.csv").read_text())
    assert errors(tree) == [
        ("terminology.unlisted-map", "terminology/maps/manifest.csv", ("extra.csv",))
    ]
