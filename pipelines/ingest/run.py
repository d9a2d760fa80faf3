"""The steps of one ingest run, as plain functions (the Prefect flow wraps them).

Each step takes what it needs and returns a value; only the steps that touch the
warehouse take a connection.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from pipelines.ingest.discover import DeliveryFile
from pipelines.ingest.normalise import normalise
from pipelines.ingest.prepare import FilePlan, combine_reasons, plan_file
from pipelines.ingest.readers import TEXT_FORMATS, FileRejected, RawTable, read_delivery_file
from pipelines.ingest.rejection import display_name
from pipelines.ingest.snapshot import FileState, Snapshot, take_snapshot
from pipelines.settings import Settings
from pipelines.store.loader import FileResult, log_file
from pipelines.validation.rows import ValidationOutcome, suite_parameters, validate_frame


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
    """The file as it was read (None when it was not): see flows.watch_inbox_flow."""


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


def already_loaded(con: duckdb.DuckDBPyConnection, content_hash: str) -> str | None:
    """The file name under which these exact bytes were loaded before, if any."""
    row = con.execute(
        "SELECT source_file FROM meta_load_log WHERE content_hash = ? AND status = 'loaded' "
        "ORDER BY load_seq LIMIT 1",
        [content_hash],
    ).fetchone()
    return row[0] if row else None


def refused(delivery_file: DeliveryFile) -> FileRejected:
    """The rejection of a file that cannot be loaded, from its name or kind."""
    return FileRejected(f"{display_name(delivery_file.path.name)}: {delivery_file.problem}")


def snapshot(delivery_file: DeliveryFile, max_line_bytes: int) -> Snapshot:
    """The file's bytes and hash, its lines checked for the text formats. The bytes of a
    file that will not be parsed (unknown name or format) are hashed, not kept."""
    parsed = delivery_file.problem is None
    lines = max_line_bytes if parsed and delivery_file.format in TEXT_FORMATS else None
    return take_snapshot(delivery_file.path, keep=parsed, max_line_bytes=lines)


def read_file(delivery_file: DeliveryFile, snap: Snapshot) -> RawTable:
    """Parse the bytes of `snap` (the ones that were hashed)."""
    if delivery_file.problem:
        raise refused(delivery_file)
    if snap.rejection is not None:
        raise snap.rejection
    assert delivery_file.entity and delivery_file.format and snap.data is not None
    return read_delivery_file(
        delivery_file.path, delivery_file.entity, delivery_file.format, data=snap.data
    )


def validate_file(
    raw: RawTable, entity: str, settings: Settings, load_time: dt.datetime
) -> tuple[FilePlan, ValidationOutcome]:
    """Type the rows, run the entity's GX suite, and plan every row's fate."""
    normalised = normalise(raw.frame, entity, settings.clinic_timezone)
    outcome = validate_frame(entity, normalised.typed, suite_parameters(settings, load_time))
    reasons = combine_reasons(normalised.parse_errors, outcome.row_reasons)
    return plan_file(entity, raw.frame, normalised.typed, reasons), outcome


def record_rejection(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str,
    load_seq: int,
    file_seq: int,
    delivery_file: DeliveryFile,
    content_hash: str | None,
    message: str,
    at: dt.datetime,
) -> None:
    con.begin()
    try:
        log_file(
            con,
            run_id=run_id,
            load_seq=load_seq,
            file_seq=file_seq,
            source_file=display_name(str(delivery_file.path)),
            content_hash=content_hash,
            entity=delivery_file.entity,
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
