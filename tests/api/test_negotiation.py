"""406 for XML, nosniff everywhere, no-store on data answers (issue 16 item 5 and 6)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize("fmt", ["xml", "application/fhir+xml", "text/xml"])
def test_format_xml_is_406(client: TestClient, fmt: str) -> None:
    response = client.get("/fhir/metadata", params={"_format": fmt})
    assert response.status_code == 406
    issue = response.json()["issue"][0]
    assert (issue["severity"], issue["code"]) == ("error", "not-supported")
    assert issue["diagnostics"] == (
        f"_format={fmt}: this server writes FHIR JSON only (application/fhir+json)"
    )


def test_accept_xml_only_is_406_and_json_among_others_is_served(client: TestClient) -> None:
    xml = client.get("/fhir/metadata", headers={"Accept": "application/fhir+xml"})
    assert xml.status_code == 406
    both = client.get(
        "/fhir/metadata", headers={"Accept": "application/fhir+xml, application/fhir+json"}
    )
    assert both.status_code == 200
    assert client.get("/fhir/metadata", params={"_format": "json"}).status_code == 200


def test_security_headers(client: TestClient) -> None:
    data = client.get("/fhir/metadata")
    assert data.headers["x-content-type-options"] == "nosniff"
    assert data.headers["cache-control"] == "no-store"
    missing = client.get("/fhir/Nothing/here")
    assert missing.headers["x-content-type-options"] == "nosniff"
    assert missing.headers["cache-control"] == "no-store"
    health = client.get("/health")
    assert health.headers["x-content-type-options"] == "nosniff"
    assert "cache-control" not in health.headers
