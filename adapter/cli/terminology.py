"""`mds-adapter terminology …`: check the maps, translate and look up codes (thin wrappers).

Also the terminology loop (docs/terminology.md): `terminology worklist` writes the unmapped
codes the loads met as a Usagi import file, `terminology import` takes Usagi's reviewed export
into the maps, `mds-adapter remap` re-derives the affected records; `terminology fhir`
regenerates the FHIR resources of the maps.

A system may be given as a URL or, for the MDS local code systems, as the element name
(`surgical_margin_r`); `athena` stands for http://fhir.ohdsi.org/CodeSystem/concepts.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from adapter.errors import ConfigurationError, Level, SourceError
from adapter.terminology.check import check as run_checks
from adapter.terminology.check import summary
from adapter.terminology.fhir_resources import write_concept_maps
from adapter.terminology.maps import MDS_CODESYSTEM_BASE, load, mds_system
from adapter.terminology.service import Terminology
from adapter.terminology.usagi import import_reviewed as run_import
from adapter.terminology.usagi import read_export, write_worklist

__all__ = [
    "app",
    "check",
    "fhir",
    "import_reviewed",
    "lookup",
    "register",
    "remap",
    "translate",
    "validate_code",
    "worklist",
]

app = typer.Typer(
    name="terminology",
    help="Code maps and concepts: check them, translate and look up codes.",
    no_args_is_help=True,
)

ALIASES = {
    "athena": "http://fhir.ohdsi.org/CodeSystem/concepts",
    "omop": "http://fhir.ohdsi.org/CodeSystem/concepts",
    "snomed": "http://snomed.info/sct",
    "icdo3-condition": MDS_CODESYSTEM_BASE + "icdo3-condition",
}

DirOption = Annotated[
    Path | None,
    typer.Option("--dir", help="A terminology/ folder (default: the project's)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="JSON output for machines.")]


def _system(name: str) -> str:
    if "://" in name:
        return name
    return ALIASES.get(name.lower(), mds_system(name))


def _service(directory: Path | None) -> Terminology:
    try:
        return Terminology.load(directory)
    except SourceError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc


def _emit(obj: Any) -> None:
    sys.stdout.write(orjson.dumps(obj).decode() + "\n")


@app.command()
def check(
    directory: DirOption = None,
    json: JsonOption = False,
    info: Annotated[bool, typer.Option("--info", help="Also print info findings.")] = False,
) -> None:
    """Validate the maps against the concepts, the MDS dictionary and the known conflicts."""
    try:
        data = load(directory)
    except SourceError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    findings = list(run_checks(data))
    counts = summary(findings)
    for f in findings:
        if json:
            _emit({"type": "finding", **f.to_json()})
        elif info or f.level is not Level.INFO:
            sys.stdout.write(f"{f.level.value:<7} {f.describe()}\n")
    maps = len(data.maps)
    if json:
        _emit({"type": "summary", "maps": maps, "rows": len(data.rows), **counts})
    else:
        sys.stdout.write(
            f"{maps} maps, {len(data.rows)} rows, {len(data.concepts)} concepts: "
            f"{counts['error']} errors, {counts['warning']} warnings, {counts['info']} info\n"
        )
    raise typer.Exit(1 if counts["error"] else 0)


@app.command()
def translate(
    system: Annotated[str, typer.Argument(help="Source system URL or MDS element name.")],
    code: Annotated[str, typer.Argument(help="The code to translate.")],
    target: Annotated[str | None, typer.Option("--target", help="Target system.")] = None,
    reverse: Annotated[bool, typer.Option("--reverse", help="Read a target code back.")] = False,
    directory: DirOption = None,
    json: JsonOption = False,
) -> None:
    """Translate one code ($translate); exit 1 when nothing matches."""
    service = _service(directory)
    source = _system(system)
    found = service.translate(source, code, _system(target) if target else None, reverse=reverse)
    for t in found:
        if json:
            _emit({"system": t.system, "code": t.code, "display": t.display,
                   "equivalence": t.equivalence, "omop_concept_id": t.omop_concept_id,
                   "map": t.map, "comment": t.comment})  # fmt: skip
        else:
            omop = f"  omop {t.omop_concept_id}" if t.omop_concept_id is not None else ""
            sys.stdout.write(f"{t.equivalence:<11} {t.system}#{t.code} {t.display!r}{omop}\n")
    if not found:
        why = "; ".join(r.comment for r in service.unmatched(source, code) if r.comment)
        typer.echo(f"no match for {source}#{code}" + (f": {why}" if why else ""), err=True)
        raise typer.Exit(1)


@app.command()
def lookup(
    system: Annotated[str, typer.Argument(help="System URL, MDS element name or 'athena'.")],
    code: Annotated[str, typer.Argument(help="The code to look up.")],
    directory: DirOption = None,
    json: JsonOption = False,
) -> None:
    """Display and properties of one code ($lookup); exit 1 when unknown."""
    found = _service(directory).lookup(_system(system), code)
    if found is None:
        typer.echo(f"unknown code {_system(system)}#{code}", err=True)
        raise typer.Exit(1)
    if json:
        _emit({"system": found.system, "code": found.code, "display": found.display,
               "properties": dict(found.properties)})  # fmt: skip
    else:
        sys.stdout.write(f"{found.display}\n")
        for key, value in found.properties.items():
            sys.stdout.write(f"  {key}: {value}\n")


@app.command("validate-code")
def validate_code(
    value_set: Annotated[str, typer.Argument(help="MDS element name or its ValueSet URL.")],
    system: Annotated[str, typer.Argument(help="System URL, MDS element name or 'athena'.")],
    code: Annotated[str, typer.Argument(help="The code to validate.")],
    directory: DirOption = None,
) -> None:
    """Is a coding in an element's value set ($validate-code); exit 1 when not."""
    result = _service(directory).validate_code(value_set, _system(system), code)
    sys.stdout.write(("valid " + result.display if result.result else result.message) + "\n")
    raise typer.Exit(0 if result.result else 1)


