"""The therapists page: workload, outcomes, qualification status and alerts per therapist."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd

from dashboard.data.overview_kpis import SAFETY_ALERTS
from dashboard.data.stats import SMALL_N, mean_ci_by
from dashboard.data.warehouse import check_metric, frame, resolve


def qualification_status(
    qualification: str | None, until: dt.date | None, today: dt.date, soon_days: int = 60
) -> str:
    if qualification is None or pd.isna(qualification) or not str(qualification).strip():
        return "not qualified"
    if until is None or pd.isna(until):
        return "valid (no expiry)"
    until = pd.Timestamp(until).date()
    if until < today:
        return f"expired {until.isoformat()}"
    if (until - today).days <= soon_days:
        return f"expires {until.isoformat()}"
    return "valid"


def therapists_table(
    metric: str = "pain", db: Path | None = None, today: dt.date | None = None
) -> pd.DataFrame:
    """One row per therapist: sessions, courses, mean improvement (courses attributed to
    the therapist of their latest session), qualification status, alerts."""
    column = check_metric(metric)
    safety = ", ".join(f"'{alert}'" for alert in SAFETY_ALERTS)
    # per-therapist counts come pre-aggregated from two small marts (built with the load)
    sql_base = f"""
    WITH work AS (
        SELECT therapist_id, sessions, courses FROM mart_therapist_activity
    ),
    alert_counts AS (
        SELECT therapist_id,
               sum(alerts) FILTER (WHERE alert_type IN ({safety}))::BIGINT AS safety_alerts,
               sum(alerts) FILTER (WHERE alert_type = 'protocol_deviation')::BIGINT
                   AS protocol_alerts
        FROM mart_therapist_alerts GROUP BY therapist_id
    )
    SELECT t.therapist_id, t.name, t.qualification, t.qualified_until, t.body_weight_kg,
           coalesce(w.sessions, 0) AS sessions, coalesce(w.courses, 0) AS courses,
           coalesce(a.safety_alerts, 0) AS safety_alerts,
           coalesce(a.protocol_alerts, 0) AS protocol_alerts
    FROM therapists AS t
    LEFT JOIN work AS w USING (therapist_id)
    LEFT JOIN alert_counts AS a USING (therapist_id)
    ORDER BY t.therapist_id
    """
    sql_outcomes = """
    SELECT c.last_therapist_id AS therapist_id, cp.improvement
    FROM courses AS c
    JOIN course_progress AS cp ON cp.course_id = c.course_id
    WHERE cp.metric = $metric AND c.status = 'completed' AND cp.improvement IS NOT NULL
    """

    def work(con: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame, pd.DataFrame]:
        return frame(con, sql_base), frame(con, sql_outcomes, {"metric": column})

    base, outcomes = resolve(db).read(work)
    today = today or dt.date.today()
    # every therapist's interval in one pass (no per-therapist Series: ~200 of them)
    improvement = mean_ci_by(outcomes["improvement"], outcomes["therapist_id"])
    table = base.join(improvement, on="therapist_id")
    table["qualification_status"] = [
        qualification_status(qualification, until, today)
        for qualification, until in zip(
            table["qualification"], table["qualified_until"], strict=True
        )
    ]
    table["n"] = table["n"].fillna(0).astype(int)
    table["small_n"] = table["n"] < SMALL_N
    table["metric"] = column
    table = table.rename(columns={"mean": "mean_improvement"})
    first = list(base.columns) + ["qualification_status", "n", "mean_improvement"]
    return table[first + ["ci_low", "ci_high", "small_n", "metric"]]
