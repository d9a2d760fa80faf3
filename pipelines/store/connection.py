"""Opening the warehouse for writing: one writer at a time, readers never blocked.

DuckDB lets one process hold a file for writing, and while it does no other process
can open it at all — so a dashboard reading the warehouse would fail during every
load. Instead the loader works on a private copy (``<db>.next``) and, when the whole
run has succeeded, publishes it with an atomic ``os.replace``. Readers, which open the
published file read-only per request, see the warehouse as before a run or after it,
never half-loaded; a crash leaves the published file untouched (the copy is discarded
by the next run). A lock file (``<db>.lock``) keeps a second load out.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb

from pipelines.crash_points import crash_point
from pipelines.store.ddl import ensure_schema


class WarehouseBusy(RuntimeError):
    """Another load holds the warehouse."""


def working_copy_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".next")


@contextlib.contextmanager
def load_lock(db_path: Path, wait_s: float = 0.0) -> Iterator[None]:
    """Hold the warehouse's load lock, waiting up to `wait_s` seconds for it."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = db_path.with_name(db_path.name + ".lock")
    with lock_path.open("a+") as fh:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WarehouseBusy(
                        f"another `outcomes ingest` is loading into {db_path}; "
                        "try again when it has finished"
                    ) from None
                time.sleep(0.5)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def open_working_copy(db_path: Path) -> duckdb.DuckDBPyConnection:
    """A writable copy of the published warehouse (call while holding the load lock)."""
    work = working_copy_path(db_path)
    for stale in (work, work.with_name(work.name + ".wal")):
        stale.unlink(missing_ok=True)  # left by a run that crashed
    if db_path.exists():
        _check_is_duckdb(db_path)
        shutil.copyfile(db_path, work)
    con = duckdb.connect(str(work))
    ensure_schema(con)
    return con


def publish(con: duckdb.DuckDBPyConnection, db_path: Path) -> None:
    """Make the working copy the warehouse, atomically."""
    con.execute("CHECKPOINT")  # everything in the main file, no WAL left behind
    con.close()
    work = working_copy_path(db_path)
    with open(work, "rb") as fh:
        os.fsync(fh.fileno())
    crash_point("before_publish")
    os.replace(work, db_path)


def discard(con: duckdb.DuckDBPyConnection, db_path: Path) -> None:
    with contextlib.suppress(Exception):
        con.close()
    work = working_copy_path(db_path)
    for path in (work, work.with_name(work.name + ".wal")):
        path.unlink(missing_ok=True)


def _check_is_duckdb(db_path: Path) -> None:
    with db_path.open("rb") as fh:
        header = fh.read(16)
    if len(header) >= 12 and header[8:12] != b"DUCK":
        raise ValueError(f"{db_path} is not a DuckDB database; refusing to load into it")


def open_writer(db_path: Path) -> duckdb.DuckDBPyConnection:
    """A direct read-write connection (tests and maintenance; loads use a working copy)."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(db_path))
    ensure_schema(con)
    return con
