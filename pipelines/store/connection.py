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
import errno
import fcntl
import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb

from pipelines.crash_points import crash_point
from pipelines.settings import analyst_copy_path
from pipelines.store.ddl import ensure_schema


class WarehouseBusy(RuntimeError):
    """Another load holds the warehouse."""


class NotAWarehouse(ValueError):
    """The warehouse path holds a file that is not a DuckDB database (left untouched)."""


def working_copy_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".next")


_HELD: dict[tuple[str, int], int] = {}
"""Lock files held by this process, per thread, with how many holders: a load_lock inside
one of the same thread passes (the CLI holds the lock around the flow run it starts, so a
busy warehouse is said before any flow run, without Prefect's traceback)."""


@contextlib.contextmanager
def load_lock(db_path: Path, wait_s: float = 0.0) -> Iterator[None]:
    """Hold the warehouse's load lock, waiting up to `wait_s` seconds for it."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = db_path.with_name(db_path.name + ".lock")
    key = (str(lock_path.resolve()), threading.get_ident())
    if key in _HELD:
        _HELD[key] += 1
        try:
            yield
        finally:
            _HELD[key] -= 1
        return
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
        _HELD[key] = 1
        try:
            yield
        finally:
            del _HELD[key]
            fcntl.flock(fh, fcntl.LOCK_UN)


def resolve_warehouse(path: Path) -> Path:
    """The warehouse file `path` names, symbolic links followed: a load locks and replaces
    the real file, never the link (which would leave the real file stale and let two loads
    run at once through two names). NotAWarehouse when it is a folder or another kind of
    file, or a file that is not a DuckDB database; a missing file is a new warehouse."""
    real = Path(os.path.realpath(path))
    if real.is_dir():
        raise NotAWarehouse(
            f"{path} is a folder, not a warehouse file: point --db (or OUTCOMES_DB) at a file, "
            f"e.g. {Path(path) / 'warehouse.duckdb'}"
        )
    if real.exists() and not real.is_file():
        raise NotAWarehouse(f"{path} is not a regular file (a device or a pipe): not a warehouse")
    if real.exists():
        _check_is_duckdb(real)
    return real


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


def publish_working_copy(path: Path) -> None:
    """Put a file written (and synced) as its working copy in its place, atomically."""
    os.replace(working_copy_path(path), path)


def discard(con: duckdb.DuckDBPyConnection, db_path: Path) -> None:
    with contextlib.suppress(Exception):
        con.close()
    for work in (working_copy_path(db_path), working_copy_path(analyst_copy_path(db_path))):
        for path in (work, work.with_name(work.name + ".wal")):
            path.unlink(missing_ok=True)


def _check_is_duckdb(db_path: Path) -> None:
    with db_path.open("rb") as fh:
        header = fh.read(16)
    if len(header) < 12 or header[8:12] != b"DUCK":  # DuckDB files carry "DUCK" at byte 8
        what = "an empty file" if not header else f"a {db_path.stat().st_size:,}-byte file"
        raise NotAWarehouse(
            f"{db_path} is not a DuckDB database ({what} without the DuckDB header); refusing "
            "to load into it and leaving it as it is. Point --db (or OUTCOMES_DB) at the "
            "warehouse file, or move this file away to start a new warehouse there."
        )


def open_writer(db_path: Path) -> duckdb.DuckDBPyConnection:
    """A direct read-write connection (tests and maintenance; loads use a working copy)."""
    db_path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(db_path))
    ensure_schema(con)
    return con


def file_state(path: Path) -> tuple[int, int, int] | None:
    """Identity of a file: a publish replaces the warehouse (new inode), and os.replace keeps
    the written one's (the analysts' copy published is the one written)."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def describe_load_failure(exc: BaseException, warehouse: Path) -> str:
    """What went wrong in words a user can act on (environment faults), else the error."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    text = " ".join(str(e) for e in chain)
    names = {type(e).__name__ for e in chain}
    if names & {"ConnectError", "ConnectTimeout"} or "Failed to reach API" in text:
        url = os.environ.get("PREFECT_API_URL", "(not set)")
        return (
            f"cannot reach the Prefect API at {url} (PREFECT_API_URL). Start it with "
            "`prefect server start`, or unset PREFECT_API_URL to let outcomes start a "
            "temporary local one, then run again."
        )
    folder = warehouse.parent
    errnos = {e.errno for e in chain if isinstance(e, OSError)}
    if errnos & {errno.ENOSPC, errno.EFBIG, errno.EDQUOT} or any(
        m in text for m in ("No space left", "File too large", "Disk quota exceeded")
    ):
        why = next(
            m for m in ("No space left", "File too large", "Disk quota exceeded", "") if m in text
        )
        return (
            f"not enough space to write the warehouse in {folder} ({why or 'disk full'}); "
            "the load needs room for a working copy of the warehouse plus the new rows. "
            "Free some space and run again."
        )
    for e in chain:
        if isinstance(e, OSError) and e.errno in (errno.EEXIST, errno.ENOTDIR):
            blocker = Path(e.filename) if e.filename else folder
            if blocker.is_file():
                return (
                    f"cannot write to {folder}: {blocker} is a file, not a folder. "
                    "Point --db (or OUTCOMES_DB) at a path in a folder."
                )
    denied = errnos & {errno.EACCES, errno.EPERM, errno.EROFS} or any(
        m in text for m in ("Permission denied", "Read-only file system")
    )
    if denied:
        detail = next(
            (f"{e.strerror}: {e.filename}" for e in chain if isinstance(e, OSError) and e.filename),
            "Permission denied" if "Permission denied" in text else "Read-only file system",
        )
        return (
            f"cannot write to {folder} ({detail}); the load writes a working copy and a lock "
            "file next to the warehouse, so its folder must be writable. Fix the "
            "permissions or point --db (or OUTCOMES_DB) elsewhere."
        )
    return f"{type(exc).__name__}: {exc}"
