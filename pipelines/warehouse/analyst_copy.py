"""The analysts' copy: a DuckDB file of its own that holds only pseudonymised data.

Analyst SQL (the dashboard's console for the analyst role, `outcomes sql --analyst`) runs
against this file alone, never against the warehouse: whatever name a query writes, the
real tables are not in the file it can reach (docs/security.md, "The analysts' copy").
Its tables and columns are the allow-list of pipelines/warehouse/analyst_columns.py.

It lives beside the warehouse (`<warehouse>.analyst.duckdb`). Every load writes it as a
working copy, from the warehouse's working copy, and publishes it right after the
warehouse. Written from scratch it costs seconds at 1 M sessions, so a load patches a copy
of the published one instead, when it can: the rows of the clients and courses the marts'
incremental refresh recomputed (pipelines/warehouse/incremental.py, temp.refreshed_*)
are deleted and written again; small tables are rewritten whole, and so is
course_progress when the baseline spread behind every rci moved. It is written from
scratch when the marts were rebuilt in full, when the columns or the pseudonym key changed,
and when the published file is not the one the warehouse recorded (a crash between the two
publishes, a file copied in by hand). tests/warehouse/test_analyst_copy.py proves a
patched copy equal to one written from scratch.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import duckdb

from pipelines.store.connection import file_state
from pipelines.warehouse.analyst_columns import (
    COLUMNS,
    Col,
    columns_fingerprint,
    comment_statements,
    select_sql,
)
from pipelines.warehouse.incremental import shadowing, stored_name
from pipelines.warehouse.pseudonyms import PSEUDONYM_SCHEMA, view_columns
from pipelines.warehouse.views import sql_literal

COPY_ALIAS = "analyst_copy"
"""Name the copy is attached under while it is written."""
WHOLE_TABLES = (
    "therapists", "cohort_outcomes", "quarantine", "load_log", "cohort_outcomes_adjusted",
    "therapist_outcomes", "course_expectations",
)  # fmt: skip
"""Small tables, rewritten whole at every load."""

_CLIENTS = "SELECT client_id FROM temp.refreshed_clients"
_COURSES = "SELECT course_id FROM temp.refreshed_courses"
_CLIENT_SESSIONS = f"SELECT session_id FROM main.sessions WHERE client_id IN ({_CLIENTS})"


def _in_copy(kind: str, ids: str) -> str:
    """Rows of the copy whose `<kind>_id` is the pseudonym of one of the ids `ids` selects."""
    return f"{kind}_id IN (SELECT pseudonym FROM {PSEUDONYM_SCHEMA}.{kind} WHERE value IN ({ids}))"


_BY_CLIENT = (f"client_id IN ({_CLIENTS})", _in_copy("client", _CLIENTS))
_BY_COURSE = (
    f"{_BY_CLIENT[0]} OR course_id IN ({_COURSES})",
    f"{_BY_CLIENT[1]} OR {_in_copy('course', _COURSES)}",
)
_OFF_TRACK = "alert_type = 'off_track'"
ROWS_TO_PATCH: dict[str, tuple[str, str]] = {
    "clients": _BY_CLIENT,
    "sessions": _BY_CLIENT,
    # off_track alerts move with every completed course (the expected course): all of them
    "alerts": (f"{_BY_CLIENT[0]} OR {_OFF_TRACK}", f"{_BY_CLIENT[1]} OR {_OFF_TRACK}"),
    # a score by its session: its own client_id may be a client the session has left, but
    # whatever changes a score row (the score, its session) touches the session's client
    "scores": (f"session_id IN ({_CLIENT_SESSIONS})", _in_copy("session", _CLIENT_SESSIONS)),
    # a course also when only its status moved with as_of (its client untouched)
    "courses": _BY_COURSE,
    "course_progress": _BY_COURSE,
}
"""table -> (the refreshed rows in the warehouse's view; the same rows in the copy), for
the clients and courses the marts' refresh recomputed."""
SLICES: dict[str, dict[str, str]] = {
    "scores": {
        "raw_scores": f"SELECT * FROM {{raw_scores}} WHERE session_id IN ({_CLIENT_SESSIONS})"
    },
}
"""Temp tables that shadow a view's inputs while its refreshed rows are read (as the marts'
incremental refresh does): the scores view takes the current version of every score, which
over the whole history costs a second; over the refreshed sessions' scores, milliseconds."""


def refresh_analyst_copy(
    con: duckdb.DuckDBPyConnection, published: Path, target: Path, refresh_mode: str
) -> str:
    """Write the analysts' copy of the warehouse open on `con` into `target` (its working
    copy): by patching a copy of `published` where it can, else from scratch; returns
    'patched' or 'full'. `refresh_mode` is what the marts' refresh did ('full',
    'incremental' or 'unchanged'). Records the copy in meta_analyst_copy, so the warehouse
    must be published after this and the copy right after it. Needs the pseudonym lookups
    up to date; call outside a transaction."""
    made_with = (_fingerprint(con), _spread(con))
    state = con.execute(
        "SELECT fingerprint, spread, file_inode, file_mtime_ns, file_size FROM meta_analyst_copy"
    ).fetchone()
    patchable = (
        refresh_mode != "full"
        and state is not None
        and state[0] == made_with[0]
        and file_state(published) == tuple(state[2:])
    )
    for stale in (target, target.with_name(target.name + ".wal")):
        stale.unlink(missing_ok=True)
    if patchable:
        shutil.copyfile(published, target)
    con.execute(f"ATTACH {sql_literal(str(target))} AS {COPY_ALIAS}")
    try:
        if patchable:
            _patch(con, spread_moved=state[1] != made_with[1])
        else:
            write_tables(con, COPY_ALIAS)
        # Without vacuuming: merging the row groups the patch deleted from costs seconds a
        # load; the deleted rows stay as tombstones until the copy is written anew (at the
        # marts' next full rebuild).
        con.execute("SET max_vacuum_tasks = 0")
        try:
            con.execute(f"CHECKPOINT {COPY_ALIAS}")
        finally:
            con.execute("RESET max_vacuum_tasks")
    finally:
        con.execute(f"DETACH {COPY_ALIAS}")
    with open(target, "rb") as fh:
        os.fsync(fh.fileno())
    con.execute("DELETE FROM meta_analyst_copy")
    con.execute(
        "INSERT INTO meta_analyst_copy VALUES (?, ?, ?, ?, ?)", [*made_with, *file_state(target)]
    )
    for table in ("refreshed_clients", "refreshed_courses"):
        con.execute(f"DROP TABLE IF EXISTS temp.{table}")
    return "patched" if patchable else "full"


def write_tables(con: duckdb.DuckDBPyConnection, database: str) -> list[str]:
    """Create every analyst table, from scratch, in the attached (empty) `database`;
    returns them."""
    from pipelines.warehouse.catalog import VIEWS

    written = []
    for view, columns in _present_columns(con).items():
        table = f"{database}.main.{view}"
        con.execute(f"CREATE TABLE {table} AS {select_sql(view, columns)}")
        con.execute(";\n".join(comment_statements(table, view, columns, VIEWS.get(view))))
        written.append(view)
    return written


def _present_columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[Col]]:
    """view -> its allow-listed columns present in this warehouse (views it has)."""
    found = view_columns(con)
    out = {}
    for view, columns in COLUMNS.items():
        present = set(found.get(view, []))
        if present:
            out[view] = [c for c in columns if c.from_column in present]
    return out


