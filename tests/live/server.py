"""A real `mds-adapter serve` process on a free loopback port, for tests and benchmarks.

Client tests (push, pull) must talk to a server over TCP, not to an app in the same process:
this starts the CLI as a child process with its own environment, waits until `/health`
answers 200, and stops it afterwards (terminate, then kill). Its stderr (the JSON request
log) is kept in a file so a failing test can show it.
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

__all__ = ["LiveServer", "free_port", "live_server"]


@dataclass(frozen=True)
class LiveServer:
    base: str  # e.g. http://127.0.0.1:43211
    log: Path

    @property
    def fhir(self) -> str:
        return f"{self.base}/fhir"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def live_server(
    db_url: str, log_dir: Path, env: Mapping[str, str], *, timeout: float = 30.0
) -> Iterator[LiveServer]:
    """`mds-adapter serve --db db_url` on 127.0.0.1 with `env` added to this environment."""
    port = free_port()
    log = log_dir / f"serve-{port}.log"
    command = [sys.executable, "-m", "adapter.cli", "serve", "--db", db_url,
               "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    with log.open("wb") as err:
        process = subprocess.Popen(command, env={**os.environ, **env}, stdout=err, stderr=err)
        server = LiveServer(f"http://127.0.0.1:{port}", log)
        try:
            _wait_healthy(server, process, timeout)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_healthy(server: LiveServer, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"serve exited with {process.returncode}: "
                               f"{server.log.read_text(errors='replace')[-2000:]}")  # fmt: skip
        try:
            if httpx.get(f"{server.base}/health", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"serve did not answer /health within {timeout} s")
