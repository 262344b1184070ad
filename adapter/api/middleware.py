"""The outermost layer of every request: size limit, bad URLs, last-resort errors, one log line.

A pure ASGI middleware rather than Starlette's `BaseHTTPMiddleware`, because it must see the
request body as it streams (to stop a too-large one without reading it whole) and must catch
what no handler caught before the server does: uvicorn would log a stack trace, and a trace can
hold patient data. Here an unexpected exception becomes a 500 OperationOutcome and one log line
naming the exception class only.

Log lines are JSON, one per request: method, path (no query string), status, ms, client id
and a request id (also in a 500's diagnostics, so a report can be matched to its line).
Never a body, never a header value, never a query string (codes could be a patient's).

A URL whose path or query holds a NUL or another control character (after percent-decoding)
is answered 400 here, before any route: no FHIR id, code or identifier holds one, and a NUL
passed on to PostgreSQL fails the query (which would read as "database not reachable").
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import unquote_to_bytes

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapter.api.metrics import metrics_of, route_template
from adapter.api.negotiation import extra_headers, unsupported_format, untrusted_host
from adapter.api.outcomes import error_response

__all__ = ["ACCESS_LOG", "RequestGuard"]

ACCESS_LOG = logging.getLogger("adapter.api.access")
_CONTROL = re.compile(rb"[\x00-\x1f\x7f]")


class _TooLargeError(Exception):
    """The body grew past the limit while streaming."""


class RequestGuard:
    """Wraps the app: 413 over `max_body_bytes`, 500 for the uncaught, a JSON access line."""

    def __init__(self, app: ASGIApp, max_body_bytes: int,
                 trusted_hosts: Sequence[str] = ("*",)) -> None:  # fmt: skip
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.trusted_hosts = tuple(trusted_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state: dict[str, Any] = scope.setdefault("state", {})
        request_id = state.setdefault("request_id", uuid.uuid4().hex[:16])
        status = 500
        responded = False
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body_bytes:
                    raise _TooLargeError
            return message

        async def sending(message: Message) -> None:
            nonlocal status, responded
            if message["type"] == "http.response.start":
                status, responded = int(message["status"]), True
                message = {**message, "headers": extra_headers(
                    str(scope.get("path", "")), list(message.get("headers", ())))}  # fmt: skip
            await send(message)

        error: str | None = None
        try:
            if self._declared_length(scope) > self.max_body_bytes:
                raise _TooLargeError
            if (why := untrusted_host(scope, self.trusted_hosts)) is not None:
                await error_response(400, why)(scope, receive, sending)
            elif (where := self._control_in_url(scope)) is not None:
                await error_response(400, "the URL holds a control character (NUL, CR, LF, "
                                     "...): no FHIR id, code or parameter does", code="invalid",
                                     expression=where)(scope, receive, sending)  # fmt: skip
            elif (why := unsupported_format(scope)) is not None:
                await error_response(406, why, code="not-supported")(scope, receive, sending)
            else:
                await self.app(scope, counted, sending)
        except _TooLargeError:
            if not responded:
                await error_response(413, f"the request body exceeds {self.max_body_bytes} "
                                     "bytes")(scope, receive, sending)  # fmt: skip
        except Exception as exc:  # the last resort: no trace leaves this process
            error = type(exc).__name__
            if not responded:
                await error_response(500, f"internal error (request {request_id}, see the "
                                     "server log)")(scope, receive, sending)  # fmt: skip
        line: dict[str, Any] = {
            "method": scope.get("method"),
            "path": scope.get("path"),
            "status": status,
            "ms": round((time.perf_counter() - started) * 1000, 1),
            "client": state.get("client", "-"),
            "request": request_id,
        }
        if error is not None:
            line["error"] = error
        if (metrics := metrics_of(scope.get("app"))) is not None:
            metrics.request(str(line["method"]), route_template(scope), status,
                            time.perf_counter() - started)  # fmt: skip
        ACCESS_LOG.log(logging.ERROR if status >= 500 else logging.INFO,
                       orjson.dumps(line).decode())  # fmt: skip

    @staticmethod
    def _control_in_url(scope: Scope) -> list[str] | None:
        """None for a clean URL, else where the control character is: `[]` for the path, the
        parameter's name for the query."""
        if _CONTROL.search(str(scope.get("path", "")).encode("utf-8", "surrogateescape")):
            return []
        for part in bytes(scope.get("query_string", b"")).split(b"&"):
            name, _, value = part.partition(b"=")
            name, value = (unquote_to_bytes(x.replace(b"+", b" ")) for x in (name, value))
            if _CONTROL.search(name) or _CONTROL.search(value):
                clean = _CONTROL.sub(b"", name).decode("utf-8", "replace")
                return [clean] if clean else []
        return None

    @staticmethod
    def _declared_length(scope: Scope) -> int:
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    return int(value)
                except ValueError:
                    return 0
        return 0
