"""MDS → FHIR → MDS is the identity, in both bundle forms and as shuffled NDJSON resources."""

from __future__ import annotations

import io
import random

import orjson
import pytest

from adapter.errors import Finding
from adapter.fhir import dumps, read_fhir, read_ndjson, to_fhir, write_ndjson
from adapter.fhir.ids import _NAMESPACE, resource_uuid
from adapter.mds.record import MdsRecord
from adapter.mds.synth import generate
from adapter.terminology import Terminology

N = 10_000


@pytest.fixture(scope="module")
def terminology() -> Terminology:
    return Terminology.load()


@pytest.fixture(scope="module")
def records() -> list[MdsRecord]:
    return [record for record, _ in generate(N, 2026, 0.1)]


def split(items: list[MdsRecord | Finding]) -> tuple[list[MdsRecord], list[Finding]]:
    return (
        [i for i in items if isinstance(i, MdsRecord)],
        [i for i in items if isinstance(i, Finding)],
    )


@pytest.mark.parametrize("kind", ["transaction", "collection"])
def test_identity_on_10k_generated_records(
    kind: str, records: list[MdsRecord], terminology: Terminology
) -> None:
    back, findings = split(list(read_fhir(to_fhir(r, terminology, kind) for r in records)))
    assert findings == []
    assert back == records


def test_two_conversions_are_byte_identical(
    records: list[MdsRecord], terminology: Terminology
) -> None:
    for record in records[:200]:
        for kind in ("transaction", "collection"):
            a = to_fhir(record, terminology, kind)  # type: ignore[arg-type]
            assert dumps(a) == dumps(to_fhir(record, terminology, kind))  # type: ignore[arg-type]


def test_transaction_entries_are_conditional_puts_on_business_identifiers(
    records: list[MdsRecord], terminology: Terminology
) -> None:
    bundle = to_fhir(records[0], terminology)
    assert bundle["type"] == "transaction"
    for entry in bundle["entry"]:
        resource = entry["resource"]
        ident = resource["identifier"][0]
        assert entry["fullUrl"] == "urn:uuid:" + resource["id"]
        assert entry["request"] == {
            "method": "PUT",
            "url": f"{resource['resourceType']}?identifier={ident['system']}|{ident['value']}",
        }
    # references point inside the bundle
    text = dumps(bundle).decode()
    for ref in {p.split('"')[0] for p in text.split('"reference":"')[1:]}:
        assert ref in {e["fullUrl"] for e in bundle["entry"]}


def test_identifier_url_is_percent_encoded(terminology: Terminology) -> None:
    record = MdsRecord(record_id="A 1", institution="Rizzoli Institute")
    urls = [e["request"]["url"] for e in to_fhir(record, terminology)["entry"]]
    assert (
        urls[1]
        == "Patient?identifier=https://w3id.org/sarcoma-mds/fhir/sid/Rizzoli%2520Institute|A%201"
    )
    assert read_fhir([to_fhir(record, terminology)]).__next__() == record


def test_collection_bundle_follows_bundle_eu_i4rc(
    records: list[MdsRecord], terminology: Terminology
) -> None:
    bundle = to_fhir(records[0], terminology, "collection")
    assert bundle["type"] == "collection"
    assert bundle["meta"] == {
        "profile": ["http://hl7.eu/fhir/ig/idea4rc/StructureDefinition/Bundle-eu-i4rc"]
    }
    assert bundle["timestamp"] == "2026-02-08T00:00:00Z"  # the record's latest date
    assert (
        to_fhir(records[0], terminology, "collection", timestamp="2026-01-02T03:04:05Z")[
            "timestamp"
        ]
        == "2026-01-02T03:04:05Z"
    )
    assert all(set(e) == {"fullUrl", "resource"} for e in bundle["entry"])


def test_resource_ids_are_uuid5() -> None:
    import uuid

    assert resource_uuid("IOR", "R1", "patient") == str(uuid.uuid5(_NAMESPACE, "IOR|R1|patient"))
    assert resource_uuid(None, "R1", "surgery") == str(uuid.uuid5(_NAMESPACE, "|R1|surgery"))


def test_shuffled_ndjson_resources_of_many_patients(
    records: list[MdsRecord], terminology: Terminology
) -> None:
    sample = records[:1000]
    lines = [
        orjson.dumps(e["resource"])
        for r in sample
        for e in to_fhir(r, terminology, "collection")["entry"]
    ]
    random.Random(5).shuffle(lines)
    back, findings = split(list(read_ndjson(lines, terminology)))
    assert findings == []
    assert sorted(back, key=lambda r: r.record_id) == sorted(sample, key=lambda r: r.record_id)


def test_ndjson_bundles_write_and_read(records: list[MdsRecord], terminology: Terminology) -> None:
    out = io.BytesIO()
    assert write_ndjson((to_fhir(r, terminology) for r in records[:50]), out) == 50
    lines = out.getvalue().splitlines()
    assert len(lines) == 50
    back, findings = split(list(read_ndjson([b"", *lines, b"{not json"], terminology)))
    assert back == records[:50]
    assert [(f.code, f.location) for f in findings] == [("source.invalid-json", "line 52")]


def test_searchset_and_batch_bundles_are_read(
    records: list[MdsRecord], terminology: Terminology
) -> None:
    entries = [e for r in records[:5] for e in to_fhir(r, terminology, "collection")["entry"]]
    for kind in ("searchset", "batch"):
        bundle = {"resourceType": "Bundle", "type": kind, "entry": entries[::-1]}
        back, findings = split(list(read_fhir([bundle], terminology)))
        assert findings == []
        assert sorted(back, key=lambda r: r.record_id) == sorted(
            records[:5], key=lambda r: r.record_id
        )
