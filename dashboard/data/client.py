"""The client page: find a client, and everything shown for one (current course, its
sessions and progress with labels, alerts, the last session), read on one connection."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from dashboard.data.warehouse import frame, read_parallel, resolve
from pipelines.settings import METRICS, get_settings


def search_clients(text: str, limit: int = 20, db: Path | None = None) -> pd.DataFrame:
    """Clients whose id starts with / contains `text`, or whose name contains it."""
    sql = """
    WITH q AS (SELECT lower(trim($text)) AS q)
    SELECT c.client_id, c.name, c.cohort
    FROM clients AS c, q
    WHERE contains(lower(c.client_id), q.q) OR contains(lower(coalesce(c.name, '')), q.q)
    ORDER BY lower(c.client_id) = q.q DESC,          -- exact id first
             starts_with(lower(c.client_id), q.q) DESC,  -- then id prefix
             c.client_id
    LIMIT $limit
    """
    params = {"text": text or "", "limit": int(limit)}
    return resolve(db).read(lambda con: frame(con, sql, params))


@dataclass
class ClientDetail:
    client: dict[str, Any]
    courses: pd.DataFrame
    current_course: dict[str, Any] | None
    sessions: pd.DataFrame  # sessions of the current course, pre_/post_<metric> columns
    progress: pd.DataFrame  # course_progress of the current course, with labels
    alerts: pd.DataFrame  # most recent alerts of the client
    last_session: dict[str, Any] | None  # the client's latest completed session
    mcid: dict[str, float] = field(default_factory=dict)
    # the current course's expected course (course_expectations, spec §7.5): empty unless
    # it is in progress
    expected: pd.DataFrame = field(default_factory=pd.DataFrame)
    earlier: pd.DataFrame = field(default_factory=pd.DataFrame)  # completed earlier courses

    @property
    def discomfort_at_last_session(self) -> bool:
        return bool(self.last_session and self.last_session.get("discomfort_reported"))


def _labels(row: pd.Series, mcid: float) -> dict[str, str]:
    if pd.isna(row["improvement"]):
        return {"improvement_label": "not enough scores yet", "responder_label": "—",
                "reliable_label": "—"}  # fmt: skip
    pct = "" if pd.isna(row["pct_improvement"]) else f" ({row['pct_improvement']:.0f} %)"
    if row["responder"]:
        responder = f"responder (≥ MCID {mcid:g})"
    elif row["worsened"]:
        responder = f"worsened (≤ −{mcid:g})"
    else:
        responder = f"below MCID {mcid:g}"
    if pd.isna(row["reliable_improvement"]):
        reliable = "RCI not available"
    else:
        reliable = "reliable improvement" if row["reliable_improvement"] else "not reliable"
    return {
        "improvement_label": f"{row['improvement']:+.1f} points{pct}",
        "responder_label": responder,
        "reliable_label": reliable,
    }


_COURSES = """
        SELECT course_id, status, sessions_completed, first_session_date, last_session_date,
               contraindicated, elderly, age_at_start, last_therapist_id
        FROM courses WHERE client_id = $id
        ORDER BY first_session_at DESC, course_id DESC
        """
"""The client's courses, latest first: the first is the current course."""

_CLIENT_QUERIES: dict[str, tuple[str, str]] = {
    # name -> (how the rows come back, SQL with the parameters $id, the client, and $course,
    # the current course: a constant lets DuckDB skip the row groups of other courses)
    "client": (
        "one",
        """
        SELECT client_id, name, birth_date, sex, height_cm, weight_kg, bmi, athlete, cohort,
               contraindications, intake_date
        FROM clients WHERE client_id = $id
        """,
    ),
    # mart_course_sessions holds every session of a course with its pre/post scores, stored
    # in course order: the course's rows are one contiguous run (a zone-map lookup)
    "sessions": (
        "frame",
        f"""
        SELECT session_number, session_id, session_date, therapist_id, discomfort_reported,
               spine_pressure, notes, {", ".join(f"pre_{m}, post_{m}" for m in METRICS)}
        FROM mart_course_sessions
        WHERE course_id = $course
        ORDER BY session_number
        """,
    ),
    "progress": (
        "frame",
        f"""
        SELECT metric, baseline, latest, improvement, pct_improvement, improvement_per_session,
               immediate_effect, responder, worsened, rci, reliable_improvement, n_values
        FROM course_progress WHERE course_id = $course
        ORDER BY array_position(['pain', 'muscle_tone', 'mobility'], metric)
        """,
    ),
    "alerts": (
        "frame",
        """
        SELECT alert_type, occurred_at, course_id, session_id, therapist_id, detail
        FROM alerts WHERE client_id = $id
        ORDER BY occurred_at DESC NULLS LAST, alert_type
        LIMIT 20
        """,
    ),
    "expected": (
        "frame",
        f"""
        SELECT metric, session_number, change, reference_scope, expected_p10, expected_p25,
               expected_median, expected_p75, off_track
        FROM course_expectations WHERE course_id = $course
        ORDER BY metric, session_number
        """,
    ),
    "earlier": (
        "frame",
        f"""
        SELECT c.course_id, c.first_session_date, c.last_session_date, c.sessions_completed,
               {", ".join(f"max(p.improvement) FILTER (WHERE p.metric = '{m}') AS {m}"
                          for m in METRICS)}
        FROM courses AS c
        LEFT JOIN course_progress AS p ON p.course_id = c.course_id
        WHERE c.client_id = $id AND c.status = 'completed' AND c.course_id IS DISTINCT FROM $course
        GROUP BY ALL
        ORDER BY c.first_session_date DESC, c.course_id DESC
        """,
    ),
    "last_session": (
        "one",
        """
        SELECT session_id, course_id, session_number, session_date, therapist_id,
               discomfort_reported, spine_pressure, notes
        FROM sessions WHERE client_id = $id AND status = 'completed'
        ORDER BY started_at DESC, session_id DESC
        LIMIT 1
        """,
    ),
}


def _client_detail(con: duckdb.DuckDBPyConnection, client_id: str) -> ClientDetail | None:
    courses = frame(con, _COURSES, {"id": client_id})
    course = courses["course_id"].iloc[0] if len(courses) else None
    got = read_parallel(con, _CLIENT_QUERIES, {"id": client_id, "course": course})
    client = got["client"]
    if client is None:
        return None
    sessions, progress = got["sessions"], got["progress"]
    alerts, last_session = got["alerts"], got["last_session"]
    expected, earlier = got["expected"], got["earlier"]
    current = courses.iloc[0].to_dict() if len(courses) else None
    mcid = dict(get_settings().mcid)
    if len(progress):
        labels = pd.DataFrame(
            [_labels(row, mcid[row["metric"]]) for _, row in progress.iterrows()],
            index=progress.index,
        )
        progress = pd.concat([progress, labels], axis=1)
    alerts["at_last_session"] = alerts["session_id"].eq(
        last_session["session_id"] if last_session else None
    )
    client["contraindications"] = list(client.get("contraindications") or [])
    return ClientDetail(
        client, courses, current, sessions, progress, alerts, last_session, mcid, expected,
        earlier,
    )  # fmt: skip


def client_detail(client_id: str, db: Path | None = None) -> ClientDetail | None:
    """Everything the client page shows, read on one connection; None for an unknown id."""
    return resolve(db).read(lambda con: _client_detail(con, client_id))
