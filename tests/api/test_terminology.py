"""$translate, $lookup, $validate-code over HTTP: GET and POST give the same Parameters."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from adapter.api.outcomes import FHIR_JSON
from adapter.terminology.maps import MDS_CODESYSTEM_BASE, MDS_VALUESET_BASE, mds_system

CONDITION = MDS_CODESYSTEM_BASE + "icdo3-condition"
OMOP = "http://fhir.ohdsi.org/CodeSystem/concepts"


def parameters(**values: Any) -> dict[str, Any]:
    out = []
    for name, value in values.items():
        kind = "valueCoding" if isinstance(value, dict) else "valueString"
        out.append({"name": name, kind: value})
    return {"resourceType": "Parameters", "parameter": out}


def matches(body: dict[str, Any]) -> list[tuple[str, str, str]]:
    found = []
    for p in body["parameter"]:
        if p["name"] == "match":
            parts = {x["name"]: x for x in p["part"]}
            coding = parts["concept"]["valueCoding"]
            found.append((parts["equivalence"]["valueCode"], coding["system"], coding["code"]))
    return found


def test_translate_answers_the_histology_topography_pair(client: TestClient) -> None:
    response = client.get("/fhir/ConceptMap/$translate",
                          params={"system": CONDITION, "code": "8805/3-C49.2"})  # fmt: skip
    assert response.status_code == 200
    assert response.headers["content-type"] == FHIR_JSON
    body = response.json()
    assert body["parameter"][0] == {"name": "result", "valueBoolean": True}
    assert matches(body) == [("equivalent", OMOP, "36529931")]


def test_translate_post_with_a_coding_gives_the_same(client: TestClient) -> None:
    body = parameters(coding={"system": CONDITION, "code": "8805/3-C49.2"}, targetsystem=OMOP)
    response = client.post("/fhir/ConceptMap/$translate", json=body,
                           headers={"Content-Type": FHIR_JSON})  # fmt: skip
    assert response.status_code == 200
    assert matches(response.json()) == [("equivalent", OMOP, "36529931")]


def test_translate_without_a_match_says_false(client: TestClient) -> None:
    body = client.get("/fhir/ConceptMap/$translate",
                      params={"system": CONDITION, "code": "0000/0-C00.0"}).json()  # fmt: skip
    assert body["parameter"][0] == {"name": "result", "valueBoolean": False}
    assert body["parameter"][1]["name"] == "message"


def test_translate_without_code_is_400(client: TestClient) -> None:
    response = client.get("/fhir/ConceptMap/$translate", params={"system": CONDITION})
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["code"]


def test_post_of_something_else_than_parameters_is_400(client: TestClient) -> None:
    response = client.post("/fhir/CodeSystem/$lookup", json={"resourceType": "Patient"})
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["Parameters"]


def test_lookup_an_omop_concept(client: TestClient) -> None:
    response = client.get("/fhir/CodeSystem/$lookup", params={"system": OMOP, "code": "36529931"})
    assert response.status_code == 200
    params = response.json()["parameter"]
    assert params[1]["name"] == "display" and params[1]["valueString"].startswith("Undiff")
    props = {p["part"][0]["valueCode"]: p["part"][1]["valueString"]
             for p in params if p["name"] == "property"}  # fmt: skip
    assert props["vocabulary_id"] == "ICDO3" and props["concept_code"] == "8805/3-C49.2"


def test_lookup_of_an_unknown_code_is_404(client: TestClient) -> None:
    response = client.post("/fhir/CodeSystem/$lookup", json=parameters(system=OMOP, code="1"))
    assert response.status_code == 404
    assert response.json()["issue"][0]["code"] == "not-found"


def test_validate_code(client: TestClient) -> None:
    grade = mds_system("histologic_grade")
    url = MDS_VALUESET_BASE + "histologic-grade"
    good = client.get("/fhir/ValueSet/$validate-code",
                      params={"url": url, "system": grade, "code": "G3"}).json()  # fmt: skip
    assert good["parameter"][0] == {"name": "result", "valueBoolean": True}
    bad = client.post("/fhir/ValueSet/$validate-code",
                      json=parameters(url=url, system=grade, code="G9")).json()  # fmt: skip
    assert bad["parameter"][:2] == [
        {"name": "result", "valueBoolean": False},
        {"name": "message", "valueString": "G9 is not a code of histologic_grade"},
    ]


def test_terminology_can_require_a_token(make_client: Any) -> None:
    closed = make_client(api_open_terminology=False)
    params = {"system": CONDITION, "code": "8805/3-C49.2"}
    assert closed.get("/fhir/ConceptMap/$translate", params=params).status_code == 401
    ok = closed.get("/fhir/ConceptMap/$translate", params=params,
                    headers={"Authorization": "Bearer tok-none-0123456789"})  # fmt: skip
    assert ok.status_code == 200
