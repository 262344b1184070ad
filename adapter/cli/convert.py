"""`mds-adapter convert IN -o OUT`: any MDS format or FHIR to any other, through the MDS record.

Formats come from `adapter.sources.formats` (chosen by extension and the file's first bytes,
or by --from / --to). `--to fhir` writes FHIR NDJSON (one Bundle per record a line) or, for a
.json output, one Bundle (`--bundle transaction|collection`); `--to mds` writes MDS JSON Lines
(or the MDS format the extension names). FHIR input is found by content (`resourceType`) and
checked against profiles/ before it is mapped (`--profiles warn|reject|off`, see
adapter/fhir/intake.py). Good records are written as they are read (streaming, except REDCap
JSON, Excel and a one-Bundle .json file, which are read whole); each rejected record is
reported on stdout and left out; the exit code is 1 when anything was rejected, 2 when the
input cannot be read.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Annotated

import orjson
import typer

from adapter.errors import Finding, Level, SourceError
from adapter.mds.record import MdsRecord
from adapter.progress import CountingReader, progress
from adapter.sources.formats import FHIR_FORMATS, FORMATS, FormatName, guess_format, read, write
from adapter.sources.redcap_dictionary import RedcapField, read_redcap_dictionary

__all__ = ["STREAMED", "convert", "file_format", "register"]

STREAMED: tuple[FormatName, ...] = (  # read as a stream: a progress bar by bytes
    "jsonl", "csv", "redcap-raw", "redcap-labels", "fhir-ndjson", "idea4rc-table",
)  # fmt: skip
_NAMES = (*FORMATS, "fhir", "mds")
_BUNDLES = ("transaction", "collection")
_POLICIES = ("warn", "reject", "off")


def file_format(path: Path, given: str | None, head: bytes | None, option: str) -> FormatName:
    """The format of a file: as given (`fhir` / `mds` pick the kind by extension) or guessed;
    `check` uses it too, so it reads what `convert` reads."""
    if given == "fhir":
        return "fhir-json" if path.suffix.lower() == ".json" else "fhir-ndjson"
    if given == "mds":
        guessed = guess_format(path, head)
        if guessed is None or guessed in ("redcap-json", *FHIR_FORMATS):
            return "jsonl"
        return guessed
    if given is not None:
        if given not in FORMATS:
            raise typer.BadParameter(f"{given}: expected one of {', '.join(_NAMES)}")
        return given
    fmt = guess_format(path, head)
    if fmt is None:
        raise typer.BadParameter(
            f"cannot tell the format of {path}: use {option} ({', '.join(FORMATS)})"
        )
    return fmt


def _fields(path: Path | None) -> tuple[RedcapField, ...] | None:
    if path is None:
        return None
    with path.open(encoding="utf-8-sig", newline="") as f:
        return read_redcap_dictionary(f)


def convert(
    source: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Input file.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Output file.")],
    from_: Annotated[
        str | None, typer.Option("--from", help=f"Input format: {', '.join(_NAMES)}.")
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", help=f"Output format: {', '.join(_NAMES)}.")
    ] = None,
    bundle: Annotated[
        str, typer.Option("--bundle", help="FHIR output: transaction or collection Bundles.")
    ] = "transaction",
    profiles: Annotated[
        str,
        typer.Option(
            "--profiles",
            help="FHIR input with profile errors: warn (map anyway), reject, off (no check).",
        ),
    ] = "warn",
    redcap_dictionary: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            help="The centre's REDCap data dictionary (its date formats and labels).",
        ),
    ] = None,
    json: Annotated[
        bool, typer.Option("--json", help="JSON Lines: findings, then a summary.")
    ] = False,
) -> None:
    """Convert MDS records between formats; rejected records are reported and left out."""
    with source.open("rb") as f:
        head = f.read(4096)
    if bundle not in _BUNDLES:
        raise typer.BadParameter(f"--bundle {bundle}: expected transaction or collection")
    if profiles not in _POLICIES:
        raise typer.BadParameter(f"--profiles {profiles}: expected warn, reject or off")
    in_fmt = file_format(source, from_, head, "--from")
    out_fmt = file_format(output, to, None, "--to")
    out = sys.stdout
    counts = {"read": 0, "rejected": 0, "warnings": 0}
    rejected_units: set[str | None] = set()  # FHIR: several findings may reject one record

    def report(finding: Finding) -> None:
        if finding.level is Level.ERROR and in_fmt in FHIR_FORMATS:
            unit = (finding.location or "").split(": ", 1)[0] or finding.record_id
            if unit not in rejected_units:
                rejected_units.add(unit)
                counts["rejected"] += 1
                counts["read"] += 1
        elif finding.level is Level.ERROR:
            counts["rejected"] += 1
        else:
            counts["warnings"] += 1
        if json:
            out.write(orjson.dumps({"type": "finding", **finding.to_json()}).decode() + "\n")
        else:
            out.write(f"{finding.level.value:<7} {finding.describe()}\n")

    def records(stream: IO[bytes], fields: tuple[RedcapField, ...] | None) -> Iterator[MdsRecord]:
        for item in read(in_fmt, stream, redcap_fields=fields, profiles=profiles):  # type: ignore[arg-type]
            if isinstance(item, Finding):
                report(item)
                counts["read"] += item.level is Level.ERROR and in_fmt not in FHIR_FORMATS
            else:
                counts["read"] += 1
                yield item

    try:
        fields = _fields(redcap_dictionary)
        total = source.stat().st_size if in_fmt in STREAMED else None
        with (
            source.open("rb") as raw,
            output.open("wb") as sink,
            progress("convert", total, in_bytes=True) as (bar, task),
        ):
            stream: IO[bytes] = raw
            if total is not None:
                stream = io.BufferedReader(CountingReader(raw, bar, task), buffer_size=1 << 16)
            written = write(
                out_fmt, records(stream, fields), sink, redcap_fields=fields,
                bundle=bundle,  # type: ignore[arg-type]
            )  # fmt: skip
    except SourceError as exc:
        typer.echo(f"error: {source}: {exc}", err=True)
        raise typer.Exit(2) from exc
    summary = {"read": counts["read"], "written": written, "rejected": counts["rejected"],
               "warnings": counts["warnings"], "from": in_fmt, "to": out_fmt}  # fmt: skip
    if json:
        out.write(orjson.dumps({"type": "summary", **summary}).decode() + "\n")
    else:
        typer.echo(
            f"{counts['read']} records read from {source} ({in_fmt}): {written} written to "
            f"{output} ({out_fmt}), {counts['rejected']} rejected",
            err=True,
        )
    raise typer.Exit(1 if counts["rejected"] else 0)


def register(app: typer.Typer) -> None:
    app.command()(convert)
