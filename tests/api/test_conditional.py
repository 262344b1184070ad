"""adapter/api/conditional.py: entry requests checked against the resource they carry."""

from __future__ import annotations

from typing import Any

import pytest

from adapter.api.conditional import EntryRequest, check_request, search_identifier
from adapter.fhir.ids import SID
from adapter.stores.incoming import Tombstone

SYSTEM = f"{SID}Istituto%20X"
QUERY = f"identifier={SID}Istituto%2520X|R%201"  # SYSTEM|R 1, percent-encoded
PATIENT: dict[str, Any] = {"resourceType": "Patient", "id": "p1",
                           "identifier": [{"system": SYSTEM, "value": "R 1"}]}  # fmt: skip


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (QUERY, (SYSTEM, "R 1")),
        ("identifier=a|b|c", ("a", "b|c")),
        ("identifier=a", None),
        ("identifier=|b", None),
        ("_id=a|b", None),
        ("identifier=a|b&_count=1", None),
    ],
)
def test_search_identifier(query: str, expected: tuple[str, str] | None) -> None:
    assert search_identifier(query) == expected


def entry(request: dict[str, Any] | None, resource: dict[str, Any] | None = PATIENT) -> Any:
    return {k: v for k, v in (("request", request), ("resource", resource)) if v is not None}


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (None, EntryRequest("PUT")),
        ({"method": "PUT", "url": f"Patient?{QUERY}"},
         EntryRequest("PUT")),
        ({"method": "PUT", "url": "Patient/p1"}, EntryRequest("PUT")),
        ({"method": "POST", "url": "Patient"}, EntryRequest("POST")),
        ({"method": "POST", "url": "Patient", "ifNoneExist": QUERY},
         EntryRequest("POST", create_only=True)),
        ({"method": "DELETE", "url": f"Patient?identifier={SID}_|R1"},
         EntryRequest("DELETE", delete=Tombstone("R1", ""))),
        ({"method": "DELETE", "url": f"Patient?identifier={SID}Istituto%2520X|R1"},
         EntryRequest("DELETE", delete=Tombstone("R1", "Istituto X"))),
        ({"method": "DELETE", "url": "Patient/a11f2c07-77df-502f-88b9-8194b40099bf"},
         EntryRequest("DELETE", patient="a11f2c07-77df-502f-88b9-8194b40099bf")),
    ],
)  # fmt: skip
def test_accepted_requests(request_: dict[str, Any] | None, expected: EntryRequest) -> None:
    assert check_request(entry(request_), "Bundle.entry[0]") == expected


@pytest.mark.parametrize(
    ("request_", "code", "element"),
    [
        ({"method": "PUT", "url": f"Patient?identifier={SYSTEM}|R2"}, "invalid", "url"),
        ({"method": "PUT", "url": f"Observation?identifier={SYSTEM}|R 1"}, "invalid", "url"),
        ({"method": "PUT", "url": "Patient/p2"}, "invalid", "url"),
        ({"method": "PUT"}, "required", "url"),
        ({"method": "POST", "url": "Patient/p1"}, "invalid", "url"),
        ({"method": "POST", "url": "Patient", "ifNoneExist": "identifier=x|R 1"}, "invalid",
         "ifNoneExist"),
        ({"method": "PATCH", "url": "Patient/p1"}, "not-supported", "method"),
        ({"method": "DELETE", "url": "Condition?identifier=x|y"}, "not-supported", "url"),
        ({"method": "DELETE", "url": "Condition/c1"}, "not-supported", "url"),
        ({"method": "DELETE", "url": "Patient/"}, "not-supported", "url"),
        ({"method": "DELETE", "url": "Patient/p1?_id=p1"}, "not-supported", "url"),
    ],
)  # fmt: skip
def test_refused_requests_name_the_element(
    request_: dict[str, Any], code: str, element: str
) -> None:
    found = check_request(entry(request_), "Bundle.entry[3]")
    assert isinstance(found, dict)
    assert (found["code"], found["expression"]) == (code, [f"Bundle.entry[3].request.{element}"])
