"""The MDS Excel form: one record per row, written as a template and read back when filled.

Layout of the workbook `write_xlsx` makes (an empty one is the template):

- sheet "MDS": row 1 holds the element names (what the reader goes by), row 2 the labels for
  people, records from row 3. Coded elements have a drop-down (lists longer than Excel's
  255-character limit on a list formula refer to a range of the hidden sheet "lists"); dates
  are date cells formatted YYYY-MM-DD; numbers are number cells; the partial birth date is a
  text cell ("1961" stays 1961, not a number); metastasis sites are codes separated by ";".
- sheet "lists" (hidden): the codes of every coded element, one column each.
- sheet "Dictionary": the MDS dictionary, for the people filling the form.

The reader is forgiving of what people do to a form: it finds the name row among the first
ten rows of the first sheet that has one (so a title row or a removed label row do no harm),
skips the label row and blank rows, takes columns by name in any order, warns once about
columns that are not MDS elements and ignores them, and reads date cells, numbers stored as
text and whole numbers stored as decimals. Each bad row is one error naming sheet, row,
columns, elements and values.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import IO, Any, Literal

import orjson
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from pydantic import ValidationError

from adapter.errors import Finding, Level, SourceError
from adapter.mds.dictionary import Element, elements
from adapter.mds.record import MdsRecord
from adapter.mds.types import canonical_number
from adapter.sources.forms import LIST_SEPARATOR, bounds, element_label, from_text, to_text
from adapter.sources.problems import expected, invalid_record

__all__ = ["DATA_SHEET", "FIRST_DATA_ROW", "read_xlsx", "write_xlsx"]

DATA_SHEET = "MDS"
FIRST_DATA_ROW = 3  # row 1: element names, row 2: labels
_LIST_LIMIT = 255  # Excel's limit on a list typed into a validation formula
_LAST_ROW = 1_048_576
_DATE_FORMAT = "yyyy-mm-dd"
_SEARCH_ROWS = 10


def _validation(e: Element, column: str, lists_column: str) -> DataValidation | None:
    """The drop-down or number check of one column, or None."""
    where = f"{column}{FIRST_DATA_ROW}:{column}{_LAST_ROW}"
    dv: DataValidation | None = None
    if e.type == "code" and e.codes and not e.is_open_code:
        inline = '"' + ",".join(e.codes) + '"'
        source = (
            inline
            if len(inline) - 2 <= _LIST_LIMIT
            else f"{quote_sheetname('lists')}!${lists_column}$1:${lists_column}${len(e.codes)}"
        )
        dv = DataValidation(type="list", formula1=source, allow_blank=True)
        dv.error = f"Expected {expected(e)}"
    elif e.type in ("integer", "decimal"):
        b = bounds(e.name)
        kind: Literal["whole", "decimal"] = "whole" if e.type == "integer" else "decimal"
        low = "-1E+300" if b.minimum is None else str(canonical_number(b.minimum))
        high = "1E+300" if b.maximum is None else str(canonical_number(b.maximum))
        if b.exclusive_minimum and b.maximum is None:
            dv = DataValidation(type=kind, operator="greaterThan", formula1=low)
        else:
            dv = DataValidation(type=kind, operator="between", formula1=low, formula2=high)
        dv.error = f"Expected {expected(e)}"
    elif e.type == "code_list":
        dv = DataValidation(type="textLength", operator="greaterThan", formula1="0")
        dv.prompt = f"Codes separated by {LIST_SEPARATOR}: {', '.join(e.codes)}"
        dv.showInputMessage = True
    if dv is not None:
        dv.showErrorMessage = dv.type != "textLength"
        dv.add(where)
    return dv


def _cell(ws: Any, value: Any, e: Element) -> Any:
    """A value as Excel should hold it: dates as dates, numbers as numbers, the rest text."""
    if value is None:
        return None
    if isinstance(value, dt.date):
        cell = WriteOnlyCell(ws, value)  # type: ignore[arg-type]  # openpyxl writes dates
        cell.number_format = _DATE_FORMAT
        return cell
    if isinstance(value, float):
        return canonical_number(value)
    if isinstance(value, int):
        return value
    text = to_text(value)
    if text.startswith("=") or e.type == "partial_date":
        cell = WriteOnlyCell(ws, text)
        cell.data_type, cell.number_format = "s", "@"  # text, never a formula or a number
        return cell
    return text


def _dictionary_rows() -> Iterator[list[str]]:
    yield ["element", "label", "group", "level", "type", "unit", "allowed codes", "definition"]
    for e in elements():
        codes = "; ".join(e.codes) + (f" {e.codes_note}" if e.codes_note else "")
        yield [e.name, element_label(e), e.group, e.level, e.type, e.unit, codes.strip(),
               e.definition]  # fmt: skip


def write_xlsx(records: Iterable[MdsRecord], out: IO[bytes]) -> int:
    """Write the MDS form with these records (none: the empty template); streams rows."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(DATA_SHEET)
    lists = wb.create_sheet("lists")
    dictionary = wb.create_sheet("Dictionary")
    lists.sheet_state = "hidden"
    all_elements = elements()
    for i, e in enumerate(all_elements, start=1):
        letter = get_column_letter(i)
        ws.column_dimensions[letter].width = max(12, min(40, len(e.name) + 2))
        if e.type == "date":
            ws.column_dimensions[letter].number_format = _DATE_FORMAT
        elif e.type == "partial_date":
            ws.column_dimensions[letter].number_format = "@"
        dv = _validation(e, letter, letter)
        if dv is not None:
            ws.data_validations.append(dv)
    ws.freeze_panes = f"B{FIRST_DATA_ROW}"
    ws.append([e.name for e in all_elements])
    ws.append([element_label(e) for e in all_elements])
    count = 0
    for record in records:
        ws.append([_cell(ws, getattr(record, e.name), e) for e in all_elements])
        count += 1
    longest = max(len(e.codes) for e in all_elements)
    for row in range(longest):
        lists.append([e.codes[row] if row < len(e.codes) else None for e in all_elements])
    for line in _dictionary_rows():
        dictionary.append(line)
    wb.save(out)
    return count


