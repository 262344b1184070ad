"""`mds-adapter redcap dictionary` and `mds-adapter excel template`: forms for data entry.

A centre creates its MDS project in REDCap by uploading the data dictionary, or fills the Excel
form; `mds-adapter convert` reads what comes back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from adapter.sources.excel_form import write_xlsx
from adapter.sources.redcap_dictionary import write_redcap_dictionary

__all__ = ["dictionary", "excel_app", "redcap_app", "register", "template"]

redcap_app = typer.Typer(help="REDCap: the MDS project's data dictionary.", no_args_is_help=True)
excel_app = typer.Typer(help="Excel: the MDS form.", no_args_is_help=True)


@redcap_app.callback()
def _redcap() -> None:
    """REDCap: the MDS project's data dictionary."""


@excel_app.callback()
def _excel() -> None:
    """Excel: the MDS form."""


@redcap_app.command()
def dictionary(
    output: Annotated[Path, typer.Option("-o", "--output", help="CSV file to write.")] = Path(
        "mds_redcap_dictionary.csv"
    ),
) -> None:
    """Write the REDCap data dictionary of the MDS (upload it in Project Setup)."""
    with output.open("w", encoding="utf-8", newline="") as out:
        n = write_redcap_dictionary(out)
    typer.echo(f"wrote {n} REDCap fields to {output}", err=True)


@excel_app.command()
def template(
    output: Annotated[Path, typer.Option("-o", "--output", help=".xlsx file to write.")] = Path(
        "mds_form.xlsx"
    ),
) -> None:
    """Write the empty MDS Excel form (drop-downs, date and number cells, a dictionary sheet)."""
    with output.open("wb") as out:
        write_xlsx([], out)
    typer.echo(f"wrote the MDS form to {output}", err=True)


def register(app: typer.Typer) -> None:
    app.add_typer(redcap_app, name="redcap")
    app.add_typer(excel_app, name="excel")
