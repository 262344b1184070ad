"""MDS as a CSV table: a header row of element names, one record per row.

Cells are text, so each is turned into the JSON value its element's type asks for before the
same strict validation as JSON Lines: "11.5" becomes 11.5 for a decimal, "lung;bone" a list
for a code list, an empty cell means not recorded. Text that is not a number stays text, so the
error shows what was written. The delimiter (comma, semicolon or tab) is sniffed.
"""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Iterable, Iterator
from typing import IO, Any

import orjson
from pydantic import ValidationError

from adapter.errors import Finding, SourceError
from adapter.mds.dictionary import elements
from adapter.mds.record import MdsRecord
from adapter.mds.types import canonical_number
from adapter.sources.cells import guard, unguard
from adapter.sources.problems import invalid_record

__all__ = ["LIST_SEPARATOR", "read_csv", "write_csv"]

LIST_SEPARATOR = ";"
_INTEGER = re.compile(r"^[+-]?\d+$")
_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


def _cell(kind: str, text: str) -> Any:
    if kind == "integer" and _INTEGER.match(text):
        return int(text)
    if kind == "decimal" and _DECIMAL.match(text):
        return float(text)
    if kind == "code_list":
        return [part.strip() for part in text.split(LIST_SEPARATOR)]
    return text


def read_csv(f: IO[str]) -> Iterator[MdsRecord | Finding]:
    """Records and findings from a CSV file opened in text mode with newline=""."""
    first = f.readline()
    try:  # only the delimiter: a header has no quotes to learn quoting from, and the sniffer
        # then turns off doubled quotes, which breaks every cell with a quote in it
        delimiter = csv.Sniffer().sniff(first, ",;\t").delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(itertools.chain([first], f), delimiter=delimiter)
    header = [h.strip().removeprefix("\ufeff") for h in next(reader, [])]
    if not any(header):
        raise SourceError("the CSV file is empty: expected a header row of MDS element names")
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:
        raise SourceError(f"the CSV header repeats column {', '.join(repeated)}")
    kinds = {e.name: e.type for e in elements()}
    for number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        names = header + [f"column {i}" for i in range(len(header) + 1, len(row) + 1)]
        data = {
            name: _cell(kinds.get(name, "string"), unguard(cell.strip()))
            for name, cell in zip(names, row, strict=False)
            if cell.strip()
        }
        raw = orjson.dumps(data)
        rid = data.get("record_id")
        try:
            yield MdsRecord.model_validate_json(raw)
        except ValidationError as exc:
            yield invalid_record(
                exc,
                location=f"row {number}",
                record_id=rid if isinstance(rid, str) else None,
                raw=raw.decode(),
            )


def _text(value: Any) -> str:
    if isinstance(value, list):
        return LIST_SEPARATOR.join(value)
    if isinstance(value, float):
        return str(canonical_number(value))
    return str(value)


def write_csv(records: Iterable[MdsRecord], out: IO[str]) -> int:
    """Write records with every element as a column, in dictionary order; a cell that would
    start a spreadsheet formula is guarded (cells.py) and read back as it was."""
    names = [e.name for e in elements()]
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(names)
    count = 0
    for record in records:
        writer.writerow(["" if (v := getattr(record, n)) is None else guard(_text(v))
                         for n in names])  # fmt: skip
        count += 1
    return count
