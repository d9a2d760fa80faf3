"""The warehouse file the dashboard reads, read-only.

A load publishes a new warehouse file with `os.replace`, and DuckDB keeps an open database
alive per process: a connection held forever would keep reading the old (replaced) file.

- A plain `Warehouse` opens the file read-only for each read, runs a few small queries and
  closes it (scripts, tests, the CLI).
- The running app's `Warehouse` is `shared`: its process keeps one read-only database open
  while the published file stays the same (same inode, mtime and size), and every read
  takes a cursor of it. Opening a database costs 11-30 ms on this machine before any query
  runs, and a kept one has its blocks in memory (docs/performance.md). When a read finds a
  new file, it waits for the reads still on the old one, closes it and opens the new one:
  a read sees the warehouse as before a load or after it, as with short connections.

Opening can fail for a moment (a writer holding the lock, the file being swapped): we
retry a few times with a jittered pause.

The running app's `Warehouse` is kept in its Flask app's extensions (`attach`, called by
dashboard.app.create_app); pages reach it through `current()` while they handle a request.
"""

from __future__ import annotations

import functools
import random
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import flask
import pandas as pd

from pipelines.settings import METRICS, analyst_copy_path, get_settings
from pipelines.store.connection import file_state

T = TypeVar("T")

ATTEMPTS = 6  # with the pauses below: gives a busy file about 1–3 s
APP_EXTENSION = "outcomes_warehouse"  # key of the app's Warehouse in Flask's extensions


class WarehouseUnavailable(RuntimeError):
    """The warehouse file is missing or could not be opened after a few retries."""


def _open(path: Path) -> duckdb.DuckDBPyConnection:
    """`path` opened read-only, retried on lock/IO errors (always with DuckDB's default
    configuration: a second connection to a file open in this process must ask for the same
    one, or DuckDB refuses it)."""
    if not path.exists():
        raise WarehouseUnavailable(f"No warehouse at {path}: load data with `outcomes ingest`.")
    last: Exception | None = None
    for attempt in range(ATTEMPTS):
        try:
            return duckdb.connect(str(path), read_only=True)
        except (duckdb.IOException, duckdb.ConnectionException) as exc:
            last = exc
            time.sleep(random.uniform(0.05, 0.15) * (attempt + 1))  # no lock-step retries
    raise WarehouseUnavailable(f"Could not open {path}: {last}") from last


class _Kept:
    """The read-only database a process keeps open for one published file, and how many
    reads are using it (guarded by the condition)."""

    def __init__(self) -> None:
        self.changed = threading.Condition()
        self.state: tuple[int, int, int] | None = None
        self.con: duckdb.DuckDBPyConnection | None = None
        self.readers = 0

    def cursor(self, path: Path) -> duckdb.DuckDBPyConnection:
        """A cursor of the database open on the file now published at `path`."""
        with self.changed:
            state = file_state(path)
            while self.con is not None and self.state != state and self.readers:
                self.changed.wait(timeout=1.0)  # reads still on the old file finish first
                state = file_state(path)
            if self.con is not None and self.state != state:
                self.con.close()  # only now may DuckDB open the new file under the same path
                self.con = None
            if self.con is None:
                self.con = _open(path)
                limit = int(get_settings().dashboard_memory_limit_mb)
                self.con.execute(f"SET memory_limit = '{limit}MB'")
                self.state = state
            self.readers += 1
            return self.con.cursor()

    def release(self, cursor: duckdb.DuckDBPyConnection) -> None:
        cursor.close()
        with self.changed:
            self.readers -= 1
            self.changed.notify_all()


_KEPT: dict[Path, _Kept] = {}
_KEPT_LOCK = threading.Lock()


def _kept(path: Path) -> _Kept:
    with _KEPT_LOCK:
        return _KEPT.setdefault(path, _Kept())


