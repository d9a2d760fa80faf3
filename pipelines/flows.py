"""The Prefect flow `ingest`: one run over one or more files/folders (pipelines/inbox.py
runs it on the inbox).

Tasks wrap the plain step functions of pipelines/ingest/read_and_validate.py and of the
store. Only I/O tasks retry (reading a file; moving one, in pipelines/inbox.py); validation
and loading are deterministic, so a retry would only repeat the same failure. Task inputs
are frames and a DuckDB connection, which are not hashable, so caching is off.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE

from pipelines.crash_points import crash_point
from pipelines.ingest import read_and_validate
from pipelines.ingest.discover import DeliveryFile, discover
from pipelines.ingest.prepare import FilePlan
from pipelines.ingest.read_ahead import READ_AHEAD_FORMATS, ReadAhead
from pipelines.ingest.readers import FileRejected
from pipelines.ingest.rejection import display_name, unknown_columns_note
from pipelines.ingest.safe_files import own_files
from pipelines.ingest.snapshot import FileState, Snapshot, take_snapshot
from pipelines.settings import Settings, analyst_copy_path, get_settings
from pipelines.store.bookkeeping import (
    FileOutcome,
    RunSummary,
    already_loaded,
    finish_run,
    record_gx_result,
    record_rejection,
    start_run,
)
from pipelines.store.connection import (
    discard,
    load_lock,
    open_working_copy,
    publish,
    publish_working_copy,
    resolve_warehouse,
    working_copy_path,
)
from pipelines.store.loader import load_plan
from pipelines.store.retry import retry_late_references
from pipelines.validation.gx_context import get_context
from pipelines.validation.rows import ValidationOutcome

TASK = {"cache_policy": NONE, "persist_result": False}


def _transient_io_error(task, task_run, state) -> bool:
    """Retry a read only when it may succeed next time: a rejected file never will."""
    try:
        state.result()
    except FileRejected:
        return False
    except OSError:
        return True
    except Exception:
        return False
    return False


@task(name="read file", **TASK)
def read_file_task(delivery_file: DeliveryFile, snapshot: Snapshot, ahead: ReadAhead):
    """Parse the bytes that were hashed; XLSX in the reader process, under its time limit."""
    if delivery_file.problem is None and delivery_file.format in READ_AHEAD_FORMATS:
        return ahead.read(delivery_file, snapshot)
    return read_and_validate.read_file(delivery_file, snapshot)


@task(name="read and hash file", retries=2, retry_delay_seconds=1,
      retry_condition_fn=_transient_io_error, **TASK)  # fmt: skip
def snapshot_task(delivery_file: DeliveryFile, settings: Settings) -> Snapshot:
    return read_and_validate.snapshot(delivery_file, settings.max_line_bytes)


@task(name="validate rows (GX)", **TASK)
def validate_task(raw, entity: str, settings: Settings, load_time: dt.datetime):
    return read_and_validate.validate_file(raw, entity, settings, load_time)


@task(name="load file", **TASK)
def load_task(con, plan, **kwargs):
    return load_plan(con, plan, **kwargs)


@task(name="retry late references", **TASK)
def retry_task(con, load_seq: int, now: dt.datetime, settings: Settings) -> int:
    return retry_late_references(
        con, load_seq=load_seq, now=now, clinic_timezone=settings.clinic_timezone
    )


@task(name="refresh derived tables", **TASK)
def refresh_task(con, settings: Settings) -> tuple[int, str]:
    """Bring the marts, views and pseudonym lookups up to date, in one transaction;
    returns the number of alerts and what the marts' refresh did (its mode)."""
    from pipelines.users import pseudonym_secret
    from pipelines.warehouse.incremental import refresh_derived
    from pipelines.warehouse.pseudonyms import sync_pseudonyms
    from pipelines.warehouse.views import create_analyst_views

    con.begin()
    try:
        refresh = refresh_derived(con, settings)
        get_run_logger().info(
            "marts: %s (%d clients, %d session rows, %d courses recomputed)",
            refresh.mode, refresh.clients, refresh.sessions, refresh.courses,
        )  # fmt: skip
        create_analyst_views(con)
        # the pseudonym lookups the analysts' copy is made from; the key stays off the file
        sync_pseudonyms(con, pseudonym_secret(settings), settings.pseudonym_hex_chars)
        con.execute("DROP SCHEMA IF EXISTS analyst CASCADE")  # views of an older release
        crash_point("rebuilding_derived")
        con.commit()
    except BaseException:
        con.rollback()
        raise
    return int(con.execute("SELECT count(*) FROM mart_alerts").fetchone()[0]), refresh.mode


