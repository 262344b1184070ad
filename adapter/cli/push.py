"""`mds-adapter push IN --to URL`: records of any input format to a FHIR server, one Bundle each.

The input is read as `convert` reads it (format from --from, else from the extension and the
first bytes); each record becomes its transaction Bundle (adapter.fhir.to_fhir) and is POSTed
to the FHIR base URL by adapter/stores/fhir_push.py: at most --in-flight at once, 429/5xx and
connection errors retried with back-off, and a state file (--state) so that a re-run sends
only what was not accepted yet, or has changed since.

Output: one line per Bundle (accepted / rejected / failed / skipped / invalid, the record id,
the HTTP status, the receipt id, the issues), or JSON Lines with --json, then a summary.
Exit codes: 0 every Bundle accepted or skipped; 1 some Bundle was rejected, failed after its
retries, or could not be read; 2 the push could not run (unreadable input, bad options, or the
server refused the token: 401/403 stop the push at once).
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import orjson
import typer

from adapter.errors import Finding, Level, SourceError
from adapter.sources.formats import FORMATS, FormatName, guess_format, read
from adapter.stores.fhir_push import Outcome, PushAuthError, PushState, ToPush, push

__all__ = ["push_command", "register"]

TOKEN_ENV = "MDS_ADAPTER_PUSH_TOKEN"


def _items(source: Path, fmt: FormatName) -> Iterator[ToPush]:
    from adapter.fhir import to_fhir
    from adapter.fhir.bundle import dumps
    from adapter.terminology import Terminology

    terminology = Terminology.load()
    with source.open("rb") as stream:
        for item in read(fmt, stream):
            if isinstance(item, Finding):
                if item.level is Level.ERROR:
                    where = item.location or item.record_id or "?"
                    yield ToPush(where, item.record_id, None, item.describe())
                continue
            key = f"{item.institution or ''}|{item.record_id}"
            yield ToPush(key, item.record_id, dumps(to_fhir(item, terminology)))


def _line(o: Outcome) -> str:
    issues = "; ".join(o.issues)
    return (f"{o.status:<9} {o.record_id or o.key} {o.http_status or '-'} {o.receipt or '-'}"
            f"{' ' + issues if issues else ''}")  # fmt: skip


def push_command(
    source: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Input file.")],
    to: Annotated[str, typer.Option("--to", help="The FHIR base URL, e.g. http://host/fhir.")],
    token: Annotated[
        str | None,
        typer.Option("--token", help=f"Bearer token [default: {TOKEN_ENV}]", show_default=False),
    ] = None,
    in_flight: Annotated[
        int, typer.Option("--in-flight", min=1, max=64, help="Bundles on the wire at once.")
    ] = 4,
    state: Annotated[
        Path, typer.Option("--state", dir_okay=False, help="Accepted Bundles (resume file).")
    ] = Path("push-state.jsonl"),
    from_: Annotated[
        str | None, typer.Option("--from", help=f"Input format: {', '.join(FORMATS)}.")
    ] = None,
    json: Annotated[
        bool, typer.Option("--json", help="JSON Lines: one per Bundle, then a summary.")
    ] = False,
) -> None:
    """Post each record as a transaction Bundle to a FHIR server; re-runs resume."""
    import os

    if from_ is not None and from_ not in FORMATS:
        raise typer.BadParameter(f"--from {from_}: expected one of {', '.join(FORMATS)}")
    with source.open("rb") as f:
        fmt = from_ or guess_format(source, f.read(4096))
    if fmt is None:
        raise typer.BadParameter(f"cannot tell the format of {source}: use --from")
    found = PushState(state)
    counts: Counter[str] = Counter()
    try:
        for outcome in push(_items(source, fmt), to, token=token or os.environ.get(TOKEN_ENV),
                            in_flight=in_flight, state=found):  # fmt: skip
            counts[outcome.status] += 1
            counts["sent"] += outcome.attempts > 0
            if json:
                sys.stdout.write(orjson.dumps({"type": "bundle", **outcome.to_json()}).decode()
                                 + "\n")  # fmt: skip
            else:
                sys.stdout.write(_line(outcome) + "\n")
            sys.stdout.flush()
    except PushAuthError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    except SourceError as exc:
        typer.echo(f"error: {source}: {exc}", err=True)
        raise typer.Exit(2) from exc
    finally:
        found.close()
    names = ("sent", "accepted", "rejected", "failed", "skipped", "invalid")
    summary = {k: counts[k] for k in names}
    if json:
        sys.stdout.write(orjson.dumps({"type": "summary", **summary}).decode() + "\n")
    else:
        typer.echo(f"{sum(counts[k] for k in names[1:])} records from {source} ({fmt}) to {to}: "
                   + ", ".join(f"{v} {k}" for k, v in summary.items()), err=True)  # fmt: skip
    bad = counts["rejected"] + counts["failed"] + counts["invalid"]
    raise typer.Exit(1 if bad else 0)


def register(app: typer.Typer) -> None:
    app.command("push")(push_command)
