"""Bring the marts up to date after a load by recomputing only the rows it touched.

The mart SQL files run unchanged on a slice of their inputs: a TEMP table named like a
stored relation (``raw_sessions``, ``mart_sessions`` …) shadows it, because DuckDB resolves
an unqualified name in the temp catalog first — also inside the ``stg_*`` views. So a mart
computed on a slice is a temp table of the mart's own name, which the next mart's SQL reads.
Stored relations are named through :func:`stored_name` (``<database>.main.<name>``), since
``main.<name>`` would resolve to the temp one too.

What a load touched comes from ``meta_changed_keys`` (written with the history rows):

1. **clients** (mart_clients, mart_sessions, mart_alerts, keyed by client_id): every client
   of any version of a changed or newly scored session, every changed client, every client
   of a changed therapist's sessions (their qualification alerts); then closed over shared
   courses: a course is numbered over all its sessions, whoever's they are, so the clients
   of every course the slice had or has join it until no course crosses its edge.
2. **courses** (mart_course_sessions, mart_courses, int_course_progress, keyed by course_id):
   every course those clients had or have, and — when as_of moved — every course whose
   status may move with it (not completed, last session within dropout_days of the older
   as_of; a completed course never changes status and an older one stays dropped out).
3. **the rest** is rebuilt in full from the stored marts: small tables (mart_baseline_spread,
   the spread of every course's baseline that rci divides by; the cohort and therapist
   aggregates) and the view mart_course_progress, which computes rci when read.

A full rebuild happens instead when the marts were built with other settings or SQL (the
fingerprint in ``meta_derived``), when ``incremental_marts`` is off, and once the session
rows rewritten since the last full rebuild reach ``full_rebuild_share`` of mart_sessions.
tests/warehouse/test_incremental.py proves the result equal to a full rebuild.

The caller owns the transaction, as for :func:`~pipelines.warehouse.derive.rebuild_derived`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import duckdb

from pipelines.settings import Settings
from pipelines.warehouse.derive import (
    MARTS,
    course_as_of,
    create_marts,
    model_sql,
    rebuild_derived,
    sql_parameters,
)

CLIENT_MARTS: tuple[str, ...] = ("mart_clients", "mart_sessions")
"""Marts with rows keyed by client_id, recomputed for the affected clients (mart_alerts too,
after the courses: it reads mart_courses)."""
COURSE_MARTS: tuple[str, ...] = (
    "mart_course_sessions", "mart_courses", "int_course_lead_therapist", "int_course_progress",
)  # fmt: skip
"""Marts with rows keyed by course_id, recomputed for the affected courses."""
ALERT_MART = "mart_alerts"
WHOLE_MARTS: tuple[str, ...] = tuple(
    m for m in MARTS if m not in (*CLIENT_MARTS, *COURSE_MARTS, ALERT_MART)
)
"""Marts over every course or session (the baseline spread, the rci view, cohort and
therapist aggregates): rebuilt."""


@dataclass(frozen=True)
class Refresh:
    """What a refresh did: `mode` is 'full', 'incremental' or 'unchanged' (nothing loaded
    and as_of the same); how many clients, session rows and courses it recomputed."""

    mode: str
    clients: int = 0
    sessions: int = 0
    courses: int = 0


def stored_name(con: duckdb.DuckDBPyConnection, name: str) -> str:
    """The stored relation `name`, never a temp table shadowing it."""
    database = con.execute("SELECT current_database()").fetchone()[0]
    return '"' + database.replace('"', '""') + '".main.' + name


def fingerprint(params: dict[str, Any]) -> str:
    """Digest of the mart parameters and every mart's SQL: marts built under another one
    must be rebuilt in full."""
    text = json.dumps(params, sort_keys=True, default=str)
    text += "".join(model_sql(mart) for mart in MARTS)
    return hashlib.sha256(text.encode()).hexdigest()


def refresh_derived(con: duckdb.DuckDBPyConnection, settings: Settings) -> Refresh:
    """Bring every mart up to date with the history: incrementally when it can, else by a
    full rebuild; empties meta_changed_keys. Runs inside the caller's transaction."""
    _forget_touched(con)  # an earlier refresh's, on this connection
    params = sql_parameters(con, settings)
    digest = fingerprint(params)
    state = con.execute("SELECT fingerprint, as_of, rows_rewritten FROM meta_derived").fetchone()
    patchable = state is not None and state[0] == digest and settings.incremental_marts
    if patchable and _nothing_to_do(con, settings, old_as_of=state[1]):
        return Refresh("unchanged")  # e.g. a delivery of files loaded before: all skipped
    if not patchable or _worn(con, state[2], settings):
        rebuild_derived(con, settings)
        refresh = Refresh("full")
        _save_state(con, digest, settings, rows_rewritten=0, full=True)
    else:
        refresh = _refresh_touched(con, settings, params, old_as_of=state[1])
        rewritten = state[2] + refresh.sessions
        _save_state(con, digest, settings, rows_rewritten=rewritten, full=False)
    con.execute("DELETE FROM meta_changed_keys")
    return refresh


