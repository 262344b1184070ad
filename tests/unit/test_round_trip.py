"""JSON → model → JSON is the identity on 10k generated records (and CSV → model → CSV)."""

from __future__ import annotations

import io

from adapter.errors import Finding
from adapter.mds.record import MdsRecord
from adapter.mds.synth import generate
from adapter.sources.csv_table import read_csv, write_csv
from adapter.sources.jsonl import dumps, read_jsonl

N = 10_000


def test_jsonl_identity_on_10k_generated_records() -> None:
    lines = [dumps(record) for record, _ in generate(N, 2026, 0.1)]
    items = list(read_jsonl(lines))
    assert not [i for i in items if isinstance(i, Finding)]
    assert [dumps(r) for r in items if isinstance(r, MdsRecord)] == lines
    # and the text is the canonical one: the same bytes after a second trip
    assert len(set(lines)) == N


def test_csv_identity_on_10k_generated_records() -> None:
    records = [record for record, _ in generate(N, 2027, 0.1)]
    text = io.StringIO()
    assert write_csv(records, text) == N
    back = list(read_csv(io.StringIO(text.getvalue())))
    assert back == records
    again = io.StringIO()
    write_csv([r for r in back if isinstance(r, MdsRecord)], again)
    assert again.getvalue() == text.getvalue()
