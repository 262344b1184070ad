"""`GET /metrics`: Prometheus counters of requests, bundles, entries and OMOP rows written.

One `CollectorRegistry` per app (never the global one), so tests build many apps and each
counts only its own traffic. Counters live in this process: with several server processes
each is scraped on its own (Prometheus sums them).

Labels are bounded: the route is the template (`/admin/quarantine/{quarantine_id}`, or
`unmatched` for a 404 of the router), never the raw path, so ids cannot grow the label set; an
unknown HTTP method is `other`; no label holds a client name, a record id or a code. Bundles
and entries are counted once a submission passed authentication (a 401/403 is a request only).

Scope: `admin`, like the other operator routes (a scraper sends the token with
`authorization: {credentials: …}` in its scrape config); 401/403 otherwise.

    mds_adapter_http_requests_total{method, route, status}
    mds_adapter_http_request_duration_seconds{method, route}   (histogram)
    mds_adapter_bundles_total{type, outcome}     outcome: accepted | partial | rejected
    mds_adapter_entries_total{outcome}           accepted | rejected (each Bundle entry)
    mds_adapter_omop_rows_written_total          CDM rows inserted by API writes
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest
from starlette.responses import Response

from adapter.api.auth import Client, require
from adapter.api.ingest import entry_outcome
from adapter.api.submission import Submission
from adapter.config import Scope

__all__ = [
    "Metrics",
    "get_metrics",
    "metrics_of",
    "note_refused",
    "note_submission",
    "route_template",
    "router",
]

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

router = APIRouter(tags=["admin"])


class Metrics:
    """The app's registry and its collectors; `app.state.metrics`."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter("mds_adapter_http_requests", "HTTP requests answered",
                                ("method", "route", "status"), registry=r)  # fmt: skip
        self.latency = Histogram("mds_adapter_http_request_duration_seconds",
                                 "Time from request to the end of the response",
                                 ("method", "route"), buckets=_BUCKETS, registry=r)  # fmt: skip
        self.bundles = Counter("mds_adapter_bundles", "Bundles posted to /fhir, by outcome",
                               ("type", "outcome"), registry=r)  # fmt: skip
        self.entries = Counter("mds_adapter_entries", "Bundle entries, by outcome",
                               ("outcome",), registry=r)  # fmt: skip
        self.rows = Counter("mds_adapter_omop_rows_written", "OMOP CDM rows written by the API",
                            registry=r)  # fmt: skip

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        method = method if method in _METHODS else "other"  # a client can send any token
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def bundle(self, kind: str, statuses: list[int], rows: int) -> None:
        """One posted Bundle: its type, each entry's status, the CDM rows it wrote."""
        accepted = sum(s < 300 for s in statuses)
        outcome = ("accepted" if accepted == len(statuses) and statuses else
                   "rejected" if accepted == 0 else "partial")  # fmt: skip
        self.bundles.labels(kind, outcome).inc()
        if accepted:
            self.entries.labels("accepted").inc(accepted)
        if len(statuses) - accepted:
            self.entries.labels("rejected").inc(len(statuses) - accepted)
        if rows:
            self.rows.inc(rows)


def note_submission(app: Any, s: Submission) -> None:
    """After a posted Bundle was answered entry by entry (adapter/api/bundles.py)."""
    if (metrics := metrics_of(app)) is not None:
        statuses = [entry_outcome(s, i)[0] for i in range(len(s.entries))]
        metrics.bundle(s.kind, statuses, s.report.rows if s.report else 0)


def note_refused(app: Any, action: str, body: Any) -> None:
    """After a posted Bundle was refused whole (4xx/5xx): every entry counts as rejected."""
    if (metrics := metrics_of(app)) is not None:
        kind = action.removeprefix("bundle.") if action.startswith("bundle.") else "unknown"
        entries = body.get("entry") if isinstance(body, dict) else None
        metrics.bundle(kind, [422] * len(entries) if isinstance(entries, list) else [], 0)


def metrics_of(app: Any) -> Metrics | None:
    """The app's metrics, or None for an app built without them."""
    found = getattr(getattr(app, "state", None), "metrics", None)
    return found if isinstance(found, Metrics) else None


def route_template(scope: Any) -> str:
    """The matched route's path template, or `unmatched`; never the raw path."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


@router.get("/metrics", response_class=Response)
def get_metrics(
    request: Request, client: Annotated[Client, Depends(require(Scope.ADMIN))]
) -> Response:
    """The Prometheus text exposition of this process's counters (see the module docstring)."""
    metrics = metrics_of(request.app)
    body = b"" if metrics is None else generate_latest(metrics.registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