def _json_value(e: Element, value: Any) -> Any:
    """What a cell holds, as the JSON value its element asks for (mistakes left visible)."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        if e.type == "decimal":
            return float(value)
        whole = isinstance(value, int) or value.is_integer()
        if e.type == "integer":
            return int(value) if whole else value
        if e.type in ("string", "code", "partial_date"):  # a record id or year typed as number
            return str(int(value)) if whole else str(value)
        return value
    return from_text(e, str(value).strip())


def _find_header(rows: Iterator[tuple[Any, ...]]) -> tuple[int, list[str]]:
    for number, row in enumerate(rows, start=1):
        cells = [str(v).strip() if v is not None else "" for v in row]
        if "record_id" in cells:
            return number, cells
        if number == _SEARCH_ROWS:
            break
    raise SourceError(
        f"no row of MDS element names (with record_id) in the first {_SEARCH_ROWS} rows"
    )


def _unknown(name: str, letter: str, sheet: str) -> Finding:
    close = difflib.get_close_matches(name, [e.name for e in elements()], n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return Finding(
        code="source.unknown-column",
        level=Level.WARNING,
        message=f'column {letter} "{name}" is not an MDS element{hint}: its values are ignored',
        location=f"sheet {sheet}, column {letter}",
    )


def read_xlsx(f: IO[bytes]) -> Iterator[MdsRecord | Finding]:
    """Records and findings from a filled MDS form (.xlsx), read in streaming mode."""
    try:
        wb = load_workbook(f, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError, ValueError … for non-xlsx
        raise SourceError(f"not an Excel workbook (.xlsx): {exc}") from exc
    try:
        yield from _read_workbook(wb)
    finally:
        wb.close()


def _read_workbook(wb: Any) -> Iterator[MdsRecord | Finding]:
    names = [DATA_SHEET, *(n for n in wb.sheetnames if n != DATA_SHEET)]
    for sheet in (n for n in names if n in wb.sheetnames):
        rows = wb[sheet].iter_rows(values_only=True)
        try:
            header_row, header = _find_header(rows)
        except SourceError:
            continue
        yield from _read_sheet(sheet, header_row, header, rows)
        return
    raise SourceError(
        f"no sheet has a row of MDS element names (with record_id) in its first {_SEARCH_ROWS} rows"
    )


def _read_sheet(
    sheet: str, header_row: int, header: list[str], rows: Iterator[tuple[Any, ...]]
) -> Iterator[MdsRecord | Finding]:
    by_name = {e.name: e for e in elements()}
    letters = [get_column_letter(i) for i in range(1, len(header) + 1)]
    repeated = sorted({h for h in header if h and header.count(h) > 1})
    if repeated:
        raise SourceError(f"sheet {sheet}: the name row repeats column {', '.join(repeated)}")
    columns: list[tuple[int, Element, str]] = []
    for i, name in enumerate(header):
        if name in by_name:
            columns.append((i, by_name[name], letters[i]))
        elif name:
            yield _unknown(name, letters[i], sheet)
    column_of = {e.name: letter for _, e, letter in columns}
    id_index = header.index("record_id")
    label = element_label(by_name["record_id"])
    for number, row in enumerate(rows, start=header_row + 1):
        if number == header_row + 1 and len(row) > id_index and row[id_index] == label:
            continue  # the row of labels
        data = {
            e.name: _json_value(e, row[i])
            for i, e, _ in columns
            if i < len(row) and row[i] is not None and str(row[i]).strip()
        }
        if not data:
            continue
        raw = orjson.dumps(data, default=str)
        try:
            yield MdsRecord.model_validate_json(raw)
        except ValidationError as exc:
            rid = data.get("record_id")
            finding = invalid_record(
                exc,
                location=f"sheet {sheet}, row {number}",
                record_id=rid if isinstance(rid, str) else None,
                raw=raw.decode(),
            )
            cols = [column_of[n] for n in finding.elements if n in column_of]
            if cols:
                where = f"column {cols[0]}" if len(cols) == 1 else f"columns {', '.join(cols)}"
                finding = replace(finding, location=f"{finding.location}, {where}")
            yield finding
