"""Terminology (pure side module): code maps and concepts from terminology/, and the service.

`Terminology.load()` gives translate / lookup / validate-code; `load()` and `check()` read and
judge the maps (`mds-adapter terminology check`). See docs/terminology.md.
"""

from __future__ import annotations

from adapter.terminology.check import check
from adapter.terminology.maps import MapRow, TerminologyData, load, mds_system
from adapter.terminology.service import Lookup, Terminology, Translation, Validation

__all__ = [
    "Lookup",
    "MapRow",
    "Terminology",
    "TerminologyData",
    "Translation",
    "Validation",
    "check",
    "load",
    "mds_system",
]
