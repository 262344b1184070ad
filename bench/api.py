"""The API bench: concurrent clients posting single-patient transaction Bundles to a real server.

    python -m bench api [--seconds 20] [--clients 16] [--db postgresql|sqlite] [--workers 1]

A fresh database (PostgreSQL on 127.0.0.1:5432, dropped at the end, or a SQLite file) is
initialised with the bundled vocabulary; `mds-adapter serve` runs as its own process
(bench/server.py). Distinct records are generated and turned into transaction Bundles before
any clock starts, so every POST of the first phase writes a new patient. Phases, each for at
most `--seconds` and at most the generated bundles:

- GET /fhir/metadata: the same client loop on the cheapest route, the HTTP stack's floor;
- POST new bundles: real writes (201 per record);
- POST the same bundles again: unchanged records (200, nothing written to the CDM);
- POST new bundles at `--rate` per second offered (open loop): the latency at a given load,
  not at saturation;
- in-process plan + commit (adapter/api/ingest.py), one thread, no HTTP, after the server has
  stopped: the cost of a bundle's own work, the limit beside the POST rows.

Clients are threads, each with its own keep-alive httpx2 connection. The clients and the
server share the machine's cores, so the table prints both processes' CPU use (100 % = one
core busy): a figure is only as good as the headroom left beside it.
"""

from __future__ import annotations

import itertools
import os
import platform
import resource
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2 as httpx
import orjson

from bench.load import KEY, database
from bench.server import Served, cpu_seconds, peak_rss_mib, served

__all__ = ["Phase", "api", "run_clients"]

TOKEN = "bench-token-0123456789"
_ENV = {
    "MDS_ADAPTER_PSEUDONYM_KEY": KEY,
    "MDS_ADAPTER_API_KEYS": orjson.dumps(
        {TOKEN: {"client": "bench", "scopes": ["bundle.write"]}}
    ).decode(),
}
_HEADERS = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/fhir+json"}
IN_PROCESS = 400  # bundles of the in-process rows


@dataclass
class Phase:
    """What one phase measured; latencies in seconds."""

    name: str
    clients: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""
    server_cpu: float | None = None  # CPU seconds over the phase
    client_cpu: float = 0.0
    rss: float | None = None

    def ms(self, q: float) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] * 1000 if self.latencies else 0.0
        cuts = statistics.quantiles(self.latencies, n=100, method="inclusive")
        return cuts[round(q * 100) - 1] * 1000


