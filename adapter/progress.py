"""A progress bar for long reads and writes, shown only when a person is watching (a TTY)."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TimeRemainingColumn,
)

__all__ = ["CountingReader", "progress"]


class CountingReader(io.RawIOBase):
    """A raw binary stream that reports the bytes it passes on to a progress task."""

    def __init__(self, inner: IO[bytes], bar: Progress | None, task: TaskID | None) -> None:
        self._inner, self._bar, self._task = inner, bar, task

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._inner.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        if self._bar is not None and self._task is not None:
            self._bar.advance(self._task, n)
        return n


@contextmanager
def progress(
    description: str, total: int | None, *, in_bytes: bool = False
) -> Iterator[tuple[Progress | None, TaskID | None]]:
    """(bar, task) on a terminal, (None, None) otherwise; `in_bytes` shows sizes, not counts."""
    if not sys.stderr.isatty():
        yield None, None
        return
    count = DownloadColumn() if in_bytes else MofNCompleteColumn()
    columns = [BarColumn(), count, TimeRemainingColumn()]
    with Progress(*Progress.get_default_columns()[:1], *columns, console=Console(stderr=True),
                  transient=True) as bar:  # fmt: skip
        yield bar, bar.add_task(description, total=total)
