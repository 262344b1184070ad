"""`mds-adapter load`: MDS records into the OMOP database (`export` takes them out: export.py).

Loads go through the record store (docs/adr/0004): new and changed records are mapped,
unchanged ones skipped. `load` reads MDS JSON Lines, FHIR (NDJSON of Bundles or resources, or
one Bundle in a .json file) or the IDEA4RC normalised table, told apart by content as
`convert` does.
"""

from __future__ import annotations

import io
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from sqlalchemy.exc import OperationalError, ProgrammingError

from adapter.config import settings
from adapter.errors import ConfigurationError, Finding, SourceError
from adapter.progress import CountingReader, progress
from adapter.stores.incoming import (
    Incoming,
    Tombstone,
    input_kind,
    read_fhir_incoming,
    read_incoming,
)
from adapter.stores.load import CHUNK_SIZE, load_records
from adapter.stores.omop_db import engine_for
from adapter.stores.pseudonym import pseudonymiser_from_settings

__all__ = ["DbOption", "load", "register", "reported"]

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="SQLAlchemy URL [default: MDS_ADAPTER_DB_URL, else sqlite:///omop.sqlite]",
        show_default=False,
    ),
]


def _deletions(ids: list[str], institution: str | None) -> Iterator[Incoming]:
    for record_id in ids:
        raw = orjson.dumps({"record_id": record_id, "institution": institution, "_deleted": True})
        yield Incoming("--delete", raw, Tombstone(record_id, institution))


def _fail(message: str, exc: Exception) -> typer.Exit:
    """Exit 2 (the command could not run) with the reason on stderr."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


@contextmanager
def reported() -> Iterator[None]:
    """Set-up and database failures end the command with exit 2 and the reason, no traceback."""
    try:
        yield
    except (ConfigurationError, SourceError) as exc:
        raise _fail(str(exc), exc) from exc
    except (OperationalError, ProgrammingError) as exc:
        raise _fail(
            f"cannot use the database (run `mds-adapter db init`?): {exc.orig}", exc
        ) from exc


@contextmanager
def _stopped_by_sigterm() -> Iterator[None]:
    """SIGTERM (a service manager, `kill`) stops the load as Ctrl-C does: between statements,
    with the run marked interrupted and the committed chunks kept; then one line, exit 143
    (130 for Ctrl-C), no traceback. A re-run of the same command goes on where it stopped."""

    def stop(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, stop) if main else None
    try:
        yield
    except (KeyboardInterrupt, SystemExit) as exc:
        code = exc.code if isinstance(exc, SystemExit) and isinstance(exc.code, int) else 130
        typer.echo("load interrupted: the chunks committed so far are kept and the run is marked "
                   "interrupted; run the same command again to finish", err=True)  # fmt: skip
        raise typer.Exit(code) from None
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous)


def load(
    file: Annotated[
        Path | None,
        typer.Argument(
            exists=True,
            dir_okay=False,
            help="MDS JSON Lines (records, tombstones), FHIR (NDJSON, or one Bundle in .json) "
            "or an IDEA4RC normalised table",
        ),
    ] = None,
    db: DbOption = None,
    delete: Annotated[
        list[str] | None,
        typer.Option("--delete", help="Delete the record with this id (repeatable)."),
    ] = None,
    institution: Annotated[
        str | None, typer.Option(help="The institution of the --delete ids, when ambiguous.")
    ] = None,
    chunk_size: Annotated[int, typer.Option(min=1, help="Records per transaction.")] = CHUNK_SIZE,
    json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
    profiles: Annotated[
        str, typer.Option("--profiles", help="FHIR input: profile errors warn, reject or off.")
    ] = "warn",
) -> None:
    """Load MDS records (JSON Lines, FHIR, IDEA4RC table) into OMOP; re-loading changes nothing.

    A line {"record_id": "X", "_deleted": true} (optionally with "institution") deletes a
    record, as does --delete X. Rejected lines go to the quarantine with their reasons; the
    exit code is 1 when anything was rejected. Needs MDS_ADAPTER_PSEUDONYM_KEY.
    """
    if file is None and not delete:
        raise typer.BadParameter("give a FILE to load, or --delete IDS")
    if profiles not in ("warn", "reject", "off"):
        raise typer.BadParameter(f"--profiles {profiles}: expected warn, reject or off")
    kind = None
    if file is not None:
        with file.open("rb") as f:
            kind = input_kind(file, f.read(4096))
        if kind is None:
            raise typer.BadParameter(
                f"{file.name}: load reads MDS JSON Lines or FHIR (or an IDEA4RC table); "
                "`mds-adapter convert` the file to MDS JSON Lines first"
            )
    warnings: list[Finding] = []
    with reported():
        pseudonym = pseudonymiser_from_settings()
        with engine_for(db or settings().db_url) as engine, ExitStack() as stack:
            items: list[Iterator[Incoming]] = []
            if file is not None:
                raw = stack.enter_context(file.open("rb"))
                bar, task = stack.enter_context(
                    progress("load", file.stat().st_size, in_bytes=True)
                )
                stream = io.BufferedReader(CountingReader(raw, bar, task), buffer_size=1 << 16)
                if kind != "jsonl":
                    items.append(read_fhir_incoming(stream, kind, profiles=profiles,  # type: ignore[arg-type]
                                                    on_warning=warnings.append))  # fmt: skip
                else:
                    items.append(read_incoming(stream))
            items.append(_deletions(delete or [], institution))
            with _stopped_by_sigterm():
                report = load_records(
                    engine,
                    (i for part in items for i in part),
                    pseudonym=pseudonym,
                    source=str(file) if file is not None else "--delete",
                    chunk_size=chunk_size,
                )
    counts = report.counts()
    rate = (counts["loaded"] + counts["updated"] + counts["unchanged"]) / max(report.seconds, 1e-9)
    unmapped = report.unmapped.total()
    if json:
        out = {"run_id": report.run_id, **counts, "rows": report.rows, "unmapped": unmapped,
               "warnings": len(warnings), "seconds": round(report.seconds, 3)}  # fmt: skip
        sys.stdout.write(orjson.dumps(out).decode() + "\n")
    else:
        summary = ", ".join(f"{k} {v}" for k, v in counts.items())
        typer.echo(f"run {report.run_id}: {summary}; {report.rows} CDM rows written "
                   f"({report.seconds:.1f} s, {rate:,.0f} records/s)")  # fmt: skip
        if unmapped:
            typer.echo(f"{unmapped} codes without a concept in the loaded vocabulary were "
                       "written with their source value: as concept 0 (diagnoses) or as "
                       "observations (staging); see the run's details", err=True)  # fmt: skip
        for w in warnings[:5]:
            typer.echo(f"{w.level.value}: {w.describe()}", err=True)
        if len(warnings) > 5:
            typer.echo(f"… {len(warnings) - 5} more reading warnings", err=True)
        if report.rejected:
            typer.echo("rejected input is in the quarantine with its reasons", err=True)
    raise typer.Exit(1 if report.rejected else 0)


def register(app: typer.Typer) -> None:
    app.command()(load)
