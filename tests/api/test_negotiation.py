"""406 for XML, nosniff everywhere, no-store on data answers, trusted hosts, minimum secret
lengths (issue 16 items 5 and 6)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from adapter.api.jwt_tokens import JwtVerifier
from adapter.config import Settings
from adapter.errors import ConfigurationError


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


def test_trusted_hosts(make_client: Callable[..., TestClient]) -> None:
    client = make_client(trusted_hosts=["registry.example.org", "*.sarcoma.example"])
    for host in ("registry.example.org", "registry.example.org:8443", "api.sarcoma.example"):
        assert client.get("/fhir/metadata", headers={"Host": host}).status_code == 200, host
    refused = client.get("/fhir/metadata", headers={"Host": "evil.example"})
    assert refused.status_code == 400
    assert refused.json()["issue"][0]["diagnostics"] == (
        "host 'evil.example' is not served here (MDS_ADAPTER_TRUSTED_HOSTS)"
    )


def test_secrets_have_minimum_lengths() -> None:
    with pytest.raises(ValidationError, match="1 API token\\(s\\) shorter than 16 characters"):
        Settings(api_keys={"short": {"client": "x", "scopes": ["admin"]}})
    weak = Settings(jwt_secret="only-20-bytes-long!!", jwt_issuer="i", jwt_audience="a")
    with pytest.raises(ConfigurationError, match="JWT_SECRET is too short \\(20 bytes\\)"):
        JwtVerifier.from_settings(weak)
