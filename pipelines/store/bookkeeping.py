"""The warehouse's record of each load: meta_runs, meta_load_log and meta_gx_results.

A run is started and finished in meta_runs, each file it processed is logged in
meta_load_log (loaded, or rejected and why), and each GX validation's result is kept in
meta_gx_results. The load log also tells which bytes were loaded before, so that a file
delivered again is skipped.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines.ingest.snapshot import FileState
from pipelines.validation.rows import ValidationOutcome


@dataclass
class FileResult:
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    rows_duplicate: int

    def reconciles(self) -> bool:
        return self.rows_read == self.rows_loaded + self.rows_quarantined + self.rows_duplicate


@dataclass
class FileOutcome:
    source_file: str
    entity: str | None
    status: str
    """loaded, rejected or skipped (same bytes loaded before)."""
    message: str = ""
    result: FileResult | None = None
    path: Path | None = None
    state: FileState | None = None
    """The file as it was read (None when it was not): see inbox.watch_inbox_flow."""


@dataclass
class RunSummary:
    run_id: str
    started_at: dt.datetime
    files: list[FileOutcome] = field(default_factory=list)
    rows_retried: int = 0
    alerts: int = 0
    derived_valid: bool | None = None
    elapsed_s: float = 0.0
    status: str = "running"

    def count(self, status: str) -> int:
        return sum(f.status == status for f in self.files)

    def total(self, attr: str) -> int:
        return sum(getattr(f.result, attr) for f in self.files if f.result)


def next_load_seq(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.execute("SELECT coalesce(max(load_seq), 0) + 1 FROM meta_runs").fetchone()[0])


def start_run(con: duckdb.DuckDBPyConnection, run_id: str, started: dt.datetime) -> int:
    """Record a run as running; returns its load_seq."""
    load_seq = next_load_seq(con)
    con.execute(
        "INSERT INTO meta_runs (run_id, load_seq, started_at, status) VALUES (?, ?, ?, 'running')",
        [run_id, load_seq, started],
    )
    return load_seq


def finish_run(con: duckdb.DuckDBPyConnection, summary: RunSummary) -> None:
    con.execute(
        """
        UPDATE meta_runs SET finished_at = ?, status = ?, files_loaded = ?, files_rejected = ?,
            files_skipped = ?, rows_loaded = ?, rows_quarantined = ?, rows_retried = ?,
            alerts = ?, message = ?
        WHERE run_id = ?
        """,
        [
            dt.datetime.now(dt.UTC),
            summary.status,
            summary.count("loaded"),
            summary.count("rejected"),
            summary.count("skipped"),
            summary.total("rows_loaded"),
            summary.total("rows_quarantined"),
            summary.rows_retried,
            summary.alerts,
            "; ".join(f"{f.source_file}: {f.message}" for f in summary.files if f.message)[:4000],
            summary.run_id,
        ],
    )


def already_loaded(con: duckdb.DuckDBPyConnection, content_hash: str) -> str | None:
    """The file name under which these exact bytes were loaded before, if any."""
    row = con.execute(
        "SELECT source_file FROM meta_load_log WHERE content_hash = ? AND status = 'loaded' "
        "ORDER BY load_seq LIMIT 1",
        [content_hash],
    ).fetchone()
    return row[0] if row else None


def log_file(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    load_seq: int,
    file_seq: int,
    source_file: str,
    content_hash: str | None,
    entity: str | None,
    loaded_at: dt.datetime,
    result: FileResult,
    status: str,
    message: str,
) -> None:
    con.execute(
        "INSERT INTO meta_load_log "
        "VALUES (?, ?, ?, ?, ?, ?, CAST(? AS TIMESTAMPTZ), ?, ?, ?, ?, ?, ?)",
        [
            run_id,
            load_seq,
            file_seq,
            source_file,
            content_hash,
            entity,
            loaded_at,
            result.rows_read,
            result.rows_loaded,
            result.rows_quarantined,
            result.rows_duplicate,
            status,
            message,
        ],
    )


def record_rejection(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    load_seq: int,
    file_seq: int,
    source_file: str,
    entity: str | None,
    content_hash: str | None,
    message: str,
    at: dt.datetime,
) -> None:
    """Log a rejected file (no row of it loaded), in a transaction of its own."""
    con.begin()
    try:
        log_file(
            con,
            run_id=run_id,
            load_seq=load_seq,
            file_seq=file_seq,
            source_file=source_file,
            content_hash=content_hash,
            entity=entity,
            loaded_at=at,
            result=FileResult(0, 0, 0, 0),
            status="rejected",
            message=message,
        )
        con.commit()
    except BaseException:
        con.rollback()
        raise


def record_gx_result(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    outcome: ValidationOutcome,
    data_asset: str,
    source_file: str | None,
    at: dt.datetime,
) -> None:
    con.execute(
        "INSERT INTO meta_gx_results VALUES (?, CAST(? AS TIMESTAMPTZ), ?, ?, ?, ?, ?, ?, ?, "
        "CAST(? AS JSON))",
        [
            run_id,
            at,
            outcome.suite,
            data_asset,
            source_file,
            outcome.success,
            outcome.evaluated,
            outcome.failed,
            outcome.unexpected_rows,
            outcome.details_json(),
        ],
    )
