"""The overview page's KPIs: course counts and rates, outcomes, open alerts, the last load."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from dashboard.data.stats import mean_ci, ratio, wilson_ci
from dashboard.data.warehouse import check_metric, frame, one, resolve

SAFETY_ALERTS: tuple[str, ...] = (
    "contraindication", "discomfort", "spine_pressure", "unqualified_therapist",
)  # fmt: skip

_COURSE_COUNTS = """
SELECT count(DISTINCT client_id) FILTER (WHERE status = 'in_progress') AS active_clients,
       count(*) FILTER (WHERE status = 'in_progress') AS in_progress,
       count(*) FILTER (WHERE status = 'completed') AS completed,
       count(*) FILTER (WHERE status = 'dropped_out') AS dropped_out,
       max(as_of) AS as_of
FROM courses
"""

_OPEN_SAFETY_ALERTS = """
-- "open" = a safety alert on a course that is still in progress
SELECT count(*) AS n
FROM alerts AS a
JOIN courses AS c ON c.course_id = a.course_id
WHERE c.status = 'in_progress' AND a.alert_type IN (SELECT unnest($types::VARCHAR[]))
"""

_WEEKLY = """
SELECT date_trunc('week', session_date)::DATE AS week, count(*) AS sessions
FROM sessions
WHERE status = 'completed'
GROUP BY week
ORDER BY week
"""

_LAST_RUN = """
SELECT run_id, started_at, finished_at, status, files_loaded, files_rejected, files_skipped,
       rows_loaded, rows_quarantined, message
FROM meta_runs
ORDER BY started_at DESC
LIMIT 1
"""


def _overview(con: duckdb.DuckDBPyConnection, metric: str = "pain") -> dict[str, Any]:
    counts = one(con, _COURSE_COUNTS) or {}
    finished = counts["completed"] + counts["dropped_out"]
    outcomes = frame(
        con,
        """
        SELECT improvement, responder FROM course_progress
        WHERE metric = $metric AND status = 'completed' AND improvement IS NOT NULL
        """,
        {"metric": check_metric(metric)},
    )
    improvement = mean_ci(outcomes["improvement"])
    rate, low, high = wilson_ci(int(outcomes["responder"].sum()), len(outcomes))
    return {
        **counts,
        "completion_rate": ratio(counts["completed"], finished),
        "dropout_rate": ratio(counts["dropped_out"], finished),
        "metric": metric,
        "improvement": improvement,
        "responder": {"n": len(outcomes), "rate": rate, "ci_low": low, "ci_high": high},
        "open_safety_alerts": one(con, _OPEN_SAFETY_ALERTS, {"types": list(SAFETY_ALERTS)})["n"],
        "open_quarantine": one(con, "SELECT count(*) AS n FROM quarantine")["n"],
        "weekly": frame(con, _WEEKLY),
        "last_run": one(con, _LAST_RUN),
        "last_file_loaded_at": one(con, "SELECT max(loaded_at) AS t FROM load_log")["t"],
    }


def overview(db: Path | None = None, metric: str = "pain") -> dict[str, Any]:
    """KPIs of the overview page (one connection)."""
    return resolve(db).read(lambda con: _overview(con, metric))
