"""Concepts resolved against the database's own vocabulary tables, cached for one load run.

    resolver = DbResolver(terminology)
    resolver.prefetch(conn, [("ICDO3", "9180/3-C40.2"), ...])   # one query per chunk
    to_omop(record, terminology, pseudonym=p, resolve=resolver)

The mapping asks `resolve(vocabulary_id, concept_code)` for the ICDO3 histology–topography
concept of the tumour. The bundled subset lacks most of them (every bone site, mds-notes C9);
a full Athena load has them, so the store resolves against the loaded CONCEPT table, not the
files shipped with the software (issue 6 item 2). Order: the curated diagnosis map first (it
is versioned and part of the mapping fingerprint, so today's mapped pairs keep their concept),
then the database by (vocabulary_id, concept_code). A pair neither knows stays None: the
mapping writes concept 0 with its source value and reports `omop.unmapped-code`.

Round trips: `prefetch` asks for the codes of a whole chunk in one query per vocabulary; a
code asked for later (not prefetched) is looked up alone, once. Answers, misses included, are
kept for the run: the vocabulary does not change during a load (a vocabulary load forces the
next load to re-map, docs/adr/0004).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.engine import Connection

from adapter.mds.record import MdsRecord
from adapter.omop import staging
from adapter.omop.condition import source_value
from adapter.stores.bulk import Statement, dialect_of, run_many
from adapter.stores.omop_db import concepts_statement
from adapter.terminology import Terminology

__all__ = ["DbResolver", "resolved_codes"]

Code = tuple[str, str]


def resolved_codes(records: Iterable[MdsRecord]) -> list[Code]:
    """The concept codes the mapping will ask the resolver for (the tumour's ICDO3 concept, the
    AJCC 8th staging concepts: adapter/omop/staging.py), to prefetch them in one query per
    vocabulary."""
    out: list[Code] = []
    for r in records:
        if r.histology_icdo3 is not None and r.primary_site_icdo3 is not None:
            out.append(("ICDO3", source_value(r.histology_icdo3, r.primary_site_icdo3)))
        for name in staging.STAGED:
            code = getattr(r, name)
            wanted = staging.concept_code(name, code) if code is not None else None
            if wanted is not None:
                out.append(("Cancer Modifier", wanted))
    return out


class DbResolver:
    """`resolve(vocabulary_id, concept_code)` backed by the database, cached per run."""

    def __init__(self, terminology: Terminology) -> None:
        self._terminology = terminology
        self._known: dict[Code, int | None] = {}
        self._conn: Connection | None = None
        self._pending: list[Code] = []
        self.queries = 0
        """How many lookups went to the database (tests check that chunks are batched)."""

    def prefetch(self, conn: Connection, codes: Iterable[Code]) -> None:
        """Look up every code not yet known in one query per vocabulary, on `conn`.

        `conn` is also used for later misses until the next prefetch: the chunk's own
        transaction, so SQLite never sees a second connection while the chunk writes.
        """
        self.prefetched(run_many(conn, self.prefetch_statements(conn, codes)))

    def prefetch_statements(self, conn: Connection, codes: Iterable[Code]) -> list[Statement]:
        """`prefetch` as statements to send with others (one per vocabulary with codes not yet
        known); hand their rows to `prefetched` in the same order."""
        self._conn = conn
        self._pending = sorted({c for c in codes if c not in self._known})
        by_vocabulary: dict[str, list[str]] = {}
        for vocabulary_id, concept_code in self._pending:
            by_vocabulary.setdefault(vocabulary_id, []).append(concept_code)
        dialect = dialect_of(conn)
        return [concepts_statement(dialect, v, found) for v, found in by_vocabulary.items()]

    def prefetched(self, rows: Sequence[Sequence[Sequence[Any]]]) -> None:
        """Take the rows of `prefetch_statements` (each: concept_code, concept_id)."""
        if self._pending:
            self.queries += 1
        vocabularies = sorted({v for v, _ in self._pending})
        found = {(v, r[0]): int(r[1]) for v, part in zip(vocabularies, rows, strict=True)
                 for r in part}  # fmt: skip
        for code in self._pending:
            self._known[code] = found.get(code)
        self._pending = []

    def __call__(self, vocabulary_id: str, concept_code: str) -> int | None:
        if vocabulary_id == "ICDO3" and "-" in concept_code:
            morphology, _, site = concept_code.partition("-")
            mapped = self._terminology.condition_concept_id(morphology, site)
            if mapped is not None:
                return mapped
        code = (vocabulary_id, concept_code)
        if code not in self._known:
            if self._conn is None:
                raise RuntimeError("DbResolver used before prefetch() gave it a connection")
            self.prefetch(self._conn, [code])
        return self._known[code]
