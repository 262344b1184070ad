"""Generate the record model and docs/mds.md from the data dictionary.

    python -m adapter.mds.gen          # write adapter/mds/record.py and docs/mds.md
    python -m adapter.mds.gen --check  # exit 1 if either differs from what would be written

The generated texts are also compared by tests/unit/test_dictionary.py, so a dictionary edit
that is not regenerated fails CI.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from adapter.mds.dictionary import DICTIONARY_FILE, Element, elements, terminology_dir

__all__ = ["alias_name", "annotation", "render_docs", "render_record", "write_all"]

ROOT = Path(__file__).resolve().parents[2]
RECORD_PY = ROOT / "adapter" / "mds" / "record.py"
DOCS_MD = ROOT / "docs" / "mds.md"

# Open code systems: any well-formed code is a valid value; the rules judge scope.
OPEN_CODES = {
    "institution_country": "CountryCode",
    "primary_site_icdo3": "Topography",
    "histology_icdo3": "Morphology",
}
# Numbers: the bound is part of the element's meaning (a size is > 0 cm, a percentage ≤ 100)
# or of plausibility (a size of 0.01-500 cm, 1-1000 fractions; adapter/mds/types.py says why).
NUMBERS = {
    "age_at_diagnosis": "Age",
    "radiotherapy_fractions": "Fractions",
    "tumour_size_cm": "TumourSize",
    "radiotherapy_total_dose_gy": "Positive",
    "percent_necrosis_post_neoadjuvant": "Percent",
}
SCALARS = {"string": "Text", "date": "dt.date", "partial_date": "PartialDate"}


def alias_name(e: Element) -> str:
    return "".join(part.capitalize() for part in e.name.split("_"))


def annotation(e: Element) -> str:
    """The Python type of one element, as written in record.py."""
    if e.type in SCALARS:
        return SCALARS[e.type]
    if e.type in ("integer", "decimal"):
        return NUMBERS[e.name]
    if e.type == "code":
        return OPEN_CODES[e.name] if e.name in OPEN_CODES else alias_name(e)
    return f"Annotated[list[{alias_name(e)}], Field(min_length=1), UniqueList]"


def _literal(name: str, codes: tuple[str, ...]) -> str:
    quoted = [f'"{c}"' for c in codes]
    one_line = f"{name} = Literal[{', '.join(quoted)}]"
    if len(one_line) <= 100:
        return one_line
    inner = "".join(f"    {q},\n" for q in quoted)
    return f"{name} = Literal[\n{inner}]"


def _digest() -> str:
    return hashlib.sha256((terminology_dir() / DICTIONARY_FILE).read_bytes()).hexdigest()[:16]


def render_record() -> str:
    els = elements()
    aliases = [e for e in els if e.type in ("code", "code_list") and e.name not in OPEN_CODES]
    types_used = sorted(
        {
            annotation(e)
            for e in els
            if e.type not in ("code", "code_list") and "." not in annotation(e)
        }
        | {OPEN_CODES[e.name] for e in els if e.name in OPEN_CODES}
        | {"MdsBase", "UniqueList", "element_field"}
    )
    out = [
        '"""The MDS record: one patient-tumour record, one field per data dictionary element.',
        "",
        "Generated from terminology/mds-dictionary.tsv by `python -m adapter.mds.gen`; "
        "do not edit.",
        f"Dictionary sha256 prefix: {_digest()}. Each field carries its definition, group, level",
        "and unit (see `MdsRecord.model_fields`); an absent element is None (not recorded).",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "import datetime as dt",
        "from typing import Annotated, Literal",
        "",
        "from pydantic import Field",
        "",
        "from adapter.mds.types import (",
        *[f"    {t}," for t in types_used],
        ")",
        "",
        "__all__ = [",
        *[f'    "{n}",' for n in sorted([alias_name(e) for e in aliases] + ["MdsRecord"])],
        "]",
        "",
        *[_literal(alias_name(e), e.codes) for e in aliases],
        "",
        "",
        "class MdsRecord(MdsBase):",
        '    """One sarcoma MDS record: a patient and one primary tumour."""',
        "",
    ]
    for e in els:
        if e.name == "record_id":
            out.append(f'    {e.name}: {annotation(e)} = element_field("{e.name}", required=True)')
        else:
            line = f'    {e.name}: {annotation(e)} | None = element_field("{e.name}")'
            if len(line) > 100:  # wrap as ruff format does
                head = f"    {e.name}: {annotation(e)} | None = element_field("
                if len(head) <= 100:
                    line = f'{head}\n        "{e.name}"\n    )'
                else:
                    ann = f"        {annotation(e)} | None"
                    line = f'    {e.name}: (\n{ann}\n    ) = element_field("{e.name}")'
            out.append(line)
    return "\n".join(out) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_docs() -> str:
    els = elements()
    core = sum(e.level == "core" for e in els)
    out = [
        "# The MDS data dictionary",
        "",
        "<!-- Generated from terminology/mds-dictionary.tsv by `make docs`; do not edit. -->",
        "",
        f"{len(els)} elements: {core} core, {len(els) - core} extension. One JSON object per",
        "patient-tumour record; keys are element names; an absent key means not recorded.",
        "Types: `code` is one of the allowed codes as written; `code_list` a JSON array of codes;",
        "`date` is `YYYY-MM-DD`; `partial_date` is `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; numbers are",
        "JSON numbers in the unit shown.",
    ]
    for group in dict.fromkeys(e.group for e in els):
        out += ["", f"## {group.capitalize()}", ""]
        out += ["| element | level | type | unit | allowed values | definition |"]
        out += ["|---|---|---|---|---|---|"]
        for e in (e for e in els if e.group == group):
            allowed = ", ".join(f"`{c}`" for c in e.codes)
            if e.codes_note:
                allowed = f"{allowed} {e.codes_note}".strip()
            row = [f"`{e.name}`", e.level, e.type, e.unit, allowed, e.definition]
            out.append("| " + " | ".join(_cell(c) for c in row) + " |")
    return "\n".join(out) + "\n"


def write_all(check: bool = False) -> list[Path]:
    """Write the generated files; with check=True, only list those that differ."""
    stale = []
    for path, text in ((RECORD_PY, render_record()), (DOCS_MD, render_docs())):
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(path)
            if not check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
    return stale


if __name__ == "__main__":
    check = "--check" in sys.argv[1:]
    changed = write_all(check=check)
    for p in changed:
        print(f"{'stale' if check else 'wrote'}: {p.relative_to(ROOT)}")
    sys.exit(1 if check and changed else 0)
