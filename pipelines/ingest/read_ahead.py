"""Read a delivery's XLSX files in a worker process while the run does other work.

openpyxl is pure Python and holds the GIL for the whole read (about 5 s for 62,000 clients),
so a thread cannot run beside it; a process can. The run starts the worker before its first
file and meanwhile imports GX and opens its context (about 2.5 s it would otherwise spend
after the read). Files load in delivery order as before: only the reading moves. Other
formats are read by DuckDB's or Arrow's C++ readers in the run's own process.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from types import TracebackType

from pipelines.ingest.discover import DeliveryFile
from pipelines.ingest.readers import RawTable, read_delivery_file

READ_AHEAD_FORMATS = frozenset({"xlsx"})
"""Formats read by a pure-Python library, worth a process of their own."""


class ReadAhead:
    """Reads of `files` started in one worker process; :meth:`read` returns a file's result
    (or reads it here, for a file that was not read ahead or whose worker failed)."""

    def __init__(self, files: list[DeliveryFile], max_line_bytes: int) -> None:
        self._futures: dict[Path, Future[RawTable]] = {}
        self._pool: ProcessPoolExecutor | None = None
        if not files:
            return
        # spawn, not fork: the run's process has threads (Prefect, DuckDB)
        self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        for f in files:
            self._futures[f.path] = self._pool.submit(
                read_delivery_file, f.path, f.entity, f.format, max_line_bytes
            )

    @property
    def pending(self) -> bool:
        return bool(self._futures)

    def reads(self, delivery_file: DeliveryFile) -> bool:
        """Whether the worker was given this file (and nobody has collected it yet)."""
        return delivery_file.path in self._futures

    def still_reading(self, delivery_file: DeliveryFile) -> bool:
        """Whether the worker has this file and has not finished it: collecting it now
        would wait."""
        future = self._futures.get(delivery_file.path)
        return future is not None and not future.done()

    def read(self, delivery_file: DeliveryFile) -> RawTable | None:
        """The read-ahead result of `delivery_file` (FileRejected re-raised as it was), or
        None when it was not read ahead or its worker died (the caller reads it itself)."""
        future = self._futures.pop(delivery_file.path, None)
        if future is None:
            return None
        try:
            return future.result()
        except BrokenProcessPool:
            return None

    def __enter__(self) -> ReadAhead:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._pool is not None:  # reads nobody asked for (a failed run) are dropped
            self._pool.shutdown(wait=True, cancel_futures=True)