def close_kept(path: Path) -> None:
    """Close the database this process keeps open for `path` (after the reads on it): for
    a process that is done with a shared Warehouse but goes on (the benchmark)."""
    with _KEPT_LOCK:
        kept = _KEPT.pop(path, None)
    if kept is None:
        return
    with kept.changed:
        while kept.readers:
            kept.changed.wait(timeout=1.0)
        if kept.con is not None:
            kept.con.close()
            kept.con = None


@dataclass(frozen=True)
class Warehouse:
    """One warehouse file; `read(work)` runs `work` on a read-only connection: a short-lived
    one, or with `shared` a cursor of the database this process keeps open (module doc)."""

    path: Path
    shared: bool = False

    @contextmanager
    def connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection, retried on lock/IO errors."""
        if self.shared:
            kept = _kept(self.path)
            cursor = kept.cursor(self.path)
            try:
                yield cursor
            finally:
                kept.release(cursor)
            return
        con = _open(self.path)
        try:
            yield con
        finally:
            con.close()

    def read(self, work: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """Run `work` on one short connection; retried as a whole when the file was busy."""
        for attempt in range(ATTEMPTS):
            try:
                with self.connection() as con:
                    return work(con)
            except duckdb.IOException:
                if attempt == ATTEMPTS - 1:
                    raise
                time.sleep(random.uniform(0.02, 0.08) * (attempt + 1))
        raise AssertionError("unreachable")

    def analyst_copy(self) -> Warehouse:
        """The analysts' pseudonymised copy, the file beside this one."""
        return Warehouse(analyst_copy_path(self.path))  # the SQL console attaches it too


def attach(server: flask.Flask, warehouse: Warehouse) -> None:
    """Make `warehouse` the one `current()` returns inside this app's requests."""
    server.extensions[APP_EXTENSION] = warehouse


def current() -> Warehouse:
    """The running app's warehouse; outside an app (a script, a test), settings.db."""
    if flask.has_app_context():
        attached = flask.current_app.extensions.get(APP_EXTENSION)
        if attached is not None:
            return attached
    return Warehouse(get_settings().db_path)


def resolve(db: Path | Warehouse | None) -> Warehouse:
    """The warehouse at `db` (a path, or a Warehouse as is), or the running app's when None
    (what every reader takes)."""
    if isinstance(db, Warehouse):
        return db
    return Warehouse(Path(db)) if db is not None else current()


# --- running queries on a connection --------------------------------------------------------


def frame(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> pd.DataFrame:
    return con.execute(sql, params or {}).df()


def one(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> dict[str, Any] | None:
    """The first row as a dict (column -> value), None when there is none."""
    cursor = con.execute(sql, params or {})
    row = cursor.fetchone()
    if row is None:
        return None
    return dict(zip([column[0] for column in cursor.description], row, strict=True))


@functools.cache
def _query_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=3, thread_name_prefix="warehouse-read")


ROW_READERS: dict[str, Callable[..., Any]] = {"one": one, "frame": frame}


def read_parallel(
    con: duckdb.DuckDBPyConnection, queries: dict[str, tuple[str, str]], params: dict[str, Any]
) -> dict[str, Any]:
    """Run independent queries at once, each on its own cursor of `con` (DuckDB runs them
    without the GIL), so a page's handful of small lookups waits for the slowest alone.
    `queries`: name -> (how the rows come back: "one" or "frame", SQL); each gets the
    `params` its SQL names."""
    cursors = {name: con.cursor() for name in queries}

    def run(name: str) -> Any:
        how, sql = queries[name]
        mine = {key: value for key, value in params.items() if f"${key}" in sql}
        try:
            return ROW_READERS[how](cursors[name], sql, mine)
        finally:
            cursors[name].close()

    futures = {name: _query_pool().submit(run, name) for name in queries}
    return {name: future.result() for name, future in futures.items()}


def check_metric(metric: str) -> str:
    # metric becomes a column name in some queries: only the three known names are allowed
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; expected one of {', '.join(METRICS)}")
    return metric