def _nothing_to_do(
    con: duckdb.DuckDBPyConnection, settings: Settings, old_as_of: dt.date | None
) -> bool:
    """No key changed and as_of did not move: every mart is as a rebuild would make it."""
    changed = con.execute("SELECT count(*) FROM meta_changed_keys").fetchone()[0]
    return changed == 0 and course_as_of(con, settings) == old_as_of


def _worn(con: duckdb.DuckDBPyConnection, rows_rewritten: int, settings: Settings) -> bool:
    sessions = con.execute(f"SELECT count(*) FROM {stored_name(con, 'mart_sessions')}").fetchone()[
        0
    ]
    return rows_rewritten >= settings.full_rebuild_share * max(sessions, 1)


def _save_state(
    con: duckdb.DuckDBPyConnection, digest: str, settings: Settings, rows_rewritten: int,
    full: bool,
) -> None:  # fmt: skip
    now = dt.datetime.now(dt.UTC)
    previous = con.execute("SELECT full_built_at FROM meta_derived").fetchone()
    con.execute("DELETE FROM meta_derived")
    con.execute(
        "INSERT INTO meta_derived VALUES (?, ?, ?, ?, ?)",
        [digest, course_as_of(con, settings), now if full or not previous else previous[0],
         now, rows_rewritten],
    )  # fmt: skip


def _refresh_touched(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    params: dict[str, Any],
    old_as_of: dt.date | None,
) -> Refresh:
    relations = (*MARTS, "raw_sessions", "raw_scores", "raw_clients", "meta_changed_keys")
    stored = {name: stored_name(con, name) for name in relations}
    _affected_clients(con, stored)
    sessions = _refresh_clients(con, settings, params, stored)
    clients = con.execute("SELECT count(*) FROM temp.affected_clients").fetchone()[0]
    new_as_of = course_as_of(con, settings)
    if new_as_of != old_as_of:
        _add_courses_whose_status_may_move(con, settings, stored, old_as_of, new_as_of)
        con.execute(f"UPDATE {stored['mart_courses']} SET as_of = ?", [new_as_of])
    courses = _refresh_courses(con, settings, {**params, "as_of": new_as_of}, stored)
    _refresh_alerts(con, settings, params, stored)
    create_marts(con, settings, params, WHOLE_MARTS)
    _keep_touched(con)
    return Refresh("incremental", clients=clients, sessions=sessions, courses=courses)


def _affected_clients(con: duckdb.DuckDBPyConnection, stored: dict[str, str]) -> None:
    """temp.affected_clients: the clients the changed keys reach directly (before closing
    over shared courses)."""
    changed = stored["meta_changed_keys"]
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE affected_clients AS
        WITH changed_sessions AS (
            -- a changed session, or one whose scores changed: every client it ever had
            SELECT client_id FROM {stored["raw_sessions"]}
            WHERE session_id IN (
                SELECT key FROM {changed} WHERE entity IN ('sessions', 'scores')
            )
        ),
        changed_clients AS (
            SELECT key AS client_id FROM {changed} WHERE entity = 'clients'
        ),
        changed_therapists AS (
            -- a therapist's record decides the qualification alerts of all their sessions
            SELECT client_id FROM {stored["raw_sessions"]}
            WHERE therapist_id IN (SELECT key FROM {changed} WHERE entity = 'therapists')
        ),
        final AS (
            SELECT client_id FROM changed_sessions
            UNION SELECT client_id FROM changed_clients
            UNION SELECT client_id FROM changed_therapists
        )
        SELECT * FROM final
        """
    )


@contextmanager
def shadowing(con: duckdb.DuckDBPyConnection, relations: dict[str, str]) -> Iterator[None]:
    """Temp tables `name AS select`, created in order (a later select may read an earlier
    one), dropped on the way out: the mart SQL then reads these slices instead."""
    try:
        for name, select in relations.items():
            con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {select}")
        yield
    finally:
        for name in relations:
            con.execute(f"DROP TABLE IF EXISTS temp.{name}")


def _replace_rows(
    con: duckdb.DuckDBPyConnection, mart: str, stored: dict[str, str], key: str, keys: str
) -> int:
    """Swap the stored mart's rows whose `key` is in temp table `keys` for temp.<mart>."""
    con.execute(f"DELETE FROM {stored[mart]} WHERE {key} IN (SELECT {key} FROM temp.{keys})")
    inserted = con.execute(f"INSERT INTO {stored[mart]} SELECT * FROM temp.{mart}").fetchone()
    con.execute(f"DROP TABLE temp.{mart}")
    return int(inserted[0])


