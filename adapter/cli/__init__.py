"""The `mds-adapter` command line: thin wrappers over the Python API, one module per group.

Exit codes: 0 all good; 1 some record was rejected or has an error-level finding; 2 the command
could not run (bad options, unreadable file).
"""

from __future__ import annotations

import typer

from adapter.cli import (
    compare,
    convert,
    db,
    export,
    forms,
    load,
    pull,
    push,
    records,
    serve,
    terminology,
)

__all__ = ["app", "main"]

app = typer.Typer(
    name="mds-adapter",
    help="Sarcoma Minimal Data Set adapter: generate, check and convert MDS records.",
    no_args_is_help=True,
    add_completion=False,
)
records.register(app)
db.register(app)
app.add_typer(terminology.app, name="terminology")
terminology.register(app)
convert.register(app)
compare.register(app)
forms.register(app)
load.register(app)
export.register(app)
serve.register(app)
pull.register(app)
push.register(app)


def main() -> None:
    app()
