"""The served API over TCP: what an integration engine sees first."""

from __future__ import annotations

import httpx2 as httpx
import orjson

from tests.api.conftest import bundle, entries
from tests.live.server import LiveServer


def test_metadata_is_served_and_a_post_without_a_token_gets_401(server: LiveServer) -> None:
    statement = httpx.get(f"{server.fhir}/metadata").json()
    assert (statement["resourceType"], statement["fhirVersion"]) == (
        "CapabilityStatement", "4.0.1")  # fmt: skip
    body = orjson.dumps(bundle("transaction", entries(1)))
    posted = httpx.post(
        server.fhir, content=body, headers={"Content-Type": "application/fhir+json"}
    )
    assert posted.status_code == 401
    assert posted.headers["www-authenticate"].startswith("Bearer")
    outcome = posted.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["diagnostics"] == "a bearer token is required"
