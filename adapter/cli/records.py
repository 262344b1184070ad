"""`mds-adapter synth` and `mds-adapter check`: generate and judge MDS records."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Annotated, Literal

import orjson
import typer

from adapter.cli.convert import STREAMED, file_format
from adapter.errors import Finding, Level, SourceError
from adapter.mds.record import MdsRecord
from adapter.mds.report import Summary
from adapter.mds.rules import RULES, RuleConfig, check_record
from adapter.progress import CountingReader, progress
from adapter.sources.csv_table import write_csv
from adapter.sources.formats import FHIR_FORMATS, FORMATS, FormatName, read
from adapter.sources.jsonl import dumps

__all__ = ["check", "register", "synth"]

Format = Literal["jsonl", "csv"]


def _format_of(path: Path, given: str | None) -> Format:
    name = given or path.suffix.lstrip(".").lower()
    if name in ("jsonl", "ndjson", "json"):
        return "jsonl"
    if name in ("csv", "tsv", "txt"):
        return "csv"
    raise typer.BadParameter(f"cannot tell the format of {path}: use --format jsonl or csv")


def _read(path: Path, fmt: FormatName, label: str) -> Iterator[MdsRecord | Finding]:
    """Records and findings from a file in any format `convert` reads; a progress bar on a
    terminal for the streamed ones (the others are read whole by their libraries)."""
    total = path.stat().st_size if fmt in STREAMED else None
    with path.open("rb") as raw, progress(label, total, in_bytes=True) as (bar, task):
        stream: IO[bytes] = raw
        if total is not None:
            stream = io.BufferedReader(CountingReader(raw, bar, task), buffer_size=1 << 16)
        yield from read(fmt, stream)


def synth(
    n: Annotated[int, typer.Option("--n", min=0, help="How many records.")] = 1000,
    seed: Annotated[int, typer.Option(help="Same seed, same records.")] = 1,
    defects: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Fraction of records made to break one rule.")
    ] = 0.0,
    labels: Annotated[
        Path | None, typer.Option(help="Write {record_id, rule} of each defective record here.")
    ] = None,
    output: Annotated[
        Path, typer.Option("-o", "--output", help="JSON Lines (.jsonl) or .csv.")
    ] = Path("synthetic.jsonl"),
    fmt: Annotated[str | None, typer.Option("--format", help="jsonl or csv.")] = None,
) -> None:
    """Generate realistic synthetic MDS records (streaming: constant memory for any N)."""
    from adapter.mds.synth import generate

    kind = _format_of(output, fmt)
    label_file: IO[bytes] | None = labels.open("wb") if labels else None
    written = defective = 0

    def records() -> Iterator[MdsRecord]:
        nonlocal defective
        for record, rule in generate(n, seed, defects):
            if rule is not None:
                defective += 1
                if label_file is not None:
                    label_file.write(
                        orjson.dumps({"record_id": record.record_id, "rule": rule}) + b"\n"
                    )
            yield record

    with progress("synth", n) as (bar, task):
        if kind == "jsonl":
            with output.open("wb") as out:
                for record in records():
                    out.write(dumps(record) + b"\n")
                    written += 1
                    if bar is not None and task is not None:
                        bar.advance(task)
        else:
            with output.open("w", encoding="utf-8", newline="") as text_out:
                written = write_csv(records(), text_out)
    if label_file is not None:
        label_file.close()
    typer.echo(f"wrote {written} records ({defective} with a defect) to {output}", err=True)


def check(
    file: Annotated[
        Path,
        typer.Argument(exists=True, dir_okay=False, help="Records, any format convert reads"),
    ],
    json: Annotated[
        bool, typer.Option("--json", help="JSON Lines: findings, then a summary.")
    ] = False,
    fmt: Annotated[
        str | None,
        typer.Option("--from", "--format", help=f"Input format: {', '.join(FORMATS)}."),
    ] = None,
    intermediate: Annotated[
        str, typer.Option(help="R04 policy for /1 tumours: include, warn or exclude.")
    ] = "warn",
    min_age: Annotated[int | None, typer.Option(help="R16: younger patients are errors.")] = None,
    max_age: Annotated[int | None, typer.Option(help="R16: older patients are errors.")] = None,
    info: Annotated[
        bool, typer.Option("--info", help="Also print info findings (always counted).")
    ] = False,
) -> None:
    """Validate MDS records and apply the 17 eligibility rules; exit 1 on any error.

    The format comes from `--from` or from the file as for `convert` (extension and first
    bytes). Findings of the reader that reject nothing (a REDCap column that is no field, an
    IDEA4RC variable with no MDS element) are printed like the rules' findings but are not
    counted as records; for FHIR input the errors of one record count it once.
    """
    if intermediate not in ("include", "warn", "exclude"):
        raise typer.BadParameter("--intermediate must be include, warn or exclude")
    config = RuleConfig(intermediate_tumours=intermediate, min_age=min_age, max_age=max_age)
    summary = Summary()
    out = sys.stdout
    with file.open("rb") as opened:
        kind = file_format(file, fmt, opened.read(4096), "--from")
    units: set[str | None] = set()  # FHIR: several findings may reject one record
    try:
        for item in _read(file, kind, "check"):
            if isinstance(item, Finding):
                unit = (item.location or "").split(": ", 1)[0] or item.record_id
                if item.level is Level.ERROR and (kind not in FHIR_FORMATS or unit not in units):
                    units.add(unit)
                    summary.add_rejected(item)
                found = [item]
            else:
                found = check_record(item, config)
                summary.add_record(found)
            for f in found:
                if json:
                    out.write(orjson.dumps({"type": "finding", **f.to_json()}).decode() + "\n")
                elif info or f.level is not Level.INFO:
                    out.write(f"{f.level.value:<7} {f.describe()}\n")
    except SourceError as exc:
        typer.echo(f"error: {file}: {exc}", err=True)
        raise typer.Exit(2) from exc
    if json:
        out.write(orjson.dumps({"type": "summary", **summary.to_json()}).decode() + "\n")
    else:
        out.write("\n".join(summary.lines({r.id: r.title for r in RULES})) + "\n")
    raise typer.Exit(1 if summary.failed else 0)


def register(app: typer.Typer) -> None:
    app.command()(synth)
    app.command()(check)
