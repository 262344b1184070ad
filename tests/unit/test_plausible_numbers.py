"""Numbers of the MDS are bounded by meaning and by plausibility (adapter/mds/types.py): a
subnormal or astronomic size, 2^63 fractions, are refused with the bound and where it is from."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from adapter.mds.record import MdsRecord
from adapter.sources.problems import invalid_record


def problem(**values: Any) -> str | None:
    try:
        MdsRecord.model_validate({"record_id": "A1", **values})
    except ValidationError as exc:
        return invalid_record(exc, location=None, record_id="A1", raw="").message
    return None


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"tumour_size_cm": 1e-320}, "tumour_size_cm = 1e-320: expected a size in cm from 0.01 "
         "to 500 (plausibility bound of adapter/mds/types.py"),
        ({"tumour_size_cm": 501}, "tumour_size_cm = 501: expected a size in cm from 0.01 to 500"),
        ({"tumour_size_cm": -3}, "tumour_size_cm = -3: expected a number in cm greater than 0"),
        ({"radiotherapy_fractions": 2**63}, "radiotherapy_fractions = 9223372036854775808: "
         "expected a number of fractions from 1 to 1000 (plausibility bound"),
        ({"radiotherapy_fractions": 1001}, "radiotherapy_fractions = 1001: expected a number of "
         "fractions from 1 to 1000"),
    ],
)  # fmt: skip
def test_implausible_numbers_are_refused_saying_why(values: dict[str, Any], expected: str) -> None:
    found = problem(**values)
    assert found is not None and found.startswith(expected)


@pytest.mark.parametrize(
    "values", [{"tumour_size_cm": 0.01}, {"tumour_size_cm": 500}, {"radiotherapy_fractions": 1000}]
)
def test_the_bounds_themselves_are_accepted(values: dict[str, Any]) -> None:
    assert problem(**values) is None
