"""Posting records to a FHIR server as transaction Bundles: bounded, retried, resumable.

    state = PushState(Path("push-state.jsonl"))
    for outcome in push(bundles, "http://host/fhir", token="…", in_flight=4, state=state):
        ...  # one Outcome per bundle, in input order

- At most `in_flight` Bundles are on the wire at once (a thread each, one shared keep-alive
  client), and input is read only as far as the window needs: memory does not grow with it.
- 429, 502, 503, 504 and connection errors are retried up to `RetryPolicy.attempts` times,
  waiting `RetryPolicy.delay`: the server's Retry-After when it sends one, else exponential
  back-off with jitter. Any other 4xx is final for that Bundle (its OperationOutcome
  diagnostics are the outcome's issues); 401 and 403 stop the whole push (`PushAuthError`):
  every other Bundle would get the same answer.
- Resumable: the state file has one JSON line per accepted Bundle (record key + sha256 of the
  Bundle's bytes), appended and flushed as soon as the server accepts it, so a killed push
  loses at most the Bundles in flight. A Bundle whose key and hash are in the state is skipped;
  a changed record makes different bytes and is sent again. The last line of a key wins.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Literal

import httpx2 as httpx
import orjson

from adapter.stores.retry import RetryPolicy, retry_after

__all__ = [
    "RETRYABLE",
    "Outcome",
    "PushAuthError",
    "PushState",
    "ToPush",
    "bundle_digest",
    "push",
]

RETRYABLE = frozenset({429, 502, 503, 504})
RECEIPT_HEADER = "X-Receipt-Id"
Status = Literal["accepted", "rejected", "failed", "skipped", "invalid"]


class PushAuthError(Exception):
    """The server refused the token (401) or its scope (403): no Bundle can go in."""


@dataclass(frozen=True, slots=True)
class ToPush:
    """One Bundle to send: its record's key (`institution|record_id`) and its bytes."""

    key: str
    record_id: str | None
    body: bytes | None  # None: the input could not be read into a record
    problem: str = ""  # why it is None


@dataclass(slots=True)
class Outcome:
    """What became of one Bundle; `issues` are OperationOutcome diagnostics, with locations."""

    key: str
    record_id: str | None
    status: Status
    http_status: int | None = None
    receipt: str | None = None
    attempts: int = 0
    issues: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"record_id": self.record_id, "key": self.key, "status": self.status,
                "http_status": self.http_status, "receipt": self.receipt,
                "attempts": self.attempts, "issues": self.issues}  # fmt: skip


