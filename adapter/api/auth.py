"""Bearer tokens with scopes: who is calling, and may they call this route?

Tokens are configured keys (`MDS_ADAPTER_API_KEYS`, adapter/config.py), each naming a client
and its scopes, or JWTs verified with configured keys (adapter/api/jwt_tokens.py): a token that
is no configured key and looks like a JWT is verified as one; an invalid one gets 401 with
`error="invalid_token"` and the reason (expired, wrong audience, bad signature). A route
declares the scope it needs with `Depends(require(Scope.X))`; the answer is 401 with
`WWW-Authenticate: Bearer` when the token is missing or unknown, 403 when the token lacks the
scope, both as OperationOutcomes. Scopes do not imply each other: `admin` reads receipts, the
quarantine, runs, statistics and metrics and re-processes quarantine items, but cannot post
bundles.

The client id (never the token) goes into `request.state.client` for the request log and the
audit table. Tokens are compared in constant time against every configured key.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from adapter.api.jwt_tokens import InvalidTokenError, looks_like_jwt
from adapter.api.outcomes import ApiError
from adapter.config import ApiKey, Scope

__all__ = [
    "ANONYMOUS",
    "BEARER",
    "Client",
    "authenticate",
    "identify",
    "require",
    "require_terminology_read",
]

BEARER = HTTPBearer(
    auto_error=False, description="A configured API key (MDS_ADAPTER_API_KEYS) or a JWT"
)


@dataclass(frozen=True, slots=True)
class Client:
    """The caller: the configured client name, its scopes, and the institutions whose records
    it may read (None: all)."""

    id: str
    scopes: frozenset[Scope]
    institutions: frozenset[str] | None = None

    def reads(self, institution: str | None) -> bool:
        """May this client read a record of `institution` ("" or None: a record without one)?"""
        return self.institutions is None or (institution or "") in self.institutions


ANONYMOUS = Client("-", frozenset())


def authenticate(token: str, keys: Mapping[str, ApiKey]) -> Client | None:
    """The client a token stands for, or None; every key is compared, in constant time."""
    found: ApiKey | None = None
    given = token.encode("utf-8")
    for key, value in keys.items():
        if hmac.compare_digest(given, key.encode("utf-8")):
            found = value
    return None if found is None else Client(found.client, found.scopes, found.institutions)


def _challenge(error: str, description: str = "") -> dict[str, str]:
    described = f', error_description="{description}"' if description else ""
    return {"WWW-Authenticate": f'Bearer realm="mds-adapter", error="{error}"{described}'}


def identify(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Client:
    """The client of a valid bearer token (401 otherwise), noted in request.state."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiError(401, "a bearer token is required", headers=_challenge("invalid_request"))
    state = request.app.state.api
    token = credentials.credentials
    client = authenticate(token, state.settings.api_keys)
    if client is None and state.jwt is not None and looks_like_jwt(token):
        try:
            found = state.jwt.verify(token)
        except InvalidTokenError as exc:
            raise ApiError(401, f"the bearer token is not valid: {exc}",
                           headers=_challenge("invalid_token", str(exc))) from None  # fmt: skip
        client = Client(found.client, found.scopes, found.institutions)
    if client is None:
        raise ApiError(401, "the bearer token is not valid", headers=_challenge("invalid_token"))
    request.state.client = client.id
    return client


def require(scope: Scope) -> Callable[..., Awaitable[Client]]:
    """A dependency that lets only tokens holding `scope` through."""

    async def check(
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Depends(BEARER),  # noqa: B008
    ) -> Client:
        client = identify(request, credentials)
        if scope not in client.scopes:
            raise ApiError(
                403, f"this token lacks the scope {scope.value}",
                headers=_challenge("insufficient_scope"),
            )  # fmt: skip
        return client

    check.__name__ = f"require_{scope.name.lower()}"
    return check


async def require_terminology_read(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(BEARER),  # noqa: B008
) -> Client:
    """Terminology reads: open by default (no patient data), else any valid token."""
    if request.app.state.api.settings.api_open_terminology and credentials is None:
        return ANONYMOUS
    return identify(request, credentials)
