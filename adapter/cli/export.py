"""`mds-adapter export`: the records in the OMOP database, as MDS JSON Lines or FHIR.

`--from cdm` (the default) rebuilds every record from the CDM rows, person by person
(adapter/stores/cdm_records.py), inside one snapshot; `--from store` writes the records the
record store kept. The records then go to the same writers `convert` uses: MDS JSON Lines, or
FHIR NDJSON with one transaction Bundle per record a line (what `convert --to fhir` writes for
the record), or with `--layout bulk` a directory with one NDJSON file per resource type, as a
Bulk Data `$export` writes them (references `Type/id`, an institution's Organization once).

A person whose rows do not make a record is one error line naming its person_id; the others
are written and the exit code is 1.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import typer

from adapter.cli.load import DbOption, reported
from adapter.config import settings
from adapter.errors import Finding, Level
from adapter.mds.record import MdsRecord
from adapter.progress import progress
from adapter.sources.formats import write
from adapter.stores.bulk_export import write_resources
from adapter.stores.cdm_records import count_persons, person_records
from adapter.stores.export import snapshot, stored_records
from adapter.terminology import Terminology

__all__ = ["export", "register"]

_SHOWN_WARNINGS = 5


def _check(output: Path, to: str, source: str, layout: str, pseudonymous: bool) -> None:
    if to not in ("mds", "fhir"):
        raise typer.BadParameter(f"--to {to}: expected mds or fhir")
    if source not in ("cdm", "store"):
        raise typer.BadParameter(f"--from {source}: expected cdm or store")
    if layout not in ("bundles", "bulk"):
        raise typer.BadParameter(f"--layout {layout}: expected bundles or bulk")
    if layout == "bulk" and to != "fhir":
        raise typer.BadParameter("--layout bulk writes FHIR: add --to fhir")
    if pseudonymous and source != "cdm":
        raise typer.BadParameter("--pseudonymous reads the CDM: it goes with --from cdm")
    if layout == "bulk" and (output.is_file() or (output.is_dir() and any(output.iterdir()))):
        raise typer.BadParameter(f"-o {output}: --layout bulk writes into a new or empty directory")
    if layout != "bulk" and output.is_dir():
        raise typer.BadParameter(f"-o {output} is a directory: give a file (or --layout bulk)")


def _write(records: Iterable[MdsRecord], output: Path, to: str, layout: str) -> str:
    """Write the records; what was written, for the summary line."""
    if layout == "bulk":
        files = write_resources(records, output, Terminology.load(), max_lines=None)
        return ", ".join(f"{f.name} {f.count}" for f in files)
    with output.open("wb") as out:
        write("jsonl" if to == "mds" else "fhir-ndjson", records, out)
    return ""


def export(
    output: Annotated[
        Path,
        typer.Option("-o", "--output", help="The file to write (a directory: --layout bulk)."),
    ],
    db: DbOption = None,
    to: Annotated[
        str, typer.Option("--to", help="mds (JSON Lines) or fhir (transaction Bundles).")
    ] = "mds",
    source: Annotated[
        str,
        typer.Option("--from", help="cdm: rebuild from the OMOP rows; store: the kept records."),
    ] = "cdm",
    layout: Annotated[
        str,
        typer.Option(
            "--layout",
            help="FHIR: bundles (NDJSON, a Bundle per record a line) or bulk (a directory, "
            "an NDJSON file per resource type).",
        ),
    ] = "bundles",
    pseudonymous: Annotated[
        bool,
        typer.Option(
            "--pseudonymous",
            help="Only what the CDM holds: person_source_value as record id, no institution.",
        ),
    ] = False,
) -> None:
    """Write every record in the database, rebuilt from the CDM rows, as MDS or FHIR.

    A person whose rows do not make a valid record is reported (its person_id and the reason)
    and left out; the exit code is then 1.
    """
    _check(output, to, source, layout, pseudonymous)
    counts = {"written": 0, "failed": 0}
    warnings: list[Finding] = []
    with reported(), ExitStack() as stack:
        url = db or settings().db_url
        if source == "cdm":
            conn = stack.enter_context(snapshot(url))
            total: int | None = count_persons(conn)
            found: Iterator[MdsRecord | Finding] = person_records(conn, pseudonymous=pseudonymous)
        else:
            total, found = None, stored_records(url)
        bar, task = stack.enter_context(progress("export", total))

        def records() -> Iterator[MdsRecord]:
            for item in found:
                if isinstance(item, Finding) and item.level is not Level.ERROR:
                    warnings.append(item)  # its record follows
                    continue
                if bar is not None and task is not None:
                    bar.advance(task)
                if isinstance(item, Finding):
                    counts["failed"] += 1
                    typer.echo(f"error: {item.describe()}", err=True)
                    continue
                counts["written"] += 1
                yield item

        files = _write(records(), output, to, layout)
    for w in warnings[:_SHOWN_WARNINGS]:
        typer.echo(f"{w.level.value}: {w.describe()}", err=True)
    if len(warnings) > _SHOWN_WARNINGS:
        typer.echo(f"… {len(warnings) - _SHOWN_WARNINGS} more warnings like these", err=True)
    failed = f"; {counts['failed']} failed" if counts["failed"] else ""
    typer.echo(f"wrote {counts['written']} records to {output}"
               + (f" ({files})" if files else "") + failed, err=True)  # fmt: skip
    raise typer.Exit(1 if counts["failed"] else 0)


def register(app: typer.Typer) -> None:
    app.command()(export)
