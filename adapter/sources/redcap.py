"""REDCap exports of the MDS project: CSV (raw or labels) and the API's flat JSON.

One reader takes every shape REDCap exports, because a centre rarely knows which it chose:
headers may be variable names (raw) or field labels (labels); radio values may be codes or
choice labels; checkboxes come as one column per choice (`variable___code`, 1/0 or
Checked/Unchecked); dates are Y-M-D, or M-D-Y / D-M-Y where the project's data dictionary says
date_mdy / date_dmy. REDCap's own columns (event, data access group, survey identifier and
timestamp, `<form>_complete`) are ignored; repeating-instrument rows are reported, since the MDS
is one record per patient-tumour. A column that is no MDS field gives one warning and is
otherwise ignored (centres add their own fields). Every other problem is one error per row,
worded as for JSON Lines, and the good rows are kept.

The writers produce what REDCap would export (raw or labels CSV, flat JSON), which REDCap's
Data Import Tool also accepts (raw CSV). Lists of metastasis sites come back in dictionary
order: checkboxes cannot keep the order they were written in (a declared loss).
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from functools import cache
from typing import IO, Any, Literal

import orjson
from pydantic import ValidationError

from adapter.errors import Finding, Level, SourceError
from adapter.mds.record import MdsRecord
from adapter.sources.cells import guard, unguard
from adapter.sources.forms import from_text, to_text
from adapter.sources.problems import invalid_record
from adapter.sources.redcap_dictionary import RedcapField, mds_fields

__all__ = [
    "read_redcap_csv",
    "read_redcap_json",
    "redcap_header_kind",
    "write_redcap_csv",
    "write_redcap_json",
]

_CHECKED, _UNCHECKED = ("1", "Checked"), ("0", "Unchecked", "")
_SYSTEM = ("redcap_event_name", "redcap_data_access_group", "redcap_survey_identifier")
_SYSTEM_LABELS = ("Event Name", "Data Access Group", "Survey Identifier", "Complete?")
_REPEAT = ("redcap_repeat_instrument", "redcap_repeat_instance")
_REPEAT_LABELS = ("Repeat Instrument", "Repeat Instance")
_OTHER_ORDER = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")

_Kind = Literal["field", "check", "system", "repeat", "unknown"]


@dataclass(frozen=True, slots=True)
class _Column:
    kind: _Kind
    header: str
    field: RedcapField | None = None
    code: str = ""


class _Project:
    """How each possible export header of a project reads (variable or label form)."""

    def __init__(self, fields: tuple[RedcapField, ...]) -> None:
        self.fields = fields
        self.forms = {f.form for f in fields}
        self.known: dict[str, _Column] = {}
        self.variables = {f.element.name: f.variable for f in fields}
        for f in fields:
            for header in (f.variable, f.label):
                self.known.setdefault(header, _Column("field", header, f))
            for code, label in f.choices if f.field_type == "checkbox" else ():
                for header in (f.checkbox_column(code), f"{f.label} (choice={label})"):
                    self.known.setdefault(header, _Column("check", header, f, code))

    def column(self, header: str) -> _Column:
        h = header.strip().removeprefix("\ufeff")
        if h in self.known:
            return self.known[h]
        if h in _REPEAT or h in _REPEAT_LABELS:
            return _Column("repeat", h)
        form, _, suffix = h.rpartition("_")
        if h in _SYSTEM or h in _SYSTEM_LABELS or h.endswith(" Timestamp"):
            return _Column("system", h)
        if form in self.forms and suffix in ("complete", "timestamp"):
            return _Column("system", h)
        return _Column("unknown", h)

    def unknown(self, column: _Column, location: str) -> Finding:
        close = difflib.get_close_matches(column.header, list(self.known), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        return Finding(
            code="source.unknown-column",
            level=Level.WARNING,
            message=f'column "{column.header}" is not an MDS field{hint}: its values are ignored',
            location=location,
        )


@cache
def _project(fields: tuple[RedcapField, ...]) -> _Project:
    return _Project(fields)


def _date(text: str, validation: str) -> str:
    """Y-M-D as is; M-D-Y or D-M-Y (any of - / .) turned to Y-M-D where the field says so."""
    m = _OTHER_ORDER.match(text)
    if not m or not validation.endswith(("_mdy", "_dmy")):
        return text
    month, day = (m[1], m[2]) if validation.endswith("_mdy") else (m[2], m[1])
    try:
        return dt.date(int(m[3]), int(month), int(day)).isoformat()
    except ValueError:
        return text  # the error then shows the value as written


def _value(f: RedcapField, text: str) -> Any:
    e = f.element
    if f.field_type in ("radio", "dropdown", "yesno"):
        codes = {c for c, _ in f.choices}
        return text if text in codes else {lb: c for c, lb in f.choices}.get(text, text)
    if e.type in ("date", "partial_date"):
        return _date(text, f.validation)
    if "comma_decimal" in f.validation:
        text = text.replace(",", ".")
    return from_text(e, text)


def _reject(problems: list[tuple[str, str, str]], exc: ValidationError | None, location: str,
            record_id: str | None, raw: str) -> Finding:  # fmt: skip
    """One finding for a row: the reader's own problems first, then the model's."""
    base = (
        invalid_record(exc, location=location, record_id=record_id, raw=raw)
        if exc is not None
        else Finding("mds.invalid-record", Level.ERROR, "", record_id, location=location, raw=raw)
    )
    return replace(
        base,
        message="; ".join([*(text for _, text, _ in problems), *([base.message] * bool(exc))]),
        elements=(*(name for name, _, _ in problems), *base.elements),
        values=(*(value for _, _, value in problems), *base.values),
    )


def _row(
    project: _Project, cells: list[tuple[_Column, str]], location: str
) -> MdsRecord | Finding | None:
    """A record, or the finding that rejects the row (naming the REDCap fields); None for a
    blank row."""
    found = _read_row(cells, location)
    if not isinstance(found, Finding) or not found.elements:
        return found
    names = list(dict.fromkeys(project.variables.get(n, n) for n in found.elements))
    where = f"field {names[0]}" if len(names) == 1 else f"fields {', '.join(names)}"
    return replace(found, location=f"{location}, {where}")


def _read_row(cells: list[tuple[_Column, str]], location: str) -> MdsRecord | Finding | None:
    data: dict[str, Any] = {}
    ticked: dict[str, list[str]] = {}
    problems: list[tuple[str, str, str]] = []
    repeat: list[str] = []
    for col, cell in cells:
        text = unguard(cell.strip())
        if col.kind == "check" and col.field is not None:
            name = col.field.element.name
            if text in _CHECKED:
                ticked.setdefault(name, []).append(col.code)
            elif text not in _UNCHECKED:
                problems.append((name, f'{col.header} = "{text}": expected 1 or 0', text))
        elif text and col.kind == "field" and col.field is not None:
            data[col.field.element.name] = _value(col.field, text)
        elif text and col.kind == "repeat":
            repeat.append(f"{col.header} {text}")
    if not (data or ticked or problems or repeat):
        return None
    data.update(ticked)
    rid = data.get("record_id") if isinstance(data.get("record_id"), str) else None
    source = orjson.dumps({c.header: v for c, v in cells if v.strip()}).decode()
    if repeat:
        return Finding(
            code="source.redcap-repeating",
            level=Level.ERROR,
            message=f"{', '.join(repeat)}: a repeating instrument row; the MDS has one record "
            "per patient-tumour and no repeating instruments",
            record_id=rid,
            location=location,
            raw=source,
        )
    raw = orjson.dumps(data)
    try:
        record = MdsRecord.model_validate_json(raw)
    except ValidationError as exc:
        return _reject(problems, exc, location, rid, source)
    return _reject(problems, None, location, rid, source) if problems else record


def _columns(project: _Project, header: list[str]) -> list[_Column]:
    columns = [project.column(h) for h in header]
    if not any(c.field is not None and c.field.element.name == "record_id" for c in columns):
        raise SourceError(
            "no record_id column: expected a REDCap export of the MDS project "
            "(headers as variable names or field labels)"
        )
    named = [
        c.field.checkbox_column(c.code) if c.code else c.field.variable
        for c in columns
        if c.field is not None
    ]
    repeated = sorted({h for h in named if named.count(h) > 1})
    if repeated:
        raise SourceError(f"the REDCap export repeats column {', '.join(repeated)}")
    return columns


def read_redcap_csv(
    f: IO[str], fields: tuple[RedcapField, ...] | None = None
) -> Iterator[MdsRecord | Finding]:
    """Records and findings from a REDCap CSV export (raw or labels), opened with newline=""."""
    project = _project(fields or mds_fields())
    reader = csv.reader(f)
    columns = _columns(project, next(reader, []))
    for i, c in enumerate(columns, start=1):
        if c.kind == "unknown":
            yield project.unknown(c, f"column {i}")
    for number, row in enumerate(reader, start=2):
        found = _row(project, list(zip(columns, row, strict=False)), f"row {number}")
        if found is not None:
            yield found


def read_redcap_json(
    data: bytes, fields: tuple[RedcapField, ...] | None = None
) -> Iterator[MdsRecord | Finding]:
    """Records and findings from REDCap API records in flat JSON (a list of objects)."""
    project = _project(fields or mds_fields())
    try:
        items: Any = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise SourceError(f"not valid JSON: {exc}") from exc
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise SourceError("expected REDCap records in flat JSON: a list of objects")
    if items and {"record", "field_name", "value"} <= set(items[0]):
        raise SourceError("REDCap EAV export: export the records in the flat format instead")
    seen: dict[str, _Column] = {}
    for number, item in enumerate(items, start=1):
        cells = []
        for key, value in item.items():
            if key not in seen:
                seen[key] = project.column(key)
                if seen[key].kind == "unknown":
                    yield project.unknown(seen[key], f"object {number}, key {key}")
            cells.append((seen[key], value if isinstance(value, str) else to_text(value)))
        if number == 1:
            _columns(project, list(item))
        found = _row(project, cells, f"object {number}")
        if found is not None:
            yield found


def _header(fields: tuple[RedcapField, ...], labels: bool) -> list[str]:
    out: list[str] = []
    for f in fields:
        if f.field_type != "checkbox":
            out.append(f.label if labels else f.variable)
            continue
        for code, label in f.choices:
            out.append(f"{f.label} (choice={label})" if labels else f.checkbox_column(code))
    return out


def _cells(record: MdsRecord, fields: tuple[RedcapField, ...], labels: bool) -> list[str]:
    out: list[str] = []
    for f in fields:
        value = getattr(record, f.element.name)
        if f.field_type == "checkbox":
            ticked = value or ()
            on, off = ("Checked", "Unchecked") if labels else ("1", "0")
            out.extend(on if code in ticked else off for code, _ in f.choices)
        elif value is None:
            out.append("")
        elif labels and f.choices:
            out.append(dict(f.choices).get(value, value))
        else:
            out.append(to_text(value))
    return out


def write_redcap_csv(
    records: Iterable[MdsRecord],
    out: IO[str],
    *,
    labels: bool = False,
    fields: tuple[RedcapField, ...] | None = None,
) -> int:
    """Write records as a REDCap CSV export: raw (variables, codes, 1/0) or labels."""
    chosen = fields or mds_fields()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(_header(chosen, labels))
    count = 0
    for record in records:
        writer.writerow([guard(cell) for cell in _cells(record, chosen, labels)])
        count += 1
    return count


def write_redcap_json(
    records: Iterable[MdsRecord], out: IO[bytes], fields: tuple[RedcapField, ...] | None = None
) -> int:
    """Write records as REDCap API flat JSON (raw values, all strings), one object a line."""
    chosen = fields or mds_fields()
    header = _header(chosen, labels=False)
    count = 0
    out.write(b"[")
    for record in records:
        out.write(b",\n" if count else b"\n")
        out.write(orjson.dumps(dict(zip(header, _cells(record, chosen, False), strict=True))))
        count += 1
    out.write(b"\n]\n" if count else b"]\n")
    return count


def redcap_header_kind(
    header: list[str], fields: tuple[RedcapField, ...] | None = None
) -> Literal["raw", "labels"] | None:
    """Whether a CSV header is a REDCap export's, and which kind: used to guess a format.

    A header whose columns are all MDS element names is the plain MDS table, not REDCap (the
    two differ in short names, checkbox columns and REDCap's own columns)."""
    project = _project(fields or mds_fields())
    raw = labels = 0
    for h in (h.strip().removeprefix("\ufeff") for h in header):
        col = project.column(h)
        if col.kind == "unknown":
            continue
        is_label = col.field is not None and h == col.field.label
        is_label = is_label or h in _SYSTEM_LABELS or h in _REPEAT_LABELS or "(choice=" in h
        labels += is_label
        raw += not is_label
    if not raw and not labels:
        return None
    return "labels" if labels > raw else "raw"