def _patch(con: duckdb.DuckDBPyConnection, spread_moved: bool) -> None:
    """Bring the attached copy of the published copy up to date, in one transaction."""
    for table, column in (("refreshed_clients", "client_id"), ("refreshed_courses", "course_id")):
        con.execute(f"CREATE TEMP TABLE IF NOT EXISTS {table} ({column} VARCHAR)")  # unchanged
    con.begin()
    try:
        for view, columns in _present_columns(con).items():
            table = f"{COPY_ALIAS}.main.{view}"
            whole = view in WHOLE_TABLES or (view == "course_progress" and spread_moved)
            if whole:
                con.execute(f"DELETE FROM {table}")
                con.execute(f"INSERT INTO {table} {select_sql(view, columns)}")
                continue
            src_rows, copy_rows = ROWS_TO_PATCH[view]
            slices = {
                name: select.format(**{name: stored_name(con, name)})
                for name, select in SLICES.get(view, {}).items()
            }
            with shadowing(
                con, {**slices, "patch_rows": f"SELECT * FROM main.{view} WHERE {src_rows}"}
            ):
                con.execute(f"DELETE FROM {table} WHERE {copy_rows}")
                con.execute(
                    f"INSERT INTO {table} {select_sql(view, columns, source='temp.patch_rows')}"
                )
        # every course carries the warehouse's as_of, which a load may move
        as_of = "(SELECT max(as_of) FROM main.courses)"
        con.execute(
            f"UPDATE {COPY_ALIAS}.main.courses SET as_of = {as_of}"
            f" WHERE as_of IS DISTINCT FROM {as_of}"
        )
        con.commit()
    except BaseException:
        con.rollback()
        raise


def _fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """What the copy's rows are made with: its columns and the pseudonym key (its check)."""
    key = con.execute(f"SELECT max(key_check) FROM {PSEUDONYM_SCHEMA}.key_check").fetchone()[0]
    return hashlib.sha256(f"{columns_fingerprint()}|{key}".encode()).hexdigest()


def _spread(con: duckdb.DuckDBPyConnection) -> str | None:
    """The baseline spread every course's rci divides by (mart_baseline_spread), as text."""
    row = con.execute(
        "SELECT string_agg(CAST(s AS VARCHAR), '|' ORDER BY metric) FROM mart_baseline_spread s"
    ).fetchone()
    return row[0] if row else None
