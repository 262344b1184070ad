"""`mds-adapter pull --from URL -o OUT`: MDS records read from a FHIR server.

A thin wrapper over adapter.stores.fhir_pull: Bulk Data `$export` when the server's
CapabilityStatement offers it, `Patient/{id}/$everything` for each `--patient` (or when it
does not). The output is any format `convert` writes (by extension, or `--to`). Each finding is
reported on stdout like `convert`'s; the exit code is 1 when a record was rejected, 2 when the
server could not be read (one line on stderr: method, URL, status, the OperationOutcome's
diagnostics). The token comes from `--token` or MDS_ADAPTER_PULL_TOKEN and is never printed.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import orjson
import typer

from adapter.cli.convert import file_format
from adapter.errors import Finding, Level, SourceError
from adapter.mds.record import MdsRecord
from adapter.sources.formats import FORMATS, write
from adapter.stores.fhir_pull import Puller, pull_records

__all__ = ["pull", "register"]

_NAMES = (*FORMATS, "fhir", "mds")


def pull(
    base: Annotated[
        str, typer.Option("--from", help="The server's FHIR base, e.g. http://host:8080/fhir.")
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help="Output file.")],
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="MDS_ADAPTER_PULL_TOKEN",
            show_default=False,
            help="Bearer token (scope export.read on mds-adapter).",
        ),
    ] = None,
    patient: Annotated[
        list[str] | None,
        typer.Option("--patient", help="Read this Patient id with $everything (repeatable)."),
    ] = None,
    to: Annotated[
        str | None, typer.Option("--to", help=f"Output format: {', '.join(_NAMES)}.")
    ] = None,
    bundle: Annotated[
        str, typer.Option("--bundle", help="FHIR output: transaction or collection Bundles.")
    ] = "transaction",
    max_wait: Annotated[
        float, typer.Option("--max-wait", min=1, help="Seconds to wait for an $export at most.")
    ] = 600.0,
    json: Annotated[
        bool, typer.Option("--json", help="JSON Lines: findings, then a summary.")
    ] = False,
) -> None:
    """Read MDS records from a FHIR server ($export, or $everything per --patient)."""
    if bundle not in ("transaction", "collection"):
        raise typer.BadParameter(f"--bundle {bundle}: expected transaction or collection")
    out_fmt = file_format(output, to, None, "--to")
    counts = {"read": 0, "rejected": 0, "warnings": 0}
    rejected: set[str | None] = set()

    def report(finding: Finding) -> None:
        if finding.level is Level.ERROR:
            unit = (finding.location or "").split(": ", 1)[0] or finding.record_id
            if unit not in rejected:
                rejected.add(unit)
                counts["rejected"] += 1
        else:
            counts["warnings"] += 1
        if json:
            sys.stdout.write(orjson.dumps({"type": "finding", **finding.to_json()}).decode() + "\n")
        else:
            sys.stdout.write(f"{finding.level.value:<7} {finding.describe()}\n")

    def records(items: Iterator[MdsRecord | Finding]) -> Iterator[MdsRecord]:
        for item in items:
            if isinstance(item, Finding):
                report(item)
            else:
                counts["read"] += 1
                yield item

    try:
        with Puller(base, token, max_wait=max_wait) as puller, output.open("wb") as sink:
            written = write(out_fmt, records(pull_records(base, patients=patient or (),
                                                          puller=puller)),
                            sink, bundle=bundle)  # type: ignore[arg-type]  # fmt: skip
    except SourceError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    summary = {"read": counts["read"], "written": written, "rejected": counts["rejected"],
               "warnings": counts["warnings"], "to": out_fmt}  # fmt: skip
    if json:
        sys.stdout.write(orjson.dumps({"type": "summary", **summary}).decode() + "\n")
    else:
        typer.echo(f"{counts['read']} records read from {base}: {written} written to {output} "
                   f"({out_fmt}), {counts['rejected']} rejected", err=True)  # fmt: skip
    raise typer.Exit(1 if counts["rejected"] else 0)


def register(app: typer.Typer) -> None:
    app.command()(pull)
