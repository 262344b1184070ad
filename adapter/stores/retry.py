"""When and how long the FHIR clients (push, pull) wait before trying a request again.

One policy for both: `attempts` tries in all; the wait after the n-th failure is the server's
`Retry-After` when it sent one (delta-seconds or an HTTP-date, at most `max_retry_after`),
else exponential back-off with jitter.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

__all__ = ["RetryPolicy", "retry_after"]


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a Retry-After header asks for (delta-seconds or an HTTP-date), None if absent
    or unreadable; a date in the past is 0."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait: `attempts` tries in all, the n-th wait drawn from
    [d/2, d] with d = min(cap, base · 2^(n-1)) ("equal jitter": spread, never zero), or the
    server's Retry-After (at most `max_retry_after` seconds) when it sent one."""

    attempts: int = 5
    base: float = 0.5
    cap: float = 30.0
    max_retry_after: float = 120.0

    def delay(
        self,
        attempt: int,
        retry_after_s: float | None = None,
        draw: Callable[[], float] = random.random,
    ) -> float:
        """The wait after failed attempt number `attempt` (1 for the first)."""
        if retry_after_s is not None:
            return min(retry_after_s, self.max_retry_after)
        ceiling: float = min(self.cap, self.base * 2.0 ** (attempt - 1))
        return ceiling / 2 + draw() * ceiling / 2
