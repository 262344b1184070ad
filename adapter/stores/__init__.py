"""The edges that keep data: the OMOP database (SQLite or PostgreSQL) and, later, the record
store, crosswalk, quarantine and audit log. The only package that talks to a database."""

from adapter.stores.omop_db import (
    InitReport,
    VocabularyLoad,
    concept_count,
    find_concepts,
    init_db,
    load_vocabulary,
)

__all__ = [
    "InitReport",
    "VocabularyLoad",
    "concept_count",
    "find_concepts",
    "init_db",
    "load_vocabulary",
]