def bundle_digest(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


class PushState:
    """The accepted Bundles of earlier runs (see the module docstring), appended to as we go."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._accepted: dict[str, str] = {}
        self._lock = threading.Lock()
        if path.exists():
            with path.open("rb") as f:
                for line in f:
                    try:
                        entry = orjson.loads(line)
                        self._accepted[str(entry["key"])] = str(entry["hash"])
                    except (orjson.JSONDecodeError, KeyError, TypeError):
                        continue  # a line cut short by a kill: that Bundle is sent again
        self._out: IO[bytes] | None = None

    def accepted(self, key: str, digest: str) -> bool:
        return self._accepted.get(key) == digest

    def add(self, key: str, digest: str, receipt: str | None) -> None:
        line = orjson.dumps({"key": key, "hash": digest, "receipt": receipt,
                             "at": datetime.now(UTC).isoformat(timespec="seconds")})  # fmt: skip
        with self._lock:
            if self._out is None:
                self._out = self.path.open("ab")
            self._out.write(line + b"\n")
            self._out.flush()
            self._accepted[key] = digest

    def close(self) -> None:
        with self._lock:
            if self._out is not None:
                self._out.close()
                self._out = None


def _issues(response: httpx.Response) -> list[str]:
    """Error and warning diagnostics (with their FHIRPath locations) of an OperationOutcome, or
    of every entry outcome of a response Bundle; a warning's text starts with "warning"."""
    try:
        body = response.json()
    except ValueError:
        return (
            [f"HTTP {response.status_code} (no FHIR body)"] if response.status_code >= 400 else []
        )
    outcomes = [body] if body.get("resourceType") == "OperationOutcome" else [
        e.get("response", {}).get("outcome") or {} for e in body.get("entry", [])]  # fmt: skip
    found = []
    for outcome in outcomes:
        for issue in outcome.get("issue", []):
            severity = issue.get("severity", "error")
            if severity not in ("fatal", "error", "warning"):
                continue  # "all ok"
            where = ", ".join(issue.get("expression", []))
            text = f"{where + ': ' if where else ''}{issue.get('diagnostics', '')}"
            found.append(f"warning {text}" if severity == "warning" else text)
    return found


class _Sender:
    def __init__(self, client: httpx.Client, url: str, policy: RetryPolicy,
                 state: PushState | None, sleep: Callable[[float], None]) -> None:  # fmt: skip
        self.client, self.url, self.policy, self.state, self.sleep = (
            client, url, policy, state, sleep)  # fmt: skip

    def send(self, item: ToPush, digest: str) -> Outcome:
        assert item.body is not None
        out = Outcome(item.key, item.record_id, "failed")
        while out.attempts < self.policy.attempts:
            out.attempts += 1
            wait: float | None = None
            try:
                response = self.client.post(self.url, content=item.body)
            except httpx.TransportError as exc:
                out.http_status, out.issues = None, [f"{type(exc).__name__}: {exc}"]
            else:
                out.http_status = response.status_code
                out.receipt = response.headers.get(RECEIPT_HEADER)
                if response.status_code in (401, 403):
                    raise PushAuthError(f"{self.url} answered {response.status_code}: "
                                        f"{'; '.join(_issues(response))}")  # fmt: skip
                out.issues = _issues(response)
                if response.status_code < 300:
                    out.status = "accepted"
                    if self.state is not None:
                        self.state.add(item.key, digest, out.receipt)
                    return out
                if response.status_code not in RETRYABLE:
                    out.status = "rejected"
                    return out
                wait = retry_after(response.headers.get("retry-after"))
            if out.attempts < self.policy.attempts:
                self.sleep(self.policy.delay(out.attempts, wait))
        return out


def push(
    items: Iterable[ToPush],
    url: str,
    *,
    token: str | None = None,
    in_flight: int = 4,
    state: PushState | None = None,
    policy: RetryPolicy = RetryPolicy(),
    timeout: float = 60.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Outcome]:
    """Send each Bundle (see the module docstring); yields outcomes in input order."""
    if in_flight < 1:
        raise ValueError(f"in_flight must be at least 1, got {in_flight}")
    headers = {"Content-Type": "application/fhir+json", "Accept": "application/fhir+json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    limits = httpx.Limits(max_connections=in_flight, max_keepalive_connections=in_flight)
    window: deque[Outcome | Future[Outcome]] = deque()
    with (
        httpx.Client(headers=headers, timeout=timeout, limits=limits) as client,
        ThreadPoolExecutor(max_workers=in_flight, thread_name_prefix="push") as pool,
    ):
        sender = _Sender(client, url, policy, state, sleep)
        pending = 0
        try:
            for item in items:
                if item.body is None:
                    window.append(Outcome(item.key, item.record_id, "invalid",
                                          issues=[item.problem]))  # fmt: skip
                else:
                    digest = bundle_digest(item.body)
                    if state is not None and state.accepted(item.key, digest):
                        window.append(Outcome(item.key, item.record_id, "skipped"))
                    else:
                        window.append(pool.submit(sender.send, item, digest))
                        pending += 1
                while pending >= in_flight or (window and isinstance(window[0], Outcome)):
                    done = _next(window)
                    pending -= done[1]
                    yield done[0]
            while window:
                yield _next(window)[0]
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _next(window: deque[Outcome | Future[Outcome]]) -> tuple[Outcome, int]:
    """The oldest outcome (waiting for it if it is in flight) and 1 if it was in flight."""
    first = window.popleft()
    if isinstance(first, Outcome):
        return first, 0
    return first.result(), 1
