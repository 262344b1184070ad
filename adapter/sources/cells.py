"""Spreadsheet formula injection: cells we write never start a formula, and read back unchanged.

A CSV opened in Excel or LibreOffice runs a cell that starts with `=`, `+`, `-` or `@` (or a tab
or carriage return, which some spreadsheets skip before one) as a formula: a registry export of
free text such as a regimen could carry `=HYPERLINK(...)` to whoever opens it. OWASP's advice
(CSV Injection) is to prefix such a cell with a single quote, which spreadsheets show as text.

To keep every value exact through our own readers, the prefix is reversible: a cell is guarded
when it starts with one of those characters, or with quotes followed by one (so a value that
itself starts with a quote before `=` gains one more quote); the readers drop exactly one
leading quote from a guarded cell. A value without a formula lead is written as it is.
"""

from __future__ import annotations

__all__ = ["FORMULA_LEADS", "guard", "unguard"]

FORMULA_LEADS = frozenset("=+-@\t\r")
_QUOTE = "'"


def _needs_guard(cell: str) -> bool:
    rest = cell.lstrip(_QUOTE)
    return bool(rest) and rest[0] in FORMULA_LEADS


def guard(cell: str) -> str:
    """The cell as written: a single quote before a formula lead (and before quoted ones)."""
    return _QUOTE + cell if _needs_guard(cell) else cell


def unguard(cell: str) -> str:
    """The value a guarded cell holds (inverse of `guard` for every string)."""
    if cell.startswith(_QUOTE) and _needs_guard(cell[1:]):
        return cell[1:]
    return cell
