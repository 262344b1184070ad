"""A real `mds-adapter serve` process for the API bench, with what the bench reads off it.

A child process on a free loopback port, ready when `/health` answers 200 (and, with
`--workers`, when its workers are up), stopped afterwards (terminate, then kill); its stderr
(the JSON request log) is kept in a file so a failing test or bench can show it. The process
ids (uvicorn's workers are children of the first one) let the bench read CPU time and peak
RSS from /proc. tests/live uses the same server (tests/live/server.py): client tests (push,
pull, concurrency) must talk to a server over TCP, not to an app in their own process.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx

__all__ = ["Served", "cpu_seconds", "free_port", "peak_rss_mib", "served"]

_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Served:
    base: str  # http://127.0.0.1:PORT
    pid: int
    log: Path

    @property
    def fhir(self) -> str:
        """The FHIR base: http://127.0.0.1:PORT/fhir."""
        return f"{self.base}/fhir"

    def pids(self) -> list[int]:
        """The serve process and its children (uvicorn workers)."""
        found = [self.pid]
        for task in Path(f"/proc/{self.pid}/task").glob("*"):
            children = task / "children"
            if children.exists():
                found += [int(p) for p in children.read_text().split()]
        return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of these processes so far (/proc/PID/stat utime + stime)."""
    total = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except FileNotFoundError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after "(comm)", fields start at state (3)
        total += int(fields[11]) + int(fields[12])  # utime (14), stime (15)
    return total / _TICKS


def peak_rss_mib(pids: list[int]) -> float:
    """The sum of the peak resident sets (VmHWM) of these processes, in MiB."""
    total = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1])
    return total / 1024


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def served(
    db_url: str,
    log_dir: Path,
    env: Mapping[str, str],
    *,
    workers: int = 1,
    timeout: float = 60.0,
    healthy: bool = True,
) -> Iterator[Served]:
    """`mds-adapter serve --db db_url [--workers N]` on 127.0.0.1, stopped afterwards; ready
    when /health says 200 (`healthy=False`: when it answers at all, e.g. 503 over a database
    that is down)."""
    port = free_port()
    log = log_dir / f"serve-{port}.log"
    command = [sys.executable, "-m", "adapter.cli", "serve", "--db", db_url,
               "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    if workers != 1:
        command += ["--workers", str(workers)]
    with log.open("wb") as err:
        process = subprocess.Popen(command, env={**os.environ, **env}, stdout=err, stderr=err)
        found = Served(f"http://127.0.0.1:{port}", process.pid, log)
        try:
            _wait(found, process, timeout, workers, healthy)
            yield found
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait(found: Served, process: subprocess.Popen[bytes], timeout: float, workers: int,
          healthy: bool) -> None:  # fmt: skip
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"serve exited with {process.returncode}: "
                               f"{found.log.read_text(errors='replace')[-2000:]}")  # fmt: skip
        try:
            status = httpx.get(f"{found.base}/health", timeout=1.0).status_code
            ok = status == 200 or not healthy
            if ok and (workers == 1 or len(found.pids()) > workers):
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"serve did not answer /health within {timeout} s")
