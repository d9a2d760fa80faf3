"""Tables of the history and bookkeeping layers, and the staging views over them."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import duckdb

from pipelines.schema import ENTITIES, Column

_SQL_TYPES = {
    "text": "VARCHAR",
    "date": "DATE",
    "timestamp": "TIMESTAMPTZ",
    "number": "DOUBLE",
    "boolean": "BOOLEAN",
    "list": "VARCHAR[]",
}
HISTORY_META = (
    "_load_seq BIGINT NOT NULL, _file_seq INTEGER NOT NULL, _row_number BIGINT NOT NULL, "
    "_source_file VARCHAR NOT NULL, _loaded_at TIMESTAMPTZ NOT NULL"
)

BOOKKEEPING = """
CREATE TABLE IF NOT EXISTS meta_runs (
    run_id VARCHAR PRIMARY KEY, load_seq BIGINT NOT NULL, started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ, status VARCHAR NOT NULL, files_loaded INTEGER,
    files_rejected INTEGER, files_skipped INTEGER, rows_loaded BIGINT,
    rows_quarantined BIGINT, rows_retried BIGINT, alerts BIGINT, message VARCHAR
);
CREATE TABLE IF NOT EXISTS meta_load_log (
    run_id VARCHAR NOT NULL, load_seq BIGINT NOT NULL, file_seq INTEGER NOT NULL,
    source_file VARCHAR NOT NULL, content_hash VARCHAR, entity VARCHAR,
    loaded_at TIMESTAMPTZ NOT NULL, rows_read BIGINT NOT NULL, rows_loaded BIGINT NOT NULL,
    rows_quarantined BIGINT NOT NULL, rows_duplicate BIGINT NOT NULL, status VARCHAR NOT NULL,
    message VARCHAR
);
CREATE TABLE IF NOT EXISTS meta_quarantine (
    quarantine_id VARCHAR PRIMARY KEY, entity VARCHAR NOT NULL, source_file VARCHAR NOT NULL,
    row_number BIGINT NOT NULL,
    record JSON NOT NULL, reasons VARCHAR[] NOT NULL, reference_only BOOLEAN NOT NULL,
    first_seen_at TIMESTAMPTZ NOT NULL, load_seq BIGINT NOT NULL, file_seq INTEGER NOT NULL,
    resolved_at TIMESTAMPTZ, resolved_load_seq BIGINT, resolution VARCHAR
);
CREATE TABLE IF NOT EXISTS meta_gx_results (
    run_id VARCHAR NOT NULL, validated_at TIMESTAMPTZ NOT NULL, suite VARCHAR NOT NULL,
    data_asset VARCHAR NOT NULL, source_file VARCHAR, success BOOLEAN NOT NULL,
    expectations_evaluated INTEGER, expectations_failed INTEGER, unexpected_rows BIGINT,
    details JSON
);
CREATE TABLE IF NOT EXISTS meta_changed_keys (
    entity VARCHAR NOT NULL, key VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS meta_derived (
    fingerprint VARCHAR NOT NULL, as_of DATE, full_built_at TIMESTAMPTZ NOT NULL,
    refreshed_at TIMESTAMPTZ NOT NULL, rows_rewritten BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta_analyst_copy (
    fingerprint VARCHAR NOT NULL, spread VARCHAR, file_inode BIGINT NOT NULL,
    file_mtime_ns BIGINT NOT NULL, file_size BIGINT NOT NULL
);
"""
"""meta_changed_keys: the keys (first key column) whose history gained a version since the
marts were last brought up to date; written with the history rows once there are marts to
patch, emptied by pipelines/warehouse/incremental.py when it refreshes them.
meta_derived: one row once the marts are built (see incremental.py): the fingerprint of the
settings and SQL they were built with, their as_of, and how many mart_sessions rows
incremental refreshes rewrote since the last full build.
meta_analyst_copy: one row once the analysts' copy is written (see
pipelines/warehouse/analyst_copy.py): what it was made with, and the identity of the file
published with this warehouse, so the next load patches it only when it is that file."""

MODELS_DIR = Path(__file__).resolve().parent / "models"
"""The SQL of the views this layer owns, one file each: ``stg_<entity>.sql`` and the analysts'
``quarantine.sql`` and ``load_log.sql``."""
BOOKKEEPING_VIEWS: tuple[str, ...] = ("quarantine", "load_log")
"""The analysts' views (spec §6) over the bookkeeping tables."""


def column_ddl(col: Column) -> str:
    return f"{col.name} {_SQL_TYPES[col.type]}"


def history_table(entity: str) -> str:
    return f"raw_{entity}"


def latest_version(keys: str) -> str:
    """QUALIFY clause keeping only the current version of each key among history rows: the
    latest (load, file position in the load, row number) wins — spec §3's "later wins". The
    staging models (``models/stg_<entity>.sql``) spell out the same order
    (tests/store/test_ddl.py holds them to it)."""
    return (
        f"QUALIFY row_number() OVER (PARTITION BY {keys} "
        "ORDER BY _load_seq DESC, _file_seq DESC, _row_number DESC) = 1"
    )


@cache
def model_sql(name: str) -> str:
    """The SELECT of one of this layer's views (the content of ``models/<name>.sql``)."""
    return (MODELS_DIR / f"{name}.sql").read_text(encoding="utf-8")


def view_sql(name: str) -> str:
    """CREATE OR REPLACE VIEW statement of `name` (``stg_<entity>`` or a BOOKKEEPING_VIEWS)."""
    return f"CREATE OR REPLACE VIEW {name} AS\n{model_sql(name)}"


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create what is missing (idempotent); safe to call at every start."""
    con.execute(BOOKKEEPING)
    for entity, spec in ENTITIES.items():
        columns = ", ".join(column_ddl(c) for c in spec.columns)
        con.execute(
            f"CREATE TABLE IF NOT EXISTS {history_table(entity)} ({columns}, {HISTORY_META})"
        )
        con.execute(view_sql(f"stg_{entity}"))
    for view in BOOKKEEPING_VIEWS:
        con.execute(view_sql(view))
