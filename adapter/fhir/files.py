"""FHIR files for `convert`: NDJSON (one Bundle a line, streamed) and one Bundle in a .json file.

NDJSON is the bulk form: each record is its own Bundle on its own line, written and read one
at a time, so memory does not grow with the file. A `.json` file holds ONE Bundle with the
resources of every record, for tools that post or load a single Bundle:

- writing streams too: entries are written as records arrive, and the elements that depend on
  all of them (the collection `timestamp`, the profile claim) come after `entry` (JSON objects
  are unordered). The Organization of an institution is written once (its fullUrl repeats).
  Bundle-eu-i4rc allows one Patient per Bundle, so a collection of several records does not
  claim it; a transaction claims nothing anyway.
- reading parses the whole file (a Bundle is one JSON value): memory grows with the file. A
  file that turns out to be NDJSON is read as NDJSON.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO

import orjson

from adapter.errors import Finding, Level
from adapter.fhir.bundle import BUNDLE_PROFILE, BundleKind, to_fhir
from adapter.fhir.intake import ProfilePolicy
from adapter.fhir.read import read_labelled
from adapter.mds.record import MdsRecord
from adapter.terminology import Terminology

__all__ = ["read_bundle_file", "read_ndjson_file", "write_bundle_file", "write_ndjson_file"]


def write_ndjson_file(
    records: Iterable[MdsRecord], out: IO[bytes], bundle: BundleKind = "transaction"
) -> int:
    """One Bundle per record per line; returns how many records."""
    terminology = Terminology.load()
    count = 0
    for record in records:
        out.write(orjson.dumps(to_fhir(record, terminology, bundle)) + b"\n")
        count += 1
    return count


def write_bundle_file(
    records: Iterable[MdsRecord], out: IO[bytes], bundle: BundleKind = "transaction"
) -> int:
    """Every record's resources in one Bundle, written as they come; returns how many records."""
    terminology = Terminology.load()
    out.write(b'{"resourceType":"Bundle","type":"' + bundle.encode() + b'","entry":[')
    seen: set[str] = set()
    count = 0
    latest = ""
    separator = b""
    for record in records:
        one = to_fhir(record, terminology, bundle)
        latest = max(latest, one.get("timestamp", ""))
        for entry in one["entry"]:
            if entry["fullUrl"] in seen:
                continue  # the institution's shared Organization
            if entry["resource"]["resourceType"] == "Organization":
                seen.add(entry["fullUrl"])
            out.write(separator + orjson.dumps(entry))
            separator = b","
        count += 1
    out.write(b"]")
    if bundle == "collection":
        out.write(b',"timestamp":' + orjson.dumps(latest or "1970-01-01T00:00:00Z"))
        if count == 1:
            out.write(b',"meta":' + orjson.dumps({"profile": [BUNDLE_PROFILE]}))
    out.write(b"}\n")
    return count


def read_ndjson_file(
    stream: IO[bytes], profiles: ProfilePolicy = "warn"
) -> Iterator[MdsRecord | Finding]:
    """Records and findings from FHIR NDJSON, line by line (see adapter.fhir.read_ndjson)."""
    from adapter.fhir import read_ndjson

    return read_ndjson(stream, Terminology.load(), profiles=profiles)


def read_bundle_file(
    stream: IO[bytes], profiles: ProfilePolicy = "warn"
) -> Iterator[MdsRecord | Finding]:
    """Records and findings from a file holding one Bundle (or one resource)."""
    data = stream.read()
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        if data.lstrip().startswith(b"{") and b"\n{" in data:  # NDJSON after all
            from adapter.fhir import read_ndjson

            yield from read_ndjson(data.splitlines(), Terminology.load(), profiles=profiles)
            return
        yield Finding(
            code="source.invalid-json", level=Level.ERROR, message=f"not valid JSON: {exc}",
            location="file",
        )  # fmt: skip
        return
    yield from read_labelled([("file", value)], Terminology.load(), profiles=profiles)
