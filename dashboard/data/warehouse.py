"""The warehouse file the dashboard reads, opened read-only for each read.

Why short read-only connections: a load publishes a new warehouse file with `os.replace`.
DuckDB keeps an open database alive per process, so a long-lived connection would keep
reading the old (replaced) file forever. Every read therefore opens the file read-only, runs
a few small queries and closes it. Opening can fail for a moment (a writer holding the
lock, the file being swapped): we retry a few times with a jittered pause.

The running app's `Warehouse` is kept in its Flask app's extensions (`attach`, called by
dashboard.app.create_app); pages reach it through `current()` while they handle a request.
"""

from __future__ import annotations

import functools
import random
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

T = TypeVar("T")

ATTEMPTS = 6  # with the pauses below: gives a busy file about 1–3 s
APP_EXTENSION = "outcomes_warehouse"  # key of the app's Warehouse in Flask's extensions


class WarehouseUnavailable(RuntimeError):
    """The warehouse file is missing or could not be opened after a few retries."""


@dataclass(frozen=True)
class Warehouse:
    """One warehouse file; `read(work)` runs `work` on a short-lived read-only connection."""

    path: Path

    @contextmanager
    def connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A short-lived read-only connection, retried on lock/IO errors."""
        if not self.path.exists():
            raise WarehouseUnavailable(
                f"No warehouse at {self.path}: load data with `outcomes ingest`."
            )
        last: Exception | None = None
        for attempt in range(ATTEMPTS):
            try:
                con = duckdb.connect(str(self.path), read_only=True)
                break
            except (duckdb.IOException, duckdb.ConnectionException) as exc:
                last = exc
                time.sleep(random.uniform(0.05, 0.15) * (attempt + 1))  # no lock-step retries
        else:
            raise WarehouseUnavailable(f"Could not open {self.path}: {last}") from last
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
        return Warehouse(analyst_copy_path(self.path))


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


def resolve(db: Path | None) -> Warehouse:
    """The warehouse at `db`, or the running app's when None (what every reader takes)."""
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
    `queries`: name -> (how the rows come back: "one" or "frame", SQL)."""
    cursors = {name: con.cursor() for name in queries}

    def run(name: str) -> Any:
        how, sql = queries[name]
        try:
            return ROW_READERS[how](cursors[name], sql, params)
        finally:
            cursors[name].close()

    futures = {name: _query_pool().submit(run, name) for name in queries}
    return {name: future.result() for name, future in futures.items()}


def check_metric(metric: str) -> str:
    # metric becomes a column name in some queries: only the three known names are allowed
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; expected one of {', '.join(METRICS)}")
    return metric
