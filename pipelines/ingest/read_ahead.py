"""Read a delivery's XLSX files in a reader process, under a time limit.

openpyxl is pure Python and holds the GIL for the whole read (about 5 s for 62,000 clients),
so a thread cannot run beside it; a process can. The run starts the reader before its first
file and meanwhile imports GX and opens its context (about 2.5 s it would otherwise spend
after the read). Files load in delivery order as before: only the reading moves. Other
formats are read by DuckDB's or Arrow's C++ readers in the run's own process.

The reader parses the bytes the run read and hashed (snapshot.py), never the path again.
A read that takes longer than ``read_timeout_s`` is stopped — the reader process is killed
and replaced for the reads after it — and its file rejected; a reader that dies (killed,
out of memory) is replaced and the file read once more, then rejected. Every XLSX read of a
run goes through here, so a hostile workbook cannot hang `outcomes ingest` or `serve`.
"""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import wait as wait_for
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from pipelines.ingest.discover import DeliveryFile
from pipelines.ingest.readers import RawTable, read_delivery_file
from pipelines.ingest.rejection import FileRejected, display_name
from pipelines.ingest.snapshot import Snapshot

READ_AHEAD_FORMATS = frozenset({"xlsx"})
"""Formats read by a pure-Python library, worth a process of their own."""


@dataclass(eq=False)
class _Read:
    file: DeliveryFile
    snapshot: Snapshot
    future: Future[RawTable] | None = None
    done_at: float | None = None
    timed_out: bool = False
    attempts: int = 0


def _succeeded(future: Future | None) -> bool:
    return (
        future is not None
        and future.done()
        and not future.cancelled()
        and future.exception() is None
    )


class ReadAhead:
    """Reads started in one reader process, in order; :meth:`read` waits for a file's result
    (starting its read first when it was not read ahead)."""

    def __init__(self, reads: list[tuple[DeliveryFile, Snapshot]], timeout_s: float) -> None:
        self._timeout_s = timeout_s
        self._reads: dict[Path, _Read] = {f.path: _Read(f, snap) for f, snap in reads}
        self._queue: list[_Read] = []  # the current process's reads, in submission order
        self._pool: ProcessPoolExecutor | None = None
        self._began = 0.0
        self._submit(list(self._reads.values()))

    @property
    def pending(self) -> bool:
        return bool(self._reads)

    def reads(self, delivery_file: DeliveryFile) -> bool:
        """Whether the reader was given this file (and nobody has collected it yet)."""
        return delivery_file.path in self._reads

    def snapshot(self, delivery_file: DeliveryFile) -> Snapshot | None:
        """The snapshot (hash, state) whose bytes the reader reads for this file."""
        r = self._reads.get(delivery_file.path)
        return r.snapshot if r else None

    def still_reading(self, delivery_file: DeliveryFile) -> bool:
        """Whether the reader has this file and has not finished it: collecting it now
        would wait."""
        r = self._reads.get(delivery_file.path)
        return r is not None and r.future is not None and not r.future.done()

    def read(self, delivery_file: DeliveryFile, snapshot: Snapshot | None = None) -> RawTable:
        """The file's table (FileRejected re-raised as the reader raised it). A file not
        read ahead is read now, from `snapshot`'s bytes."""
        r = self._reads.get(delivery_file.path)
        if r is None:
            assert snapshot is not None, "a file not read ahead needs its snapshot"
            r = self._reads[delivery_file.path] = _Read(delivery_file, snapshot)
            self._submit([r])
        try:
            while True:
                self._wait(r)
                if r.timed_out:
                    raise FileRejected(
                        f"{display_name(delivery_file.path.name)}: reading it took longer than "
                        f"{self._timeout_s:g} s (setting read_timeout_s); the read was stopped"
                    )
                assert r.future is not None
                try:
                    return r.future.result()
                except BrokenProcessPool as exc:  # the reader died: once more in a new one
                    if r.attempts > 1:
                        raise FileRejected(
                            f"{display_name(delivery_file.path.name)}: the reader process "
                            "stopped while reading it (killed, or out of memory)"
                        ) from exc
                    self._restart()
        finally:
            self._reads.pop(delivery_file.path, None)

    def _submit(self, reads: list[_Read]) -> None:
        if not reads:
            return
        if self._pool is None:  # spawn, not fork: the run's process has threads
            self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
            self._began, self._queue = time.monotonic(), []
        for r in reads:
            f, r.attempts, r.done_at = r.file, r.attempts + 1, None
            r.future = self._pool.submit(
                read_delivery_file, f.path, f.entity, f.format, 0, r.snapshot.data
            )
            r.future.add_done_callback(lambda _, r=r: setattr(r, "done_at", time.monotonic()))
            self._queue.append(r)

    def _started_at(self, r: _Read) -> float | None:
        """When the reader began `r` (it reads in order): when the read before it ended."""
        at = self._queue.index(r)
        return self._began if at == 0 else self._queue[at - 1].done_at

    def _wait(self, r: _Read) -> None:
        """Until `r` is done, or stopped for taking longer than the time limit."""
        while r.future is not None and not r.future.done():
            started = self._started_at(r)
            if started is None:  # the read before it still runs: it has a deadline too
                self._wait(self._queue[self._queue.index(r) - 1])
                continue
            remaining = started + self._timeout_s - time.monotonic()
            if remaining <= 0:
                r.timed_out = True
                self._restart()
                return
            wait_for([r.future], timeout=remaining)

    def _restart(self) -> None:
        """Kill the reader; the reads it had not finished go to a new one (not one that
        timed out)."""
        unfinished = [x for x in self._queue if not _succeeded(x.future) and not x.timed_out]
        self._stop()
        self._submit([x for x in unfinished if x.file.path in self._reads])

    def _stop(self) -> None:
        if self._pool is None:
            return
        # the executor has no way to stop a running call: end its process (private map)
        for process in list(self._pool._processes.values()):
            process.kill()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._pool = None

    def __enter__(self) -> ReadAhead:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._pool is None:
            return
        if all(r.future is None or r.future.done() for r in self._queue):
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        else:  # reads nobody asked for (a failed run, a skipped file): stopped, not awaited
            self._stop()
