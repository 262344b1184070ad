"""JWT bearer tokens (RFC 7519) beside the configured keys, verified with local keys only.

An identity provider (Keycloak, an OAuth 2 / SMART authorisation server) issues the tokens;
the adapter checks them against keys from its settings and never fetches anything: an HS256
shared secret (`MDS_ADAPTER_JWT_SECRET`), an RSA or P-256 public key in a PEM file
(`MDS_ADAPTER_JWT_PUBLIC_KEY`, RS256 / ES256) and/or a JWKS file (`MDS_ADAPTER_JWT_JWKS_FILE`,
keys chosen by `kid`). A token must carry `exp`, `iss` and `aud`, equal to
`MDS_ADAPTER_JWT_ISSUER` and `MDS_ADAPTER_JWT_AUDIENCE`; `exp` and `nbf` allow
`MDS_ADAPTER_JWT_LEEWAY` seconds of clock skew. Scopes come from the `scope` claim, space
separated as OAuth 2 (RFC 8693 §4.2) and SMART say; names the adapter does not know (SMART's
`patient/*.read`, `openid`) are ignored. The client is `client_id`, else `sub`. An optional
`mds_institutions` claim (space separated) limits what the token reads and writes to those
institutions' records, as `institutions` does for a configured key.

The algorithm list is fixed per key (never taken from the token alone, never `none`), so a
token cannot pick HS256 with a public key as its secret.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from adapter.config import Scope, Settings
from adapter.errors import ConfigurationError

__all__ = [
    "INSTITUTIONS_CLAIM",
    "MIN_HS256_SECRET",
    "InvalidTokenError",
    "JwtVerifier",
    "VerifiedToken",
    "looks_like_jwt",
]

MIN_HS256_SECRET = 32
"""Bytes: RFC 7518 section 3.2 requires a key at least as long as the hash output (256 bits)."""

INSTITUTIONS_CLAIM = "mds_institutions"

_SCOPES = {s.value: s for s in Scope}


class InvalidTokenError(Exception):
    """The token is not acceptable; the message says why, without the token's content."""


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    client: str
    scopes: frozenset[Scope]
    institutions: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class _Key:
    key: Any
    algorithms: tuple[str, ...]
    kid: str | None = None


def looks_like_jwt(token: str) -> bool:
    """Three base64url parts: header.payload.signature (a configured key never has dots)."""
    return token.count(".") == 2


def _pem_key(path: Path) -> _Key:
    try:
        key = load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise ConfigurationError(
            f"MDS_ADAPTER_JWT_PUBLIC_KEY: not a PEM public key: {path}"
        ) from exc
    if isinstance(key, rsa.RSAPublicKey):
        return _Key(key, ("RS256",))
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return _Key(key, ("ES256",))
    raise ConfigurationError("MDS_ADAPTER_JWT_PUBLIC_KEY: an RSA or P-256 key is needed")


def _jwks_keys(path: Path) -> list[_Key]:
    try:
        keys = jwt.PyJWKSet.from_json(path.read_text(encoding="utf-8")).keys
    except (OSError, jwt.PyJWKError, jwt.PyJWKSetError, ValueError) as exc:
        raise ConfigurationError(f"MDS_ADAPTER_JWT_JWKS_FILE: not a usable JWKS: {path}") from exc
    return [_Key(k.key, (k.algorithm_name,), k.key_id) for k in keys]


@dataclass(frozen=True, slots=True)
class JwtVerifier:
    """The configured keys and the claims every token must carry."""

    keys: tuple[_Key, ...]
    issuer: str
    audience: str
    leeway: int

    @classmethod
    def from_settings(cls, settings: Settings) -> JwtVerifier | None:
        """None when no JWT key is configured; a ConfigurationError when half configured."""
        keys: list[_Key] = []
        if settings.jwt_secret is not None:
            secret = settings.jwt_secret.get_secret_value().encode()
            if len(secret) < MIN_HS256_SECRET:
                raise ConfigurationError(
                    f"MDS_ADAPTER_JWT_SECRET is too short ({len(secret)} bytes): HS256 needs at "
                    f"least {MIN_HS256_SECRET} (RFC 7518 3.2), e.g. `openssl rand -hex 32`"
                )
            keys.append(_Key(secret, ("HS256",)))
        if settings.jwt_public_key is not None:
            keys.append(_pem_key(settings.jwt_public_key))
        if settings.jwt_jwks_file is not None:
            keys += _jwks_keys(settings.jwt_jwks_file)
        if not keys:
            return None
        if not settings.jwt_issuer or not settings.jwt_audience:
            raise ConfigurationError(
                "JWT keys are configured: MDS_ADAPTER_JWT_ISSUER and MDS_ADAPTER_JWT_AUDIENCE "
                "are required too"
            )
        return cls(tuple(keys), settings.jwt_issuer, settings.jwt_audience, settings.jwt_leeway)

    def verify(self, token: str) -> VerifiedToken:
        """The client and scopes of a valid token; InvalidTokenError saying why otherwise."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise InvalidTokenError("the token is not a JWT") from exc
        alg, kid = header.get("alg"), header.get("kid")
        keys = [
            k for k in self.keys if alg in k.algorithms and (kid is None or k.kid in (None, kid))
        ]
        if not keys:
            raise InvalidTokenError("no configured key verifies this token's algorithm and key id")
        for key in keys:
            try:
                claims = jwt.decode(
                    token, key.key, algorithms=list(key.algorithms), audience=self.audience,
                    issuer=self.issuer, leeway=self.leeway,
                    options={"require": ["exp", "iss", "aud"]},
                )  # fmt: skip
            except jwt.InvalidSignatureError:
                continue
            except jwt.ExpiredSignatureError as exc:
                raise InvalidTokenError("the token has expired") from exc
            except jwt.ImmatureSignatureError as exc:
                raise InvalidTokenError("the token is not valid yet") from exc
            except jwt.InvalidAudienceError as exc:
                raise InvalidTokenError("the token is for another audience") from exc
            except jwt.InvalidIssuerError as exc:
                raise InvalidTokenError("the token is from another issuer") from exc
            except jwt.MissingRequiredClaimError as exc:
                raise InvalidTokenError(f"the token has no {exc.claim} claim") from exc
            except jwt.InvalidTokenError as exc:
                raise InvalidTokenError("the token is malformed") from exc
            return _verified(claims)
        raise InvalidTokenError("the token's signature does not verify")


def _verified(claims: dict[str, Any]) -> VerifiedToken:
    client = claims.get("client_id") or claims.get("sub")
    if not isinstance(client, str) or not 0 < len(client) <= 100:
        raise InvalidTokenError("the token names no client (client_id or sub)")
    scope = claims.get("scope", "")
    if not isinstance(scope, str):
        raise InvalidTokenError("the scope claim must be a space-separated string")
    institutions = claims.get(INSTITUTIONS_CLAIM)
    if institutions is not None and not isinstance(institutions, str):
        raise InvalidTokenError(f"the {INSTITUTIONS_CLAIM} claim must be a space-separated string")
    scopes = frozenset(_SCOPES[s] for s in scope.split() if s in _SCOPES)
    limited = None if institutions is None else frozenset(institutions.split())
    return VerifiedToken(client, scopes, limited)
