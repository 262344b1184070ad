"""The real `mds-adapter serve` process of the live tests: bench/server.py's, by the names
the tests use (one implementation for tests and benchmarks)."""

from __future__ import annotations

from bench.server import Served as LiveServer
from bench.server import free_port
from bench.server import served as live_server

__all__ = ["LiveServer", "free_port", "live_server"]
