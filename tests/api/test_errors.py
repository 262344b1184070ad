"""One error shape everywhere: an OperationOutcome as application/fhir+json (STYLE.md 14)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import orjson
import pytest
from fastapi import APIRouter
from fastapi.testclient import TestClient

from adapter.api.metadata import CAPABILITIES
from adapter.api.outcomes import FHIR_JSON


def outcome(response: object, status: int, code: str) -> dict[str, object]:
    """Assert the shape; return the first issue."""
    assert response.status_code == status  # type: ignore[attr-defined]
    assert response.headers["content-type"] == FHIR_JSON  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["severity"] == "error"
    assert body["issue"][0]["code"] == code
    first: dict[str, object] = body["issue"][0]
    return first


def test_unknown_route_is_404(client: TestClient) -> None:
    outcome(client.get("/fhir/Nothing/1"), 404, "not-found")


def test_wrong_method_is_405_with_allow(client: TestClient) -> None:
    response = client.delete("/fhir/metadata")
    outcome(response, 405, "not-supported")
    assert response.headers["allow"] == "GET"


def test_bad_query_parameter_is_400_naming_it(client: TestClient) -> None:
    issue = outcome(client.get("/fhir/ConceptMap/$translate?code=x&system=y&reverse=maybe"),
                    400, "invalid")  # fmt: skip
    assert issue["expression"] == ["reverse"]


def test_no_token_is_401_with_challenge(client: TestClient) -> None:
    response = client.post("/fhir", json={})
    outcome(response, 401, "login")
    assert response.headers["www-authenticate"].startswith("Bearer ")


def test_unknown_token_is_401(client: TestClient) -> None:
    response = client.post("/fhir", json={}, headers={"Authorization": "Bearer nope"})
    outcome(response, 401, "login")
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


@pytest.mark.parametrize("token", ["tok-none-0123456789", "tok-admin-0123456789"])
def test_missing_scope_is_403(client: TestClient, token: str) -> None:
    response = client.post("/fhir", json={}, headers={"Authorization": f"Bearer {token}"})
    outcome(response, 403, "forbidden")


def test_body_over_the_limit_is_413(make_client: Callable[..., TestClient]) -> None:
    client = make_client(max_body_bytes=100)
    body = orjson.dumps({"resourceType": "Bundle", "type": "batch", "entry": [{}] * 50})
    response = client.post("/fhir", content=body, headers={
        "Authorization": "Bearer tok-write-0123456789", "Content-Type": FHIR_JSON})  # fmt: skip
    outcome(response, 413, "too-costly")


def test_wrong_media_type_is_415(client: TestClient) -> None:
    response = client.post("/fhir", content=b"<Bundle/>", headers={
        "Authorization": "Bearer tok-write-0123456789",
        "Content-Type": "application/xml"})  # fmt: skip
    outcome(response, 415, "not-supported")


def test_unexpected_exception_is_500_without_trace(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    router = APIRouter()

    @router.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret patient SYN-1")

    client.app.include_router(router)  # type: ignore[attr-defined]
    with caplog.at_level(logging.INFO, logger="adapter.api.access"):
        response = client.get("/boom")
    issue = outcome(response, 500, "exception")
    assert "SYN-1" not in response.text and "Traceback" not in response.text
    assert "request" in str(issue["diagnostics"])
    line = orjson.loads(caplog.records[-1].getMessage())
    assert line["status"] == 500 and line["error"] == "RuntimeError"
    assert "SYN-1" not in caplog.text


def test_one_json_log_line_per_request_without_body_or_query(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="adapter.api.access"):
        client.get("/fhir/CodeSystem/$lookup?system=s&code=SECRET")
        client.post("/fhir", content=b'{"x": "SECRET"}', headers={
            "Authorization": "Bearer tok-none-0123456789", "Content-Type": FHIR_JSON})  # fmt: skip
    lines = [orjson.loads(r.getMessage()) for r in caplog.records]
    assert [(x["method"], x["path"], x["status"], x["client"]) for x in lines] == [
        ("GET", "/fhir/CodeSystem/$lookup", 404, "-"),
        ("POST", "/fhir", 403, "nobody"),
    ]
    assert all(set(x) == {"method", "path", "status", "ms", "client", "request"} for x in lines)
    assert "SECRET" not in caplog.text


def test_capability_statement_matches_the_routes(client: TestClient) -> None:
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    routes = {(m.upper(), p) for p, ops in paths.items() for m in ops if p.startswith("/fhir")}
    assert routes == set(CAPABILITIES)
    body = client.get("/fhir/metadata").json()
    rest = body["rest"][0]
    operations = {(r["type"], o["name"]) for r in rest["resource"] for o in r.get("operation", [])}
    declared = {p for _, p in CAPABILITIES if "$" in p}
    system = {p for p in declared if p.split("/")[2].startswith("$")}
    assert {p.split("/")[2] + "/" + p.split("$")[1] for p in declared - system} == {
        f"{t}/{n}" for t, n in operations
    }
    assert {p.split("$")[1] for p in system} == {o["name"] for o in rest["operation"]}
    assert {i["code"] for i in rest["interaction"]} == {"transaction", "batch"}
    assert body["fhirVersion"] == "4.0.1" and body["format"] == [FHIR_JSON]
    assert body["implementationGuide"] == [
        "http://hl7.eu/fhir/ig/idea4rc/ImplementationGuide/hl7.eu.fhir.idea4rc"
    ]
    by_type = {r["type"]: r for r in rest["resource"]}
    patient = by_type["Patient"]
    assert [i["code"] for i in patient["interaction"]] == [
        "create", "update", "delete", "read", "search-type"
    ]  # fmt: skip
    assert (patient["conditionalCreate"], patient["conditionalUpdate"],
            patient["conditionalDelete"]) == (True, True, "single")  # fmt: skip
    assert (
        "http://hl7.eu/fhir/ig/idea4rc/StructureDefinition/Condition-primaryCancer-eu-i4rc"
        in (by_type["Condition"]["supportedProfile"])
    )
    assert by_type["Observation"]["conditionalDelete"] == "not-supported"


def test_health_is_200_when_the_database_answers(db_client: TestClient) -> None:
    response = db_client.get("/health")
    assert response.status_code == 200
    assert response.json()["issue"][0]["severity"] == "information"


def test_health_is_503_on_a_database_db_init_has_not_made(client: TestClient) -> None:
    first = outcome(client.get("/health"), 503, "exception")
    assert first["diagnostics"] == (
        "the database is not initialised (no OMOP CDM tables): run `mds-adapter db init`"
    )


def test_health_is_503_when_it_does_not(make_client: Callable[..., TestClient]) -> None:
    client = make_client("postgresql+psycopg://postgres@127.0.0.1:1/none?connect_timeout=1")
    outcome(client.get("/health"), 503, "transient")
