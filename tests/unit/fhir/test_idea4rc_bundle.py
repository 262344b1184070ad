"""The IDEA4RC IG's examples as a hospital sends them (tests/external/idea4rc, CC-BY-SA-4.0):
the reader gives exactly the hand-written record, and every element is read or reported."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from adapter.errors import Finding
from adapter.fhir import read as read_module
from adapter.fhir import read_fhir
from adapter.fhir.codes import Draft
from adapter.mds.record import MdsRecord
from adapter.terminology import Terminology

FOLDER = Path(__file__).resolve().parents[2] / "external" / "idea4rc"
BUNDLE = FOLDER / "patient-id-17.collection.json"
# Findings that account for a whole resource (nothing of it becomes MDS, and it says so).
WHOLE = frozenset({"fhir.unsupported-resource", "fhir.comorbidity", "fhir.refuted-condition"})


def load(path: Path) -> Any:
    return orjson.loads(path.read_bytes())


def assemble() -> dict[str, Any]:
    """The assembly README.md describes: Patient first, then by file name; absolute fullUrls."""
    files = sorted((FOLDER / "examples").glob("*.json"),
                   key=lambda p: (not p.name.startswith("Patient-"), p.name))  # fmt: skip
    entries = []
    for path in files:
        r = load(path)
        url = f"https://hospital.example/fhir/{r['resourceType']}/{r['id']}"
        entries.append({"fullUrl": url, "resource": r})
    return {"resourceType": "Bundle", "id": "idea4rc-patient-id-17", "type": "collection",
            "entry": entries}  # fmt: skip


@pytest.fixture(scope="module")
def terminology() -> Terminology:
    return Terminology.load()


def test_the_bundle_is_the_examples_assembled_unchanged() -> None:
    assert load(BUNDLE) == assemble()
    shared = Path("/work/shared/idea4rc/ig/examples")
    if shared.exists():  # copied byte for byte
        for path in (FOLDER / "examples").glob("*.json"):
            assert path.read_bytes() == (shared / path.name).read_bytes(), path.name


def test_the_reader_gives_exactly_the_hand_written_record(terminology: Terminology) -> None:
    expected = MdsRecord.model_validate_json((FOLDER / "patient-id-17.mds.json").read_bytes())
    for policy in ("off", "warn"):
        items = list(read_fhir([load(BUNDLE)], terminology, profiles=policy))
        assert [i for i in items if isinstance(i, MdsRecord)] == [expected]


def test_every_element_of_every_resource_is_read_or_reported(
    terminology: Terminology, monkeypatch: pytest.MonkeyPatch
) -> None:
    drafts: list[Draft] = []

    class Recording(Draft):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            drafts.append(self)

    monkeypatch.setattr(read_module, "Draft", Recording)
    sent = load(BUNDLE)
    findings = [f for f in read_fhir([sent], terminology, profiles="off") if isinstance(f, Finding)]
    taken = {t for d in drafts for t in d.taken}
    silent = []
    for entry in sent["entry"]:
        r = entry["resource"]
        kind, where = r["resourceType"], f"{r['resourceType']}/{r['id']}"
        mine = [f for f in findings if f.location == where]
        if any(f.code in WHOLE for f in mine):
            continue
        for key, value in r.items():
            parts = [f"extension({e['url']})" for e in value] if key == "extension" else [key]
            for part in parts:
                path = f"{kind}.{part}"
                if (where, part) in taken or ((where, key) in taken and key != "extension"):
                    continue
                if any(f.elements and f.elements[0].startswith(path) for f in mine):
                    continue
                silent.append(f"{where}: {path}")
    assert silent == []
