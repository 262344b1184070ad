"""The edges that keep data: the OMOP database (SQLite or PostgreSQL), the record store with
its crosswalk and quarantine, loading and exporting MDS records. The only package that talks
to a database."""

from adapter.stores.export import export_records, stored_records
from adapter.stores.incoming import read_incoming
from adapter.stores.load import LoadReport, load_records
from adapter.stores.omop_db import (
    InitReport,
    VocabularyLoad,
    concept_count,
    find_concepts,
    init_db,
    load_vocabulary,
)
from adapter.stores.pseudonym import Pseudonymiser, pseudonymiser_from_settings

__all__ = [
    "InitReport",
    "LoadReport",
    "Pseudonymiser",
    "VocabularyLoad",
    "concept_count",
    "export_records",
    "find_concepts",
    "init_db",
    "load_records",
    "load_vocabulary",
    "pseudonymiser_from_settings",
    "read_incoming",
    "stored_records",
]
