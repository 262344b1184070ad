"""Every flat format by name, with its reader and writer, and a guess from file name and head.

    read("redcap-raw", stream)           → records and findings
    write("xlsx", records, out)          → how many records were written

Both take binary streams (the CLI opens files; tests pass BytesIO), so the formats that are
text get the same encoding handling everywhere: UTF-8, a byte-order mark tolerated on input.
`guess_format` picks the format from the extension and, for .csv and .json input, from the
first bytes: a CSV header of MDS element names is the plain table, one with REDCap's variables
or labels a REDCap export; a JSON array is REDCap's flat JSON, JSON objects line by line are
MDS JSON Lines — unless the first object has a `resourceType`: then it is FHIR (NDJSON, one
Bundle or resource a line, for .jsonl/.ndjson; one Bundle for .json). An output file's format
comes from its extension alone, so FHIR output is asked for (`--to fhir`, formats `fhir-ndjson`
and `fhir-json`, adapter/fhir/files.py); `.ndjson` without it stays MDS JSON Lines. The IDEA4RC
normalised table (`idea4rc-table`) is a file named `*.idea4rc.csv`, or on input any .csv whose
semicolon header has its columns (patient_id, core_variable, value, record_id, linked_to).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import PurePath
from typing import IO, Literal, get_args

from adapter.errors import Finding, SourceError
from adapter.mds.dictionary import elements
from adapter.mds.record import MdsRecord
from adapter.sources.csv_table import read_csv, write_csv
from adapter.sources.excel_form import read_xlsx, write_xlsx
from adapter.sources.idea4rc_table import (
    is_idea4rc_header,
    read_idea4rc_table,
    write_idea4rc_table,
)
from adapter.sources.jsonl import read_jsonl, write_jsonl
from adapter.sources.redcap import (
    read_redcap_csv,
    read_redcap_json,
    redcap_header_kind,
    write_redcap_csv,
    write_redcap_json,
)
from adapter.sources.redcap_dictionary import RedcapField

__all__ = [
    "FHIR_FORMATS",
    "FORMATS",
    "IDEA4RC_SUFFIX",
    "FormatName",
    "guess_format",
    "read",
    "write",
]

FormatName = Literal[
    "jsonl",
    "csv",
    "redcap-raw",
    "redcap-labels",
    "redcap-json",
    "xlsx",
    "fhir-ndjson",
    "fhir-json",
    "idea4rc-table",
]
FORMATS: tuple[FormatName, ...] = get_args(FormatName)
FHIR_FORMATS: tuple[FormatName, ...] = ("fhir-ndjson", "fhir-json")

_BY_EXTENSION: dict[str, FormatName] = {
    "jsonl": "jsonl", "ndjson": "jsonl", "json": "redcap-json", "csv": "csv", "tsv": "csv",
    "txt": "csv", "xlsx": "xlsx", "xlsm": "xlsx",
}  # fmt: skip

IDEA4RC_SUFFIX = ".idea4rc.csv"  # the normalised table; a plain .csv is told by its header

Fields = tuple[RedcapField, ...] | None


@contextmanager
def _text_in(stream: IO[bytes]) -> Iterator[IO[str]]:
    wrapper = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    try:
        yield wrapper
    finally:
        wrapper.detach()  # leave `stream` open: the caller owns it


def _csv_kind(head: bytes) -> FormatName:
    first = head.decode("utf-8-sig", "replace").splitlines()[0] if head.strip() else ""
    if is_idea4rc_header(first):
        return "idea4rc-table"
    header = next(csv.reader([first]), [])
    names = {e.name for e in elements()}
    if header and {h.strip() for h in header} <= names:
        return "csv"
    kind = redcap_header_kind(header)
    return "csv" if kind is None else "redcap-labels" if kind == "labels" else "redcap-raw"


def guess_format(path: str | PurePath, head: bytes | None = None) -> FormatName | None:
    """The format of a file from its extension and, when given, its first bytes (input)."""
    extension = PurePath(path).suffix.lstrip(".").lower()
    if PurePath(path).name.lower().endswith(IDEA4RC_SUFFIX):
        return "idea4rc-table"
    fmt = _BY_EXTENSION.get(extension)
    if head is None or fmt is None:
        return fmt
    if fmt == "jsonl" or extension == "json":
        start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        if start.startswith(b"["):
            return "redcap-json"
        if _is_fhir(start, whole_head=extension == "json"):
            return "fhir-json" if extension == "json" else "fhir-ndjson"
        return "jsonl"
    if fmt == "csv" and extension == "csv":
        return _csv_kind(head)
    return fmt


def _is_fhir(start: bytes, *, whole_head: bool) -> bool:
    """A FHIR resource names its `resourceType`; an MDS record never has that key.

    In JSON Lines the first line is the first object; a .json Bundle is usually pretty-printed,
    so there the whole head is looked at.
    """
    first = start if whole_head else start.split(b"\n", 1)[0]
    return start.startswith(b"{") and b'"resourceType"' in first


def read(
    fmt: FormatName,
    stream: IO[bytes],
    *,
    redcap_fields: Fields = None,
    profiles: Literal["warn", "reject", "off"] = "warn",
) -> Iterator[MdsRecord | Finding]:
    """Records and findings from a binary stream in the given format.

    `profiles` is for FHIR input: how profile errors are handled (adapter/fhir/intake.py).
    """
    if fmt in FHIR_FORMATS:
        from adapter.fhir.files import read_bundle_file, read_ndjson_file  # FHIR only if asked

        if fmt == "fhir-ndjson":
            yield from read_ndjson_file(stream, profiles)
        else:
            yield from read_bundle_file(stream, profiles)
    elif fmt == "jsonl":
        yield from read_jsonl(stream)
    elif fmt == "csv":
        with _text_in(stream) as text:
            yield from read_csv(text)
    elif fmt in ("redcap-raw", "redcap-labels"):  # one reader takes both
        with _text_in(stream) as text:
            yield from read_redcap_csv(text, redcap_fields)
    elif fmt == "redcap-json":
        yield from read_redcap_json(stream.read(), redcap_fields)
    elif fmt == "xlsx":
        yield from read_xlsx(stream)
    elif fmt == "idea4rc-table":
        with _text_in(stream) as text:
            yield from read_idea4rc_table(text)
    else:
        raise SourceError(f"unknown format {fmt}: expected one of {', '.join(FORMATS)}")


@contextmanager
def _text_out(out: IO[bytes]) -> Iterator[IO[str]]:
    wrapper = io.TextIOWrapper(out, encoding="utf-8", newline="")
    try:
        yield wrapper
    finally:
        wrapper.flush()
        wrapper.detach()  # leave `out` open: the caller owns it


def write(
    fmt: FormatName,
    records: Iterable[MdsRecord],
    out: IO[bytes],
    *,
    redcap_fields: Fields = None,
    bundle: Literal["transaction", "collection"] = "transaction",
) -> int:
    """Write records to a binary stream in the given format; returns how many.

    `bundle` is for FHIR output: transaction (conditional PUTs) or IDEA4RC collection.
    """
    if fmt in FHIR_FORMATS:
        from adapter.fhir.files import write_bundle_file, write_ndjson_file

        if fmt == "fhir-ndjson":
            return write_ndjson_file(records, out, bundle)
        return write_bundle_file(records, out, bundle)
    writers: dict[str, Callable[[], int]] = {
        "jsonl": lambda: write_jsonl(records, out),
        "redcap-json": lambda: write_redcap_json(records, out, redcap_fields),
        "xlsx": lambda: write_xlsx(records, out),
    }
    if fmt in writers:
        return writers[fmt]()
    if fmt not in FORMATS:
        raise SourceError(f"unknown format {fmt}: expected one of {', '.join(FORMATS)}")
    with _text_out(out) as text:
        if fmt == "csv":
            return write_csv(records, text)
        if fmt == "idea4rc-table":
            return write_idea4rc_table(records, text)
        return write_redcap_csv(records, text, labels=fmt == "redcap-labels", fields=redcap_fields)
