"""The Excel form: the template's layout, and filled forms read back, messy ones included."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import Workbook, load_workbook

from adapter.errors import Finding, Level, SourceError
from adapter.mds.dictionary import elements
from adapter.mds.record import MdsRecord
from adapter.mds.synth import generate
from adapter.sources import excel_form
from adapter.sources.excel_form import read_xlsx, write_xlsx
from tests.conftest import golden_dict, vary


def template() -> Workbook:
    out = io.BytesIO()
    assert write_xlsx([], out) == 0
    return load_workbook(io.BytesIO(out.getvalue()))


def saved(wb: Workbook) -> io.BytesIO:
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    return out


def test_template_layout() -> None:
    wb = template()
    assert wb.sheetnames == ["MDS", "lists", "Dictionary"]
    assert wb["lists"].sheet_state == "hidden"
    ws = wb["MDS"]
    names = [c.value for c in ws[1]]
    assert names == [e.name for e in elements()]
    assert [c.value for c in ws[2]][:5] == ["Record ID", "Institution", "Institution country",
                                            "Birth date", "Sex"]  # fmt: skip
    assert ws.freeze_panes == "B3"
    checks = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    sex = checks["E3:E1048576"]
    assert (sex.type, sex.formula1) == ("list", '"male,female,other,unknown"')
    age = checks["F3:F1048576"]
    assert (age.type, age.operator, age.formula1, age.formula2) == ("whole", "between", "0", "130")
    size = checks[f"{letter('tumour_size_cm')}3:{letter('tumour_size_cm')}1048576"]
    assert (size.type, size.operator, size.formula1) == ("decimal", "greaterThan", "0")
    assert ws.column_dimensions[letter("diagnosis_date")].number_format == "yyyy-mm-dd"
    assert ws.column_dimensions["D"].number_format == "@"  # birth date: text, "1961" stays
    sites = checks[f"{letter('metastasis_sites_at_diagnosis')}3:"
                   f"{letter('metastasis_sites_at_diagnosis')}1048576"]  # fmt: skip
    assert sites.prompt.startswith("Codes separated by ;: lung, bone,")
    dictionary = list(wb["Dictionary"].values)
    assert dictionary[0] == ("element", "label", "group", "level", "type", "unit",
                             "allowed codes", "definition")  # fmt: skip
    assert dictionary[5][:7] == ("sex", "Sex", "patient", "core", "code", None,
                                 "male; female; other; unknown")  # fmt: skip
    assert len(dictionary) == 52


def letter(name: str) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter([e.name for e in elements()].index(name) + 1)


def test_long_code_lists_go_through_the_hidden_sheet(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(excel_form, "_LIST_LIMIT", 20)
    ws = template()["MDS"]
    checks = {str(dv.sqref): dv.formula1 for dv in ws.data_validations.dataValidation}
    assert checks["E3:E1048576"] == "'lists'!$E$1:$E$4"  # "male,female,other,unknown" is 25
    assert checks["I3:I1048576"] == '"bone,soft_tissue"'  # 16: still inline
    col = letter("histologic_grade")
    assert checks[f"{col}3:{col}1048576"] == f"'lists'!${col}$1:${col}$7"
    grades = [c.value for c in template()["lists"][col] if c.value is not None]
    assert grades == ["G1", "G2", "G3", "low", "high", "GX_unknown", "not_applicable"]


def messy_form() -> Workbook:
    """A form as people fill it: a title row, columns moved, a column of their own, no label
    row, blank rows, dates typed as dates, numbers typed as text, ids typed as numbers."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Sarcoma cases"
    ws.append(["Sarcoma MDS, Oslo 2024"])
    ws.append(["sex", "record_id", "Comments", "tumour_size_cm", "diagnosis_date",
               "radiotherapy_fractions", "birth_date",
               "metastasis_sites_at_diagnosis"])  # fmt: skip
    ws.append(["female", "OSL-1", "checked", "11.5", dt.datetime(2024, 3, 11), 25.0, 1961,
               "lung; bone"])  # fmt: skip
    ws.append([None] * 8)
    ws.append(["male", 1002, None, 4, "2024-01-02", "25", "1961-04", None])
    ws.append(["M", "OSL-3", None, "11,5", dt.datetime(2024, 3, 11, 9, 30), 2.5, None, None])
    return wb


def test_a_messy_form_reads_and_errors_name_sheet_row_column_and_value() -> None:
    items = list(read_xlsx(saved(messy_form())))
    assert items[0] == Finding(
        code="source.unknown-column",
        level=Level.WARNING,
        message='column C "Comments" is not an MDS element: its values are ignored',
        location="sheet Sarcoma cases, column C",
    )
    assert items[1:3] == [
        MdsRecord.model_validate_json(
            b'{"record_id": "OSL-1", "sex": "female", "tumour_size_cm": 11.5, '
            b'"diagnosis_date": "2024-03-11", "radiotherapy_fractions": 25, '
            b'"birth_date": "1961", "metastasis_sites_at_diagnosis": ["lung", "bone"]}'
        ),
        MdsRecord.model_validate_json(
            b'{"record_id": "1002", "sex": "male", "tumour_size_cm": 4, '
            b'"diagnosis_date": "2024-01-02", "radiotherapy_fractions": 25, '
            b'"birth_date": "1961-04"}'
        ),
    ]
    bad = items[3]
    assert isinstance(bad, Finding) and len(items) == 4
    assert (bad.location, bad.record_id, bad.elements, bad.values) == (
        "sheet Sarcoma cases, row 6, columns A, E, D, F", "OSL-3",
        ("sex", "diagnosis_date", "tumour_size_cm", "radiotherapy_fractions"),
        ("M", "2024-03-11T09:30:00", "11,5", 2.5),
    )  # fmt: skip
    assert bad.message == (
        'sex = "M": expected one of male, female, other, unknown; diagnosis_date = '
        '"2024-03-11T09:30:00": expected a date YYYY-MM-DD: unexpected extra characters at the '
        'end of the input; tumour_size_cm = "11,5": expected a number in cm; '
        "radiotherapy_fractions = 2.5: expected a whole number"
    )


def test_written_form_keeps_the_label_row_out_of_the_records() -> None:
    record = vary(golden_dict(), systemic_regimen="=MAP")  # text that looks like a formula
    out = io.BytesIO()
    write_xlsx([record], out)
    assert list(read_xlsx(io.BytesIO(out.getvalue()))) == [record]
    ws = load_workbook(io.BytesIO(out.getvalue()))["MDS"]
    assert ws["A3"].value == "OSL-000123" and ws["D3"].value == "1961"
    assert ws[f"{letter('diagnosis_date')}3"].value == dt.datetime(2024, 3, 11)


def test_what_is_not_a_form_cannot_be_read() -> None:
    with pytest.raises(SourceError, match=r"not an Excel workbook \(.xlsx\)"):
        list(read_xlsx(io.BytesIO(b"record_id,sex\n")))
    wb = Workbook()
    assert wb.active is not None
    wb.active.append(["id", "sex"])
    with pytest.raises(SourceError, match="no sheet has a row of MDS element names"):
        list(read_xlsx(saved(wb)))


def test_round_trip_is_the_identity_on_10k_records() -> None:
    records = [record for record, _ in generate(10_000, 2030, 0.1)]
    out = io.BytesIO()
    assert write_xlsx(records, out) == 10_000
    assert list(read_xlsx(io.BytesIO(out.getvalue()))) == records
