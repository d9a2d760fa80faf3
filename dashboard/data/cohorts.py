"""The cohorts page: per cohort, the pre-score trajectory, every completed course's
improvement, and the course counts and rates, for all courses or a filtered set."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from dashboard.data.stats import (
    SMALL_N,
    interval_of,
    mean_ci_by,
    ratio,
    t_half_width,
    wilson_ci,
)
from dashboard.data.warehouse import check_metric, frame, one, resolve
from pipelines.settings import COHORTS


@dataclass(frozen=True)
class CourseFilter:
    """Which courses a cohort figure uses: first session within [start, end], and (when
    given) at least one session by the therapist."""

    start: dt.date | None = None
    end: dt.date | None = None
    therapist_id: str | None = None

    def params(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "therapist": self.therapist_id}


EVERY_COURSE = CourseFilter()

_PICKED_COURSES = """
picked AS (
    SELECT c.course_id, c.cohort, c.status
    FROM courses AS c
    WHERE ($start::DATE IS NULL OR c.first_session_date >= $start::DATE)
      AND ($end::DATE IS NULL OR c.first_session_date <= $end::DATE)
      AND ($therapist::VARCHAR IS NULL OR EXISTS (
            SELECT 1 FROM sessions AS s
            WHERE s.course_id = c.course_id AND s.therapist_id = $therapist::VARCHAR))
)"""


def _trajectory(
    con: duckdb.DuckDBPyConnection, metric: str, course_filter: CourseFilter
) -> pd.DataFrame:
    column = check_metric(metric)
    sql = f"""
    WITH {_PICKED_COURSES},
    pre AS (
        -- mart_course_sessions: the completed sessions of courses with their pre scores, the
        -- same rows as scores (timing 'pre', session_status 'completed') without ranking
        -- score versions at every request
        SELECT p.cohort, cs.session_number, cs.pre_{column} AS value
        FROM mart_course_sessions AS cs
        JOIN picked AS p ON p.course_id = cs.course_id
        WHERE cs.pre_{column} IS NOT NULL AND cs.session_number BETWEEN 1 AND 15
    )
    SELECT cohort, session_number, count(*) AS n, avg(value) AS mean,
           stddev_samp(value) AS sd
    FROM pre
    GROUP BY cohort, session_number
    ORDER BY cohort, session_number
    """
    params = course_filter.params()
    if course_filter == EVERY_COURSE:  # the same aggregates, computed at load time
        sql = """
        SELECT cohort, session_number, n, mean, sd
        FROM mart_cohort_trajectories
        WHERE metric = $metric
        ORDER BY cohort, session_number
        """
        params = {"metric": column}
    trajectory = frame(con, sql, params)
    half = t_half_width(trajectory["n"], trajectory["sd"])
    trajectory["ci_low"] = trajectory["mean"] - half
    trajectory["ci_high"] = trajectory["mean"] + half
    trajectory["metric"] = column
    return trajectory


def _distribution(
    con: duckdb.DuckDBPyConnection, metric: str, course_filter: CourseFilter
) -> pd.DataFrame:
    if course_filter == EVERY_COURSE:  # course_progress carries cohort and status itself
        sql = """
        SELECT course_id, cohort, improvement, responder
        FROM course_progress
        WHERE metric = $metric AND status = 'completed' AND improvement IS NOT NULL
        ORDER BY cohort, course_id
        """
        return frame(con, sql, {"metric": check_metric(metric)})
    sql = f"""
    WITH {_PICKED_COURSES}
    SELECT p.course_id, p.cohort, cp.improvement, cp.responder
    FROM picked AS p
    JOIN course_progress AS cp ON cp.course_id = p.course_id
    WHERE cp.metric = $metric AND p.status = 'completed' AND cp.improvement IS NOT NULL
    ORDER BY p.cohort, p.course_id
    """
    return frame(con, sql, {**course_filter.params(), "metric": check_metric(metric)})


_COHORT_OUTCOMES = """
SELECT cohort, courses_completed AS n, mean_improvement AS mean, ci95_low AS ci_low,
       ci95_high AS ci_high
FROM cohort_outcomes
WHERE metric = $metric
"""


def _improvement_by_cohort(
    con: duckdb.DuckDBPyConnection,
    metric: str,
    course_filter: CourseFilter,
    distribution: pd.DataFrame,
) -> pd.DataFrame:
    """Indexed by cohort: n, mean improvement and its 95 % t interval. For every course,
    cohort_outcomes holds them (computed at load time); for a filtered set they are
    computed from `distribution`, that set's completed courses, with the same formula."""
    if course_filter == EVERY_COURSE:
        return frame(con, _COHORT_OUTCOMES, {"metric": check_metric(metric)}).set_index("cohort")
    return mean_ci_by(distribution["improvement"], distribution["cohort"])


