"""Opening the warehouse for writing (the loader is the only writer)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.store.ddl import ensure_schema


class WarehouseBusy(RuntimeError):
    """Another process holds the warehouse (e.g. a second `outcomes ingest`)."""


def open_writer(db_path: Path) -> duckdb.DuckDBPyConnection:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(db_path))
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise WarehouseBusy(
                f"the warehouse {db_path} is in use by another process (is another "
                f"`outcomes ingest` running?); try again when it has finished"
            ) from exc
        raise
    ensure_schema(con)
    return con