DbOption = Annotated[
    str | None, typer.Option("--db", help="Database URL (default: MDS_ADAPTER_DB_URL).")
]


@app.command()
def worklist(
    output: Annotated[Path, typer.Option("-o", "--output", help="The Usagi CSV to write.")],
    db: DbOption = None,
    directory: DirOption = None,
) -> None:
    """Write the codes the maps do not cover (met in loads) as a Usagi import CSV."""
    from adapter.config import settings
    from adapter.stores.omop_db import connect
    from adapter.stores.worklist import read_worklist

    service = _service(directory)
    engine = connect(db or settings().db_url)
    try:
        with engine.connect() as conn:
            entries = read_worklist(conn, service)
    finally:
        engine.dispose()
    with output.open("w", encoding="utf-8", newline="") as out:
        n = write_worklist(entries, out, directory)
    sys.stdout.write(f"{n} unmapped codes written to {output}\n")


@app.command("import")
def import_reviewed(
    reviewed: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="Usagi's mapping export (CSV).")
    ],
    directory: DirOption = None,
) -> None:
    """Add the APPROVED rows of a Usagi export to the maps and bump their versions.

    Exit 1 when a row was refused or `terminology check` fails afterwards.
    """
    export = read_export(reviewed)
    report = run_import(export, directory)
    statuses = ", ".join(f"{k} {v}" for k, v in sorted(export.statuses.items()))
    sys.stdout.write(f"rows per status: {statuses or 'none'}\n")
    for map_name, code, concept in report.added:
        sys.stdout.write(f"added   {map_name}: {code} -> {concept}\n")
    for line, why in report.refused:
        sys.stdout.write(f"refused line {line}: {why}\n")
    for map_name, (old, new) in sorted(report.versions.items()):
        sys.stdout.write(f"version {map_name}: {old} -> {new}\n")
    errors = [f for f in run_checks(load(directory)) if f.level is Level.ERROR]
    for f in errors:
        sys.stdout.write(f"error   {f.describe()}\n")
    raise typer.Exit(1 if errors or report.refused else 0)


@app.command()
def fhir(directory: DirOption = None) -> None:
    """Regenerate terminology/fhir/ (ConceptMaps) and the local CodeSystems/ValueSets."""
    written = write_concept_maps(directory)
    if directory is None:
        from adapter.fhir.profiles import write_local_terminology

        written += write_local_terminology()
    sys.stdout.write(f"{len(written)} files written\n")


def remap(
    db: DbOption = None,
    directory: DirOption = None,
) -> None:
    """Re-map the records that use codes a reviewed import now covers (after `terminology import`).

    Only those records' OMOP rows change, keeping their ids; the run records the old and new
    map versions. Needs MDS_ADAPTER_PSEUDONYM_KEY (the key the records were loaded with).
    """
    from adapter.config import settings
    from adapter.stores.pseudonym import pseudonymiser_from_settings
    from adapter.stores.remap import remap as run_remap

    try:
        report = run_remap(db or settings().db_url, pseudonym=pseudonymiser_from_settings(),
                           terminology=_service(directory))  # fmt: skip
    except (ConfigurationError, SourceError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    sys.stdout.write(
        f"run {report.run_id}: {len(report.codes)} covered codes, "
        f"{len(report.record_ids)} records re-mapped\n"
    )
    for name, new in sorted(report.new_maps.items()):
        if report.old_maps.get(name, new) != new:
            sys.stdout.write(f"  {name}: {report.old_maps[name]} -> {new}\n")


def register(root: typer.Typer) -> None:
    """Add the top-level `remap` command (the `terminology` group is added by the caller)."""
    root.command("remap")(remap)
