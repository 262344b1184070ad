"""`mds-adapter db init` and `db check`: create the OMOP CDM v5.4 database and load a
vocabulary into it; check its data quality (adapter/cli/db_check.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.exc import OperationalError

from adapter.cli import db_check
from adapter.config import settings
from adapter.errors import ConfigurationError, SourceError
from adapter.stores.omop_db import (
    bundled_vocabulary,
    concept_count,
    connect,
    init_db,
    load_vocabulary,
)

__all__ = ["init", "register"]

db_app = typer.Typer(
    name="db",
    help="The OMOP CDM v5.4 database (SQLite or PostgreSQL).",
    no_args_is_help=True,
)


@db_app.command()
def init(
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="SQLAlchemy URL, e.g. sqlite:///omop.sqlite or "
            "postgresql+psycopg://postgres@127.0.0.1:5432/omop "
            "[default: MDS_ADAPTER_DB_URL, else sqlite:///omop.sqlite]",
            show_default=False,
        ),
    ] = None,
    athena: Annotated[
        Path | None,
        typer.Option(
            "--athena",
            help="Load this Athena download (its zip, or the folder holding CONCEPT.csv at any "
            "depth) instead of the bundled subset, replacing any vocabulary already loaded.",
        ),
    ] = None,
    no_vocab: Annotated[
        bool, typer.Option("--no-vocab", help="Create the tables only; load no vocabulary.")
    ] = False,
) -> None:
    """Create the schema from the official OHDSI DDL and load the vocabulary; safe to re-run.

    Without --athena the bundled concept subset (terminology/vocab/) is loaded when the
    database has no vocabulary yet; a vocabulary already there is left alone.
    """
    if athena is not None and no_vocab:
        raise typer.BadParameter("--athena and --no-vocab exclude each other")
    engine = None
    try:
        engine = connect(db or settings().db_url)
        shown = engine.url.render_as_string(hide_password=True)
        report = init_db(engine)
        if report.created:
            typer.echo(f"{shown}: created {len(report.created)} tables ({report.dialect})")
        if report.existing:
            typer.echo(f"{shown}: {len(report.existing)} tables were already there, kept")
        if no_vocab:
            return
        if athena is None:
            loaded = concept_count(engine)
            if loaded:
                typer.echo(
                    f"vocabulary already loaded ({loaded} concepts), kept; --athena DIR replaces it"
                )
                return
        result = load_vocabulary(engine, athena or bundled_vocabulary())
        counts = ", ".join(f"{table} {n}" for table, n in result.counts.items())
        version = f" ({result.vocabulary_version})" if result.vocabulary_version else ""
        typer.echo(f"vocabulary from {result.source}{version}: {counts}")
    except (ConfigurationError, SourceError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    except OperationalError as exc:
        typer.echo(f"error: cannot use the database: {exc.orig}", err=True)
        raise typer.Exit(2) from exc
    finally:
        if engine is not None:
            engine.dispose()


db_app.command("check")(db_check.check)


def register(app: typer.Typer) -> None:
    app.add_typer(db_app)
