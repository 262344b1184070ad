"""mds-adapter: sarcoma Minimal Data Set records to and from FHIR R4 and OMOP CDM v5.4.

The MDS record is the hub: readers turn sources into records (and findings for what they
reject), rules judge records, writers turn records into targets.

    from adapter import read_jsonl, check_record
    for item in read_jsonl(open("records.jsonl", "rb")):
        ...  # an MdsRecord, or a Finding naming the bad line
"""

from adapter.errors import AdapterError, ConfigurationError, Finding, Level, SourceError
from adapter.mds.record import MdsRecord
from adapter.mds.report import Summary
from adapter.mds.rules import RULES, RuleConfig, check_record, eligible
from adapter.sources.csv_table import read_csv, write_csv
from adapter.sources.jsonl import read_jsonl, write_jsonl

__version__ = "0.2.0"

__all__ = [
    "RULES",
    "AdapterError",
    "ConfigurationError",
    "Finding",
    "Level",
    "MdsRecord",
    "RuleConfig",
    "SourceError",
    "Summary",
    "__version__",
    "check_record",
    "eligible",
    "read_csv",
    "read_jsonl",
    "write_csv",
    "write_jsonl",
]