@task(name="validate derived tables (GX)", **TASK)
def validate_derived_task(con, run_id: str, at: dt.datetime) -> bool:
    from pipelines.validation.derived import validate_derived

    outcomes = validate_derived(con)
    con.begin()
    for table, outcome in outcomes.items():
        record_gx_result(con, run_id, outcome, table, None, at)
    con.commit()
    return all(outcome.success for outcome in outcomes.values())


@task(name="write analysts' copy", **TASK)
def analyst_copy_task(con, db_path: Path, refresh_mode: str) -> str:
    """The pseudonymised file analyst SQL runs on (docs/security.md), written as a working
    copy beside the warehouse's and published with it."""
    from pipelines.warehouse.analyst_copy import refresh_analyst_copy

    published = analyst_copy_path(db_path)
    mode = refresh_analyst_copy(con, published, working_copy_path(published), refresh_mode)
    get_run_logger().info("analysts' copy: %s", mode)
    return mode


@task(name="publish warehouse", **TASK)
def publish_task(con, db_path: Path) -> None:
    publish(con, db_path)
    # after the warehouse: a crash in between leaves the analysts one load behind, never
    # ahead of it; the next load writes the copy again
    publish_working_copy(analyst_copy_path(db_path))


@task(name="build data docs", **TASK)
def build_docs_task(since: dt.datetime) -> str:
    from pipelines.validation.gx_context import build_docs

    return str(build_docs(since))


@flow(name="ingest")
def ingest_flow(paths: list[str], db: str | None = None, data_docs: bool = True) -> RunSummary:
    """Load a delivery (files and/or folders) into the warehouse and refresh the outcomes;
    then rebuild the GX Data Docs unless `data_docs` is False (the caller will)."""
    logger = get_run_logger()
    settings = get_settings()
    db_path = resolve_warehouse(Path(db) if db else settings.db_path)
    t0 = time.perf_counter()
    started = dt.datetime.now(dt.UTC)
    summary = RunSummary(run_id=uuid.uuid4().hex[:12], started_at=started)
    with load_lock(db_path, wait_s=settings.load_lock_wait_s):
        con = open_working_copy(db_path)
        try:
            load_seq = start_run(con, summary.run_id, started)
            files = discover([Path(p) for p in paths], own_files(settings, db_path))
            with ReadAhead(_to_read_ahead(con, files), settings.read_timeout_s) as ahead:
                if ahead.pending:  # while the worker reads, import GX (the first validation would)
                    get_context()
                early: dict[int, PreparedFile] = {}  # files prepared while the worker read
                for at, delivery_file in enumerate(files):
                    _prepare_while_waiting(con, files, at, early, settings, started, ahead)
                    prepared = early.pop(at, None) or _prepare(
                        con, delivery_file, settings, started, ahead
                    )
                    outcome = _ingest_one(con, delivery_file, prepared, at + 1, load_seq, summary)
                    summary.files.append(outcome)
                    logger.info("%s: %s %s", outcome.source_file, outcome.status, outcome.message)
            summary.rows_retried = retry_task(con, load_seq, dt.datetime.now(dt.UTC), settings)
            summary.alerts, refresh_mode = refresh_task(con, settings)
            summary.derived_valid = validate_derived_task(con, summary.run_id, started)
            summary.status = "succeeded" if summary.derived_valid else "succeeded_with_warnings"
            summary.elapsed_s = time.perf_counter() - t0
            finish_run(con, summary)
            analyst_copy_task(con, db_path, refresh_mode)
            publish_task(con, db_path)
        except BaseException:
            discard(con, db_path)  # the published warehouse stays as before the run
            raise
    if data_docs:
        build_docs_task(started)
    return summary


def _to_read_ahead(con, files: list[DeliveryFile]) -> list[tuple[DeliveryFile, Snapshot]]:
    """The files worth reading in the reader process at once, with their bytes: a format it
    reads, not loaded before (a file that cannot be read now says why in its turn)."""
    reads = []
    for f in files:
        if f.problem is None and f.format in READ_AHEAD_FORMATS:
            try:
                snap = take_snapshot(f.path)
            except (FileRejected, OSError):
                continue
            if not already_loaded(con, snap.digest):
                reads.append((f, snap))
    return reads