def _cpu_self() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_clients(
    base: str,
    name: str,
    clients: int,
    seconds: float,
    request: Callable[[httpx.Client, int], httpx.Response],
    count: int,
    rate: float | None = None,
) -> Phase:
    """`clients` threads calling `request(client, i)` for i = 0, 1, … < count, until `seconds`.

    Closed loop by default: each client sends its next request when the last one is answered,
    so latency ≈ clients / throughput (Little's law). With `rate`, request i is due at
    start + i / rate (open loop, spread over the clients) and its latency counts from when it
    was due, so a server that falls behind shows it (no coordinated omission)."""
    phase = Phase(name, clients)
    numbers = itertools.count()
    guard = threading.Lock()
    start = threading.Barrier(clients + 1)
    deadline = begun = 0.0

    def work() -> None:
        mine: list[float] = []
        errors, first = 0, ""
        with httpx.Client(base_url=base, timeout=60.0, headers=_HEADERS,
                          limits=httpx.Limits(max_connections=1)) as client:  # fmt: skip
            start.wait()
            while time.perf_counter() < deadline:
                i = next(numbers)
                if i >= count:
                    break
                t0 = time.perf_counter()
                if rate is not None:
                    due = begun + i / rate
                    if due > t0:
                        time.sleep(due - t0)
                    t0 = due
                    if t0 >= deadline:
                        break
                try:
                    response = request(client, i)
                    ok, why = response.status_code == 200, f"HTTP {response.status_code}"
                except httpx.TransportError as exc:
                    ok, why = False, type(exc).__name__
                mine.append(time.perf_counter() - t0)
                if not ok:
                    errors += 1
                    first = first or why
        with guard:
            phase.latencies += mine
            phase.errors += errors
            phase.first_error = phase.first_error or first

    threads = [threading.Thread(target=work, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    cpu0 = _cpu_self()
    t0 = begun = time.perf_counter()
    deadline = t0 + seconds
    start.wait()
    for t in threads:
        t.join()
    phase.seconds = time.perf_counter() - t0
    phase.client_cpu = _cpu_self() - cpu0
    return phase


def _bundles(n: int) -> list[bytes]:
    from adapter.fhir import to_fhir
    from adapter.fhir.bundle import dumps
    from adapter.mds.synth import generate
    from adapter.terminology import Terminology

    terminology = Terminology.load()
    return [dumps(to_fhir(record, terminology)) for record, _ in generate(n, 11)]


def _served_phase(
    s: Served,
    name: str,
    clients: int,
    seconds: float,
    count: int,
    request: Any,
    rate: float | None = None,
) -> Phase:
    pids = s.pids()
    cpu0 = cpu_seconds(pids)
    phase = run_clients(s.base, name, clients, seconds, request, count, rate)
    phase.server_cpu = cpu_seconds(pids) - cpu0
    phase.rss = peak_rss_mib(pids)
    return phase


def _in_process(url: str, bodies: Sequence[bytes], name: str) -> Phase:
    """orjson.loads + plan + commit per bundle in this process, one after the other."""
    from adapter.api.ingest import commit, plan
    from adapter.api.outcomes import ApiError
    from adapter.api.state import ApiState
    from adapter.config import Settings

    state = ApiState.build(Settings(db_url=url, pseudonym_key=KEY))
    phase = Phase(name, 0)
    cpu0 = _cpu_self()
    t0 = time.perf_counter()
    try:
        for body in bodies:
            t1 = time.perf_counter()
            submission = plan(orjson.loads(body), state)
            try:
                commit(submission, state, "api:bench")
            except ApiError as exc:  # a generated record the API rejects (e.g. omop.no-date)
                phase.errors += 1
                phase.first_error = phase.first_error or f"{exc.status}"
            phase.latencies.append(time.perf_counter() - t1)
    finally:
        state.engine.dispose()
    phase.seconds = time.perf_counter() - t0
    phase.client_cpu = _cpu_self() - cpu0
    return phase


def _count(url: str, name: str) -> int:
    import sqlalchemy as sa

    from adapter.omop.schema import qualified_name
    from adapter.stores.bulk import dialect_of
    from adapter.stores.omop_db import connect

    engine = connect(url)
    try:
        with engine.connect() as conn:
            table = qualified_name(name, "cdm", dialect_of(conn))
            return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())
    finally:
        engine.dispose()


def api(
    seconds: float, clients: int, kind: str, workers: int, limit: int | None, rate: float
) -> None:
    """Run the phases (see the module docstring) and print the table."""
    load = os.getloadavg()[0]
    count = limit or int(seconds * 400)
    t0 = time.perf_counter()
    bodies = _bundles(count + 2 * IN_PROCESS)
    made = time.perf_counter() - t0
    posted = bodies[:count]
    phases: list[Phase] = []
    with tempfile.TemporaryDirectory() as tmp, database(kind, Path(tmp)) as url:

        def get(client: httpx.Client, i: int) -> httpx.Response:
            return client.get("/fhir/metadata")

        offset = 0

        def post(client: httpx.Client, i: int) -> httpx.Response:
            return client.post("/fhir", content=posted[offset + i])

        with served(url, Path(tmp), _ENV, workers=workers) as s:
            run_clients(s.base, "warm-up", clients, 1.0, get, 10 * clients)
            phases.append(_served_phase(s, "GET /fhir/metadata (floor)", clients, seconds,
                                        10**9, get))  # fmt: skip
            new = _served_phase(s, "POST new bundles", clients, seconds, count, post)
            phases.append(new)
            accepted = len(new.latencies)
            phases.append(_served_phase(s, "POST same again (unchanged)", clients, seconds,
                                        accepted, post))  # fmt: skip
            offset = accepted
            paced = _served_phase(s, f"POST new, {rate:g}/s offered", clients, seconds,
                                  count - offset, post, rate)  # fmt: skip
            phases.append(paced)
            accepted += len(paced.latencies)
            errors = new.errors + paced.errors
            log = s.log
        persons = _count(url, "person")
        sources = _count(url, "cdm_source")
        fresh = bodies[count : count + IN_PROCESS]
        phases.append(_in_process(url, fresh, "in-process plan+commit, new"))
        phases.append(_in_process(url, fresh, "in-process, unchanged"))
        server_errors = sum('"status":5' in line for line in log.read_text().splitlines())
    _print(phases, kind, workers, made, count, (persons, sources), accepted - errors,
           server_errors, load)  # fmt: skip


def _print(phases: list[Phase], kind: str, workers: int, made: float, count: int,
           cdm: tuple[int, int], accepted: int, server_errors: int,
           load: float) -> None:  # fmt: skip
    cores = os.cpu_count() or 1
    print(f"machine: {platform.machine()}, {cores} cores shared by the server ({workers} "
          f"worker{'s' if workers > 1 else ''}), the database and the clients, Python "
          f"{platform.python_version()}, database {kind}, load average {load:.1f} at the "
          "start")  # fmt: skip
    print(f"{count} distinct single-patient transaction Bundles made up front in {made:.1f} s; "
          "CPU % is of one core (server + client can reach "
          f"{cores * 100} %)")  # fmt: skip
    head = (f"{'phase':<30}{'clients':>8}{'bundles':>8}{'s':>6}{'bundles/s':>10}{'p50 ms':>8}"
            f"{'p95 ms':>8}{'p99 ms':>8}{'errors':>7}{'server CPU%':>12}{'client CPU%':>12}"
            f"{'peak RSS MiB':>13}")  # fmt: skip
    print(head)
    print("-" * len(head))
    for p in phases:
        n = len(p.latencies)
        server = f"{100 * p.server_cpu / p.seconds:>12.0f}" if p.server_cpu is not None else ""
        rss = f"{p.rss:>13.0f}" if p.rss is not None else ""
        server = server or " " * 12
        print(f"{p.name:<30}{p.clients or '-':>8}{n:>8}{p.seconds:>6.1f}{n / p.seconds:>10,.1f}"
              f"{p.ms(0.50):>8.1f}{p.ms(0.95):>8.1f}{p.ms(0.99):>8.1f}{p.errors:>7}"
              f"{server}{100 * p.client_cpu / p.seconds:>12.0f}"
              f"{rss}")  # fmt: skip
    bad = [f"{p.name}: {p.first_error}" for p in phases if p.first_error]
    print("limit: the in-process rows are a bundle's own work on one core, no HTTP; the floor "
          "row is the HTTP stack alone.")  # fmt: skip
    print("closed-loop rows: latency ≈ clients / throughput; the offered-rate row counts each "
          "request's latency from when it was due.")  # fmt: skip
    print(f"OMOP persons after the POST phases: {cdm[0]} (accepted {accepted}); CDM_SOURCE "
          f"rows: {cdm[1]} (must be 1); 5xx in the server log: {server_errors}")  # fmt: skip
    if bad:
        print("first errors: " + "; ".join(bad))
