"""Formula injection (OWASP "CSV Injection"): no CSV cell we write starts a spreadsheet formula,
and every value reads back as it was (issue 16 item 3)."""

from __future__ import annotations

import csv
import io
import json

from hypothesis import given
from hypothesis import strategies as st

from adapter.mds.record import MdsRecord
from adapter.sources.cells import FORMULA_LEADS, guard, unguard
from adapter.sources.csv_table import read_csv, write_csv
from adapter.sources.idea4rc_table import read_idea4rc_table, write_idea4rc_table
from adapter.sources.redcap import read_redcap_csv, write_redcap_csv

HOSTILE = MdsRecord.model_validate_json(json.dumps({
    "record_id": "-2+3",
    "institution": "@SUM(A1)",
    "diagnosis_date": "2024-03-11",
    "systemic_therapy_given": "yes",
    "systemic_regimen": '=HYPERLINK("http://example.invalid/x","open me")',
}))  # fmt: skip


@given(st.text(alphabet=st.sampled_from(["'", "=", "+", "-", "@", "\t", "a", " ", "1"])))
def test_guard_is_undone_by_unguard_and_never_leads_with_a_formula(value: str) -> None:
    written = guard(value)
    assert unguard(written) == value
    assert written[:1] not in FORMULA_LEADS


def test_guard_examples() -> None:
    assert [guard(v) for v in ("=1+1", "+1", "-1", "@A1", "\tx", "'=x", "plain", "it's")] == [
        "'=1+1", "'+1", "'-1", "'@A1", "'\tx", "''=x", "plain", "it's",
    ]  # fmt: skip


def _cells(text: str, delimiter: str = ",") -> list[str]:
    return [c for row in csv.reader(io.StringIO(text), delimiter=delimiter) for c in row]


def test_mds_csv_guards_formula_cells_and_reads_them_back() -> None:
    out = io.StringIO()
    write_csv([HOSTILE], out)
    cells = _cells(out.getvalue())
    assert '\'=HYPERLINK("http://example.invalid/x","open me")' in cells
    assert not [c for c in cells if c[:1] in FORMULA_LEADS]
    assert list(read_csv(io.StringIO(out.getvalue()))) == [HOSTILE]


def test_redcap_csv_guards_formula_cells_and_reads_them_back() -> None:
    for labels in (False, True):
        out = io.StringIO()
        write_redcap_csv([HOSTILE], out, labels=labels)
        cells = _cells(out.getvalue())
        assert "'-2+3" in cells and "'@SUM(A1)" in cells
        assert not [c for c in cells if c[:1] in FORMULA_LEADS]
        assert list(read_redcap_csv(io.StringIO(out.getvalue()))) == [HOSTILE]


def test_idea4rc_table_guards_formula_cells_and_reads_them_back() -> None:
    out = io.StringIO()
    write_idea4rc_table([HOSTILE], out)
    cells = _cells(out.getvalue(), ";")
    assert "'-2+3" in cells
    assert not [c for c in cells if c[:1] in FORMULA_LEADS]
    back = [r for r in read_idea4rc_table(io.StringIO(out.getvalue())) if isinstance(r, MdsRecord)]
    assert back == [HOSTILE]
