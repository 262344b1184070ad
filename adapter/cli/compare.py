"""`mds-adapter compare EXPECTED ACTUAL`: two MDS JSON Lines files, record by record.

What a data team runs after a round trip (load, then `export --from cdm`): did anything change
that docs/omop-loss.md does not declare? With `--omop-losses` the declared losses are applied
to EXPECTED first (a regimen longer than OMOP's 60 characters comes back cut), so the answer
is "equal up to the declared losses" or the list of elements that differ, with counts and the
first record ids. Exit 0 when equal, 1 when not, 2 when a file cannot be read.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from adapter.errors import Finding
from adapter.mds.record import MdsRecord
from adapter.omop.losses import as_exported
from adapter.sources.jsonl import read_jsonl

__all__ = ["compare", "register"]

_SHOWN = 3


def _records(path: Path) -> list[MdsRecord]:
    try:
        with path.open("rb") as f:
            found = list(read_jsonl(f))
    except OSError as e:
        typer.echo(f"error: cannot read {path}: {e.strerror or e}", err=True)
        raise typer.Exit(2) from None
    bad = [item for item in found if isinstance(item, Finding)]
    if bad:
        typer.echo(f"error: {path}: {bad[0].describe()}", err=True)
        raise typer.Exit(2)
    return [item for item in found if isinstance(item, MdsRecord)]


def compare(
    expected: Annotated[Path, typer.Argument(help="MDS JSON Lines: what went in.")],
    actual: Annotated[Path, typer.Argument(help="MDS JSON Lines: what came back.")],
    omop_losses: Annotated[
        bool,
        typer.Option("--omop-losses", help="Apply docs/omop-loss.md's losses to EXPECTED first."),
    ] = False,
) -> None:
    """Compare two MDS JSON Lines files record by record (keyed by institution and record id)."""
    want = {(r.institution, r.record_id): r for r in _records(expected)}
    got = {(r.institution, r.record_id): r for r in _records(actual)}
    lost_by_design: Counter[str] = Counter()
    differ: dict[str, list[str]] = {}
    for key, record in want.items():
        back = got.get(key)
        if back is None:
            differ.setdefault("(missing record)", []).append(record.record_id)
            continue
        target = as_exported(record) if omop_losses else record
        for name in MdsRecord.model_fields:
            if getattr(target, name) != getattr(back, name):
                differ.setdefault(name, []).append(record.record_id)
            elif getattr(record, name) != getattr(back, name):
                lost_by_design[name] += 1
    for key in got.keys() - want.keys():
        differ.setdefault("(unexpected record)", []).append(key[1])
    for name, ids in sorted(differ.items()):
        shown = ", ".join(ids[:_SHOWN]) + (
            f", … {len(ids) - _SHOWN} more" if len(ids) > _SHOWN else ""
        )
        typer.echo(f"differs  {name}: {len(ids)} records ({shown})")
    declared = "; ".join(f"{n} {name}" for name, n in sorted(lost_by_design.items()))
    if differ:
        typer.echo(f"{len(want)} records: {sum(map(len, differ.values()))} differences")
        raise typer.Exit(1)
    suffix = f" up to the declared OMOP losses ({declared})" if declared else ""
    typer.echo(f"{len(want)} records: equal{suffix}")


def register(app: typer.Typer) -> None:
    app.command()(compare)
