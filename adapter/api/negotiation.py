"""What every answer says about itself: JSON only, not to be sniffed, not to be cached.

- FHIR clients ask for XML with `_format=xml` (or `application/fhir+xml`, `text/xml`, ...) or
  with an Accept header naming only XML types. This server writes FHIR JSON only, so such a
  request is 406 with an OperationOutcome (FHIR REST: "unsupported format"), never a 200 in
  JSON the client cannot parse as what it asked for.
- A Host header outside `trusted_hosts` is 400 (the server answers only the names it was set
  up under: DNS rebinding, links built from a forged Host).
- `X-Content-Type-Options: nosniff` on every answer (a browser must not guess HTML out of a
  JSON body), and `Cache-Control: no-store` on every answer that may hold patient data (FHIR,
  admin, terminology answers; an answer that sets its own Cache-Control keeps it).
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import parse_qsl

from starlette.types import Scope

__all__ = ["DATA_PREFIXES", "extra_headers", "unsupported_format", "untrusted_host"]

DATA_PREFIXES = ("/fhir", "/admin")


def _is_xml(media: str) -> bool:
    media = media.split(";")[0].strip().lower()
    return media == "xml" or media.endswith("/xml") or media.endswith("+xml")


def unsupported_format(scope: Scope) -> str | None:
    """Why the request asks for a format this server does not write, or None."""
    if not str(scope.get("path", "")).startswith("/fhir"):
        return None
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name == "_format" and _is_xml(value):
            return f"_format={value}: this server writes FHIR JSON only (application/fhir+json)"
    for name, value in scope.get("headers", ()):
        if name == b"accept":
            offered = [m for m in value.decode("latin-1").split(",") if m.strip()]
            if offered and all(_is_xml(m) for m in offered):
                return ("Accept names XML only: this server writes FHIR JSON only "
                        "(application/fhir+json)")  # fmt: skip
    return None


def extra_headers(path: str, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The response's headers with nosniff, and no-store on data answers."""
    names = {name.lower() for name, _ in headers}
    out = list(headers)
    if b"x-content-type-options" not in names:
        out.append((b"x-content-type-options", b"nosniff"))
    if path.startswith(DATA_PREFIXES) and b"cache-control" not in names:
        out.append((b"cache-control", b"no-store"))
    return out


def untrusted_host(scope: Scope, allowed: Sequence[str]) -> str | None:
    """Why the Host header is not one this server answers (`trusted_hosts`), or None."""
    if "*" in allowed:
        return None
    host = ""
    for name, value in scope.get("headers", ()):
        if name == b"host":
            host = value.decode("latin-1").rsplit(":", 1)[0].strip("[]").lower()
    for pattern in allowed:
        pattern = pattern.lower()
        if host == pattern or (pattern.startswith("*.") and host.endswith(pattern[1:])):
            return None
    return f"host {host or '(none)'!r} is not served here (MDS_ADAPTER_TRUSTED_HOSTS)"