def _rates(
    con: duckdb.DuckDBPyConnection,
    metric: str,
    course_filter: CourseFilter,
    distribution: pd.DataFrame | None = None,
) -> pd.DataFrame:
    sql = f"""
    WITH {_PICKED_COURSES}
    SELECT cohort, count(*) AS courses,
           count(*) FILTER (WHERE status = 'completed') AS completed,
           count(*) FILTER (WHERE status = 'dropped_out') AS dropped_out,
           count(*) FILTER (WHERE status = 'in_progress') AS in_progress
    FROM picked
    GROUP BY cohort
    """
    counts = frame(con, sql, course_filter.params()).set_index("cohort")
    if distribution is None:
        distribution = _distribution(con, metric, course_filter)
    improvement_by_cohort = _improvement_by_cohort(con, metric, course_filter, distribution)
    rows = []
    for cohort in COHORTS:
        if cohort not in counts.index:
            continue
        cohort_counts = counts.loc[cohort]
        courses = distribution[distribution["cohort"] == cohort]
        improvement = interval_of(improvement_by_cohort, cohort)
        rate, rate_low, rate_high = wilson_ci(int(courses["responder"].sum()), len(courses))
        completed, dropped_out = int(cohort_counts["completed"]), int(cohort_counts["dropped_out"])
        finished = completed + dropped_out
        rows.append(
            {
                "cohort": cohort,
                "courses": int(cohort_counts["courses"]),
                "completed": completed,
                "dropped_out": dropped_out,
                "in_progress": int(cohort_counts["in_progress"]),
                "completion_rate": ratio(completed, finished),
                "dropout_rate": ratio(dropped_out, finished),
                "n": improvement["n"],
                "mean_improvement": improvement["mean"],
                "ci_low": improvement["ci_low"],
                "ci_high": improvement["ci_high"],
                "responder_rate": rate,
                "responder_ci_low": rate_low,
                "responder_ci_high": rate_high,
                "small_n": improvement["n"] < SMALL_N,
            }
        )
    return pd.DataFrame(rows)


def cohort_trajectories(
    metric: str, course_filter: CourseFilter | None = None, db: Path | None = None
) -> pd.DataFrame:
    """Mean pre score per cohort and session_number 1–15 with its 95 % interval."""
    picked = course_filter or EVERY_COURSE
    return resolve(db).read(lambda con: _trajectory(con, metric, picked))


def improvement_distribution(
    metric: str, course_filter: CourseFilter | None = None, db: Path | None = None
) -> pd.DataFrame:
    """Improvement of every completed course (one row per course)."""
    picked = course_filter or EVERY_COURSE
    return resolve(db).read(lambda con: _distribution(con, metric, picked))


def cohort_rates(
    metric: str, course_filter: CourseFilter | None = None, db: Path | None = None
) -> pd.DataFrame:
    """Per cohort: course counts, completion/dropout, mean improvement and responder rate."""
    picked = course_filter or EVERY_COURSE
    return resolve(db).read(lambda con: _rates(con, metric, picked))


def cohort_page(
    metric: str, course_filter: CourseFilter | None = None, db: Path | None = None
) -> dict[str, pd.DataFrame]:
    """The three cohort datasets on one connection (what the cohorts callback needs)."""
    picked = course_filter or EVERY_COURSE

    def work(con: duckdb.DuckDBPyConnection) -> dict[str, pd.DataFrame]:
        distribution = _distribution(con, metric, picked)
        return {
            "trajectory": _trajectory(con, metric, picked),
            "distribution": distribution,
            "rates": _rates(con, metric, picked, distribution),  # the same rows, read once
        }

    return resolve(db).read(work)


def filter_options(db: Path | None = None) -> dict[str, Any]:
    """Therapists and the date span of courses, for the cohort filters."""

    def work(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
        span = one(
            con, "SELECT min(first_session_date) AS lo, max(first_session_date) AS hi FROM courses"
        )
        therapists = frame(con, "SELECT therapist_id, name FROM therapists ORDER BY therapist_id")
        return {"date_min": span["lo"], "date_max": span["hi"], "therapists": therapists}

    return resolve(db).read(work)