@dataclass
class PreparedFile:
    """A file hashed, read, typed, validated and planned — or why it goes no further."""

    digest: str | None
    state: FileState | None = None
    """The file as it was read (identity, size, time): the inbox archives only that file."""
    loaded_as: str | None = None
    """The file these exact bytes were loaded under before: the file is skipped."""
    rejected: FileRejected | None = None
    plan: FilePlan | None = None
    gx_outcome: ValidationOutcome | None = None
    extra_columns: list[str] = field(default_factory=list)


def _prepare(
    con, delivery_file: DeliveryFile, settings: Settings, load_time: dt.datetime, ahead: ReadAhead
) -> PreparedFile:
    """Everything before the file's transaction (no write to the warehouse). A refused
    file (a link, a FIFO, one of our own files) is never opened."""
    if delivery_file.refused:
        return PreparedFile(None, rejected=read_and_validate.refused(delivery_file))
    digest = state = None
    try:
        snap = ahead.snapshot(delivery_file) or snapshot_task(delivery_file, settings)
        digest, state = snap.digest, snap.state
        if delivery_file.problem is None and (earlier := already_loaded(con, digest)):
            return PreparedFile(digest, state, loaded_as=earlier)
        raw = read_file_task(delivery_file, snap, ahead)
        del snap  # its bytes are not needed past the read
        crash_point("after_read")
        plan, gx_outcome = validate_task(raw, delivery_file.entity, settings, load_time)
    except FileRejected as exc:
        return PreparedFile(digest, state, rejected=exc)
    return PreparedFile(
        digest, state, plan=plan, gx_outcome=gx_outcome, extra_columns=raw.extra_columns
    )


def _prepare_while_waiting(
    con, files: list[DeliveryFile], at: int, early: dict[int, PreparedFile], settings: Settings,
    load_time: dt.datetime, ahead: ReadAhead,
) -> None:  # fmt: skip
    """While the worker still reads files[at], prepare the files after it here (at most
    settings.prepare_ahead_files), so that the wait is not idle; they load in their turn."""
    nxt = at + 1
    while ahead.still_reading(files[at]) and nxt < len(files):
        if len(early) >= settings.prepare_ahead_files:
            return
        if nxt not in early and not ahead.reads(files[nxt]):
            early[nxt] = _prepare(con, files[nxt], settings, load_time, ahead)
        nxt += 1


def _ingest_one(
    con, delivery_file: DeliveryFile, prepared: PreparedFile, file_seq: int, load_seq: int, summary
) -> FileOutcome:
    source = display_name(str(delivery_file.path))  # stored and shown: no control characters
    now = dt.datetime.now(dt.UTC)
    digest = prepared.digest
    # asked again now: a file prepared early may repeat the bytes of one loaded since
    earlier = prepared.loaded_as or (
        already_loaded(con, digest) if delivery_file.problem is None and digest else None
    )
    read_as = {"path": delivery_file.path, "state": prepared.state}
    if earlier:
        return FileOutcome(
            source, delivery_file.entity, "skipped", f"same content as {earlier}, loaded before",
            **read_as,
        )  # fmt: skip
    if prepared.rejected is not None:
        record_rejection(
            con,
            run_id=summary.run_id,
            load_seq=load_seq,
            file_seq=file_seq,
            source_file=source,
            entity=delivery_file.entity,
            content_hash=digest,
            message=str(prepared.rejected),
            at=now,
        )
        message = str(prepared.rejected)
        return FileOutcome(source, delivery_file.entity, "rejected", message, **read_as)
    message = unknown_columns_note(prepared.extra_columns)
    result = load_task(
        con,
        prepared.plan,
        run_id=summary.run_id,
        load_seq=load_seq,
        file_seq=file_seq,
        source_file=source,
        content_hash=digest,
        loaded_at=now,
        message=message,
    )
    record_gx_result(con, summary.run_id, prepared.gx_outcome, delivery_file.entity, source, now)
    crash_point("after_file_commit")
    return FileOutcome(source, delivery_file.entity, "loaded", message, result, **read_as)
