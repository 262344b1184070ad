"""`mds-adapter db check`: the DQD v2 checks and the clinical ones, as a table or JSON Lines.

Exit codes, as for the other commands: 0 every check passed (or was not applicable); 1 a check
failed or could not run its SQL (a known failure counts unless --allow-known); 2 the database
is missing, unreachable or not initialised, or an option is wrong: one line on stderr.
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import DBAPIError

from adapter.config import settings
from adapter.errors import ConfigurationError
from adapter.quality.model import Result, Status
from adapter.quality.runner import Report, run_checks

__all__ = ["check", "result_json", "summary_json", "summary_line"]

_PIPED_WIDTH = 160


def _label(result: Result) -> str:
    if result.status == Status.FAIL and result.known is not None:
        return f"known ({result.known.cause})"
    return result.status.value


def result_json(result: Result) -> dict[str, Any]:
    """One check as the JSON object `--json` prints (one a line)."""
    c = result.check
    return {
        "check": c.name,
        "level": c.level,
        "table": c.table,
        "field": c.field,
        "status": result.status.value,
        "violating": result.violating,
        "denominator": result.denominator,
        "pct": None if result.pct is None else round(result.pct * 100, 4),
        "threshold": c.threshold,
        "known": None
        if result.known is None
        else {"cause": result.known.cause, "reason": result.known.reason},
        "note": result.note,
        "description": c.description,
    }


def _counts(report: Report) -> dict[str, int]:
    results = report.results
    return {
        "checks": len(results),
        "dqd": sum(r.check.level != "clinical" for r in results),
        "clinical": sum(r.check.level == "clinical" for r in results),
        "passed": report.count(Status.PASS),
        "failed": report.count(Status.FAIL),
        "known": report.known_failures,
        "not_applicable": report.count(Status.NOT_APPLICABLE),
        "errors": report.count(Status.ERROR),
    }


def summary_json(report: Report, exit_code: int) -> dict[str, Any]:
    """The last line of `--json`: the counts, the dialect and the exit code."""
    return {"summary": True, "dialect": report.dialect, **_counts(report), "exit": exit_code}


def summary_line(report: Report) -> str:
    n = _counts(report)
    known = f" ({n['known']} known)" if n["known"] else ""
    return (
        f"{n['checks']} checks ({n['dqd']} DQD v2, {n['clinical']} clinical) on "
        f"{report.dialect}: {n['passed']} passed, {n['failed']} failed{known}, "
        f"{n['not_applicable']} not applicable, {n['errors']} errors"
    )


def _table(results: list[Result]) -> Table:
    table = Table(title=None, show_lines=False)
    for name, justify in (("check", "left"), ("table.field", "left"), ("violating", "right"),
                          ("denominator", "right"), ("pct", "right"), ("threshold", "right"),
                          ("result", "left")):  # fmt: skip
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for r in results:
        pct = "" if r.pct is None else f"{r.pct * 100:.2f}%"
        table.add_row(
            r.check.name,
            r.check.where,
            "" if r.violating is None else f"{r.violating:,}",
            "" if r.denominator is None else f"{r.denominator:,}",
            pct,
            f"{r.check.threshold:g}%",
            _label(r) + (f": {r.note}" if r.status == Status.ERROR else ""),
        )
    return table


def _print(report: Report, show_all: bool) -> None:
    shown = [r for r in report.results if show_all or r.status in (Status.FAIL, Status.ERROR)]
    console = Console(soft_wrap=False)
    if not console.is_terminal:  # a file or a pipe: no terminal width to fit, keep rows whole
        console = Console(soft_wrap=False, width=_PIPED_WIDTH)
    if shown:
        console.print(_table(shown))
    for r in shown:
        if r.known is not None:
            console.print(f"known: {r.check.key}: {r.known.reason}", highlight=False)
    console.print(summary_line(report), highlight=False)


def check(
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="SQLAlchemy URL [default: MDS_ADAPTER_DB_URL, else sqlite:///omop.sqlite]",
            show_default=False,
        ),
    ] = None,
    json: Annotated[
        bool, typer.Option("--json", help="JSON Lines: one object per check, then a summary.")
    ] = False,
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only",
            help="Run only this check: a name (isRequired), name:table or name:table.field "
            "(repeatable, or comma-separated).",
        ),
    ] = None,
    allow_known: Annotated[
        bool,
        typer.Option("--allow-known", help="Known failures (see docs/data-quality.md) pass."),
    ] = False,
    show_all: Annotated[
        bool, typer.Option("--all", help="List every check in the table, not only failures.")
    ] = False,
) -> None:
    """Run the OHDSI DQD v2 checks for CDM v5.4 and the clinical plausibility checks.

    Thresholds come from the DQD's CSVs; a check on an empty table is not applicable. The table
    lists the failed checks (--all: every check); --json prints every check. Exit 1 when a
    check fails (known failures too, unless --allow-known), 2 when the database cannot be used.
    """
    try:
        names = [name for value in only or () for name in value.split(",") if name]
        report = run_checks(db or settings().db_url, only=names)
    except ConfigurationError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    except DBAPIError as exc:
        reason = " ".join(str(exc.orig).split())
        typer.echo(f"error: cannot use the database: {reason}", err=True)
        raise typer.Exit(2) from exc
    code = 1 if report.failed(allow_known=allow_known) else 0
    if json:
        for r in report.results:
            sys.stdout.write(orjson.dumps(result_json(r)).decode() + "\n")
        sys.stdout.write(orjson.dumps(summary_json(report, code)).decode() + "\n")
    else:
        _print(report, show_all)
    raise typer.Exit(code)
