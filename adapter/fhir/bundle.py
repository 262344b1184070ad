"""A record as one Bundle: `transaction` (conditional PUTs) or IDEA4RC `collection`.

Both forms hold the same resources in the same order, with `urn:uuid:` fullUrls and
references. The transaction form PUTs each resource on its business identifier
(`Patient?identifier=<system>|<value>`): a FHIR server creates it once and updates it after,
so posting the same bundle twice creates nothing new. The collection form follows
Bundle-eu-i4rc (timestamp, fullUrl, no request).

Everything is plain dicts built from tables, with no model validation on the way: the hot path
does a few dict inserts per element. Bundles are serialized with orjson.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import IO, Any, Literal
from urllib.parse import quote

import orjson

from adapter.fhir import (
    condition,
    follow_up,
    patient,
    radiotherapy,
    staging,
    surgery,
    systemic_therapy,
)
from adapter.fhir.codes import IG, Codec, Resource
from adapter.fhir.ids import Build, Ids
from adapter.mds.record import MdsRecord
from adapter.terminology import Terminology

__all__ = [
    "BUNDLE_PROFILE",
    "BundleKind",
    "codec_for",
    "dumps",
    "resources",
    "to_fhir",
    "write_ndjson",
]

BundleKind = Literal["transaction", "collection"]
BUNDLE_PROFILE = IG + "Bundle-eu-i4rc"


@lru_cache(maxsize=4)
def codec_for(terminology: Terminology) -> Codec:
    """One codec (and its caches) per loaded terminology."""
    return Codec(terminology)


def resources(record: MdsRecord, terminology: Terminology) -> list[Resource]:
    """The resources of one record, in bundle order."""
    b = Build(
        record,
        codec_for(terminology),
        Ids(record.institution, record.record_id, record.institution_country),
    )
    org = patient.organization_to_fhir(b)
    out: list[Resource] = [org] if org else []
    out.append(patient.to_fhir(b, org is not None))
    for spoke in (condition, staging, surgery, radiotherapy, systemic_therapy):
        out.extend(r for _, r in spoke.to_fhir(b))
    out.append(patient.episode_to_fhir(b, org is not None))
    out.extend(r for _, r in follow_up.to_fhir(b))
    return out


def to_fhir(
    record: MdsRecord,
    terminology: Terminology,
    bundle: BundleKind = "transaction",
    *,
    timestamp: str | None = None,
) -> dict[str, Any]:
    """One record as a Bundle (a plain dict); the same record always gives the same bundle.

    `timestamp` (collection only, required there by Bundle-eu-i4rc) defaults to the latest
    date in the record, so output stays reproducible; pass the assembly time if you want it.
    """
    ids = Ids(record.institution, record.record_id, record.institution_country)
    entries = []
    for r in resources(record, terminology):
        entry: dict[str, Any] = {"fullUrl": "urn:uuid:" + r["id"], "resource": r}
        if bundle == "transaction":
            ident = r["identifier"][0]
            search = _quote(ident["system"], ":/") + "|" + _quote(ident["value"], "/")
            entry["request"] = {"method": "PUT", "url": f"{r['resourceType']}?identifier={search}"}
        entries.append(entry)
    out: dict[str, Any] = {"resourceType": "Bundle", "id": ids.id(f"bundle-{bundle}")}
    if bundle == "collection":
        out["meta"] = {"profile": [BUNDLE_PROFILE]}
        out["type"] = "collection"
        out["timestamp"] = timestamp or _latest(record)
    elif bundle == "transaction":
        out["type"] = "transaction"
    else:
        raise ValueError(f"bundle must be 'transaction' or 'collection', got {bundle!r}")
    out["entry"] = entries
    return out


_PLAIN = re.compile(r"[A-Za-z0-9_.~:/-]*")


def _quote(text: str, safe: str) -> str:
    """Percent-encode for a search URL; most identifiers need nothing, so check that first."""
    return text if _PLAIN.fullmatch(text) else quote(text, safe=safe)


def _latest(record: MdsRecord) -> str:
    dates = [v for v in record.__dict__.values() if isinstance(v, dt.date)]
    day = max(dates) if dates else dt.date(1970, 1, 1)
    return f"{day.isoformat()}T00:00:00Z"


def dumps(bundle: dict[str, Any]) -> bytes:
    """A Bundle (or any resource) as one compact JSON line, without the newline."""
    return orjson.dumps(bundle)


def write_ndjson(bundles: Iterable[dict[str, Any]], out: IO[bytes]) -> int:
    """FHIR NDJSON, one Bundle per line; returns the number of lines written."""
    count = 0
    for bundle in bundles:
        out.write(orjson.dumps(bundle) + b"\n")
        count += 1
    return count
