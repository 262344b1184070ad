"""The push client's pure parts: back-off delays, Retry-After, the resume state file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapter.stores.fhir_push import RETRYABLE, PushState, bundle_digest
from adapter.stores.retry import RetryPolicy, retry_after

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def test_the_retried_statuses() -> None:
    assert sorted(RETRYABLE) == [429, 502, 503, 504]


@pytest.mark.parametrize(
    ("attempt", "low", "high"),
    [
        (1, 0.25, 0.5),
        (2, 0.5, 1.0),
        (3, 1.0, 2.0),
        (6, 8.0, 16.0),
        (7, 15.0, 30.0),
        (20, 15.0, 30.0),
    ],
)
def test_back_off_doubles_up_to_the_cap_with_jitter_in_the_upper_half(
    attempt: int, low: float, high: float
) -> None:
    policy = RetryPolicy()  # base 0.5 s, cap 30 s
    assert policy.delay(attempt, draw=lambda: 0.0) == low
    assert policy.delay(attempt, draw=lambda: 1.0) == high
    assert policy.delay(attempt, draw=lambda: 0.5) == (low + high) / 2


def test_retry_after_wins_over_back_off_up_to_its_own_cap() -> None:
    policy = RetryPolicy(max_retry_after=120.0)
    assert policy.delay(1, 7.0, draw=lambda: 1.0) == 7.0
    assert policy.delay(5, 0.0) == 0.0
    assert policy.delay(1, 3600.0) == 120.0


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("7", 7.0),
        (" 120 ", 120.0),
        ("Sun, 01 Mar 2026 12:00:30 GMT", 30.0),
        ("Sun, 01 Mar 2026 11:59:00 GMT", 0.0),  # in the past
        ("soon", None),
        ("-5", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_reads_seconds_and_http_dates(
    header: str | None, seconds: float | None
) -> None:
    assert retry_after(header, NOW) == seconds


def test_the_state_keeps_the_last_hash_of_a_key_and_survives_a_cut_line(tmp_path: Path) -> None:
    path = tmp_path / "state.jsonl"
    state = PushState(path)
    one, two = bundle_digest(b"one"), bundle_digest(b"two")
    state.add("IOR|A", one, "r1")
    state.add("IOR|B", one, "r2")
    state.add("IOR|A", two, "r3")  # A changed and was accepted again
    state.close()
    with path.open("ab") as f:
        f.write(b'{"key": "IOR|C", "ha')  # killed mid-line
    again = PushState(path)
    assert (again.accepted("IOR|A", two), again.accepted("IOR|A", one)) == (True, False)
    assert again.accepted("IOR|B", one)
    assert not again.accepted("IOR|C", one)
    assert one == "sha256:" + "7692c3ad3540bb803c020b3aee66cd8887123234ea0c6e7143c0add73ff431ed"