def _refresh_clients(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    params: dict[str, Any],
    stored: dict[str, str],
) -> int:
    """Recompute mart_clients and mart_sessions for temp.affected_clients, grown until no
    course has sessions on both sides of it; leaves temp.affected_courses (the courses
    those clients had or have). Returns the number of session rows written."""
    in_slice = "client_id IN (SELECT client_id FROM temp.affected_clients)"
    sessions = stored["mart_sessions"]
    while True:
        with shadowing(
            con,
            {
                # every version of every session whose current version is a slice client's
                "raw_sessions": f"""
                    SELECT * FROM {stored["raw_sessions"]} WHERE session_id IN (
                        SELECT session_id FROM {stored["raw_sessions"]} WHERE {in_slice}
                    )""",
                "stg_sessions": (
                    f"SELECT * FROM {stored_name(con, 'stg_sessions')} WHERE {in_slice}"
                ),
                "raw_clients": f"SELECT * FROM {stored['raw_clients']} WHERE {in_slice}",
            },
        ):
            create_marts(con, settings, params, CLIENT_MARTS, temp=True)
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE affected_courses AS
            SELECT course_id FROM {sessions} WHERE {in_slice} AND course_id IS NOT NULL
            UNION
            SELECT course_id FROM temp.mart_sessions WHERE course_id IS NOT NULL
            """
        )
        outside = con.execute(
            f"""
            INSERT INTO temp.affected_clients
            SELECT DISTINCT client_id FROM {sessions}
            WHERE course_id IN (SELECT course_id FROM temp.affected_courses) AND NOT {in_slice}
            """
        ).fetchone()[0]
        if outside == 0:
            break
    _replace_rows(con, "mart_clients", stored, "client_id", "affected_clients")
    return _replace_rows(con, "mart_sessions", stored, "client_id", "affected_clients")


def _add_courses_whose_status_may_move(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    stored: dict[str, str],
    old_as_of: dt.date | None,
    new_as_of: dt.date | None,
) -> None:
    """A course's status depends on as_of only while it is not completed, and only through
    whether its last session is within dropout_days of as_of: when as_of moves, only courses
    whose last session is at most dropout_days before the older as_of can change."""
    older = None if old_as_of is None or new_as_of is None else min(old_as_of, new_as_of)
    con.execute(
        f"""
        INSERT INTO temp.affected_courses
        SELECT course_id FROM {stored["mart_courses"]}
        WHERE status <> 'completed'
            AND ($older::DATE IS NULL OR last_session_date >= $older::DATE - $dropout_days)
        """,
        {"older": older, "dropout_days": settings.dropout_days},
    )


def _refresh_courses(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    params: dict[str, Any],
    stored: dict[str, str],
) -> int:
    """Recompute the course marts for temp.affected_courses (all their sessions are in the
    stored mart_sessions by now); returns the number of courses."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE affected_courses AS "
        "SELECT DISTINCT course_id FROM temp.affected_courses"
    )
    with shadowing(
        con,
        {
            "mart_sessions": f"""
                SELECT * FROM {stored["mart_sessions"]}
                WHERE course_id IN (SELECT course_id FROM temp.affected_courses)""",
            "raw_scores": f"""
                SELECT * FROM {stored["raw_scores"]}
                WHERE session_id IN (SELECT session_id FROM temp.mart_sessions)""",
        },
    ):
        create_marts(con, settings, params, COURSE_MARTS, temp=True)
    for mart in COURSE_MARTS:
        _replace_rows(con, mart, stored, "course_id", "affected_courses")
    return int(con.execute("SELECT count(*) FROM temp.affected_courses").fetchone()[0])


def _refresh_alerts(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    params: dict[str, Any],
    stored: dict[str, str],
) -> None:
    """Recompute mart_alerts for temp.affected_clients: a session alert is its client's, a
    course alert its course's client's, and every session of such a course is in the slice."""
    in_slice = "client_id IN (SELECT client_id FROM temp.affected_clients)"
    with shadowing(
        con,
        {
            "mart_sessions": f"SELECT * FROM {stored['mart_sessions']} WHERE {in_slice}",
            "mart_courses": f"SELECT * FROM {stored['mart_courses']} WHERE {in_slice}",
        },
    ):
        create_marts(con, settings, params, (ALERT_MART,), temp=True)
    _replace_rows(con, ALERT_MART, stored, "client_id", "affected_clients")


REFRESHED: dict[str, str] = {
    "affected_clients": "refreshed_clients",
    "affected_courses": "refreshed_courses",
}
"""Work table -> the temp table that keeps it after an incremental refresh: the clients and
the courses whose mart rows were recomputed, for what is made from the marts afterwards on
the same connection (the analysts' copy patches the same rows)."""


def _keep_touched(con: duckdb.DuckDBPyConnection) -> None:
    for work, kept in REFRESHED.items():
        con.execute(f"ALTER TABLE temp.{work} RENAME TO {kept}")


def _forget_touched(con: duckdb.DuckDBPyConnection) -> None:
    for kept in REFRESHED.values():
        con.execute(f"DROP TABLE IF EXISTS temp.{kept}")
