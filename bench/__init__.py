"""Benchmarks: `python -m bench synth-check` prints a table; see bench/README.md."""

__all__: list[str] = []
