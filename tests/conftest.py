"""Shared fixtures: the hand-checked golden record and a way to vary it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from adapter.mds.record import MdsRecord

GOLDEN = Path(__file__).parent / "golden"


def golden_dict(name: str = "record-osl-000123.json") -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads((GOLDEN / name).read_bytes())
    return data


def vary(base: dict[str, Any], **changes: Any) -> MdsRecord:
    """The base record with elements changed (None removes an element), validated as JSON."""
    data = {**base, **changes}
    return MdsRecord.model_validate_json(
        orjson.dumps({k: v for k, v in data.items() if v is not None})
    )


@pytest.fixture
def golden() -> dict[str, Any]:
    return golden_dict()
