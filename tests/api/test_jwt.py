"""JWT bearer tokens: signed here with generated keys (HS256, RS256 PEM, ES256 JWKS)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi.testclient import TestClient

from adapter.errors import ConfigurationError
from adapter.stores.omop_db import init_db
from tests.api.conftest import bundle, entries

ISSUER = "https://idp.example.org/realms/mds"
AUDIENCE = "mds-adapter"
SECRET = "a-shared-secret-of-at-least-32-bytes!"
RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 300,
            "client_id": "registry-etl", "scope": "openid bundle.write patient/*.read"}  # fmt: skip
    return {k: v for k, v in {**base, **changes}.items() if v is not None}


def hs256(**changes: Any) -> str:
    return jwt.encode(claims(**changes), SECRET, algorithm="HS256")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"}


@pytest.fixture
def key_files(tmp_path: Path) -> dict[str, Path]:
    pem = tmp_path / "rsa.pem"
    pem.write_bytes(RSA_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))  # fmt: skip
    jwk = orjson.loads(jwt.algorithms.ECAlgorithm.to_jwk(EC_KEY.public_key()))
    jwks = tmp_path / "jwks.json"
    jwks.write_bytes(orjson.dumps({"keys": [{**jwk, "kid": "ec-1", "alg": "ES256"}]}))
    return {"pem": pem, "jwks": jwks}


@pytest.fixture
def jwt_client(make_client: Callable[..., TestClient], key_files: dict[str, Path]) -> TestClient:
    """An app over a SQLite file accepting JWTs from all three kinds of key, and the keys."""
    url = f"sqlite:///{key_files['pem'].parent / 'omop.sqlite'}"
    init_db(url)
    return make_client(url, jwt_secret=SECRET, jwt_public_key=key_files["pem"],
                       jwt_jwks_file=key_files["jwks"], jwt_issuer=ISSUER,
                       jwt_audience=AUDIENCE)  # fmt: skip


def test_a_jwt_with_bundle_write_posts_and_its_client_is_audited(
    db_url: str, make_client: Callable[..., TestClient]
) -> None:
    init_db(db_url)
    client = make_client(db_url, jwt_secret=SECRET, jwt_issuer=ISSUER, jwt_audience=AUDIENCE)
    response = client.post("/fhir", json=bundle("batch", entries(1)), headers=bearer(hs256()))
    assert response.status_code == 200
    admin = hs256(client_id=None, sub="ops-monitor", scope="admin")
    receipt = client.get(f"/admin/receipts/{response.json()['id']}", headers=bearer(admin))
    assert (receipt.status_code, receipt.json()["client"]) == (200, "registry-etl")


@pytest.mark.parametrize("kind", ["hs256", "rs256", "es256"])
def test_each_kind_of_key_verifies(jwt_client: TestClient, kind: str) -> None:
    token = {
        "hs256": lambda: hs256(scope="admin"),
        "rs256": lambda: jwt.encode(claims(scope="admin"), RSA_KEY, algorithm="RS256"),
        "es256": lambda: jwt.encode(claims(scope="admin"), EC_KEY, algorithm="ES256",
                                    headers={"kid": "ec-1"}),
    }[kind]()  # fmt: skip
    response = jwt_client.get("/admin/receipts/unknown", headers=bearer(token))
    assert response.status_code == 404  # authenticated and authorised: the receipt is unknown


OTHER_EC = ec.generate_private_key(ec.SECP256R1())


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (lambda: hs256(exp=int(time.time()) - 120), "the token has expired"),
        (lambda: hs256(aud="another-service"), "the token is for another audience"),
        (lambda: hs256(iss="https://evil.example.org"), "the token is from another issuer"),
        (lambda: hs256(exp=None), "the token has no exp claim"),
        (lambda: hs256(nbf=int(time.time()) + 600), "the token is not valid yet"),
        (lambda: jwt.encode(claims(), "another-secret-of-at-least-32-bytes", algorithm="HS256"),
         "the token's signature does not verify"),
        (lambda: jwt.encode(claims(), OTHER_EC, algorithm="ES256", headers={"kid": "ec-1"}),
         "the token's signature does not verify"),
        (lambda: jwt.encode(claims(), None, algorithm="none"),
         "no configured key verifies this token's algorithm and key id"),
        (lambda: jwt.encode(claims(), OTHER_EC, algorithm="ES256", headers={"kid": "ec-9"}),
         "no configured key verifies this token's algorithm and key id"),
        (lambda: hs256(client_id=None), "the token names no client (client_id or sub)"),
        (lambda: "a.b.c", "the token is not a JWT"),
    ],
)  # fmt: skip
def test_invalid_tokens_get_401_invalid_token(
    jwt_client: TestClient, token: Callable[[], str], reason: str
) -> None:
    response = jwt_client.post("/fhir", json=bundle("batch", []), headers=bearer(token()))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == (
        f'Bearer realm="mds-adapter", error="invalid_token", error_description="{reason}"'
    )
    assert response.json()["resourceType"] == "OperationOutcome"
    assert response.json()["issue"][0]["diagnostics"] == f"the bearer token is not valid: {reason}"


def test_an_hs256_token_signed_with_the_public_key_is_refused(
    make_client: Callable[..., TestClient], key_files: dict[str, Path]
) -> None:
    """Algorithm confusion: the PEM key verifies RS256 only, never an HMAC with itself."""
    client = make_client(jwt_public_key=key_files["pem"], jwt_issuer=ISSUER,
                         jwt_audience=AUDIENCE)  # fmt: skip
    forged = _hmac_token(key_files["pem"].read_bytes())
    response = client.post("/fhir", json=bundle("batch", []), headers=bearer(forged))
    assert response.status_code == 401


def _hmac_token(secret: bytes) -> str:
    """An HS256 JWT made by hand (PyJWT refuses to use a PEM key as an HMAC secret)."""

    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing = f"{part(orjson.dumps({'alg': 'HS256', 'typ': 'JWT'}))}.{part(orjson.dumps(claims()))}"
    signature = hmac.new(secret, signing.encode(), hashlib.sha256).digest()
    return f"{signing}.{part(signature)}"


def test_leeway_and_scopes(jwt_client: TestClient) -> None:
    late = hs256(exp=int(time.time()) - 10)  # within the 30 s leeway
    assert jwt_client.post("/fhir", json={}, headers=bearer(late)).status_code == 400  # in
    admin_only = hs256(scope="admin openid")
    response = jwt_client.post("/fhir", json=bundle("batch", []), headers=bearer(admin_only))
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]
    configured = {
        "Authorization": "Bearer tok-write-0123456789",
        "Content-Type": "application/fhir+json",
    }
    assert jwt_client.post("/fhir", json={}, headers=configured).status_code == 400  # keys too


def test_jwt_keys_without_issuer_and_audience_are_a_configuration_error(
    make_client: Callable[..., TestClient],
) -> None:
    with pytest.raises(ConfigurationError, match="MDS_ADAPTER_JWT_ISSUER"):
        make_client(jwt_secret=SECRET)
