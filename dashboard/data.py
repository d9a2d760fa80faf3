"""Everything the dashboard reads from the warehouse. The ONLY dashboard module with SQL.

Why short read-only connections: a load publishes a new warehouse file with `os.replace`.
DuckDB keeps an open database alive per process, so a long-lived connection would keep
reading the old (replaced) file forever. Every public function therefore opens the file
read-only, runs a few small queries and closes it. Opening can fail for a moment (a writer
holding the lock, the file being swapped): we retry a few times with a jittered pause.

Functions return pandas DataFrames or plain dicts; nothing is read at import time.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import random
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pandas as pd

from pipelines.settings import COHORTS, METRICS, analyst_copy_path, get_settings

T = TypeVar("T")

ANALYST_VIEWS: tuple[str, ...] = (
    "clients", "therapists", "sessions", "scores", "courses", "course_progress",
    "cohort_outcomes", "alerts", "quarantine", "load_log",
)  # fmt: skip
SAFETY_ALERTS: tuple[str, ...] = (
    "contraindication", "discomfort", "spine_pressure", "unqualified_therapist",
)  # fmt: skip
SMALL_N = 10  # groups below this are labelled "small n" (never hidden)
_ATTEMPTS = 6  # with the pauses below: gives a busy file about 1–3 s

# The db path the running app reads; set by dashboard.app.create_app (None = settings.db).
CONFIG: dict[str, Path | None] = {"db_path": None}


class WarehouseUnavailable(RuntimeError):
    """The warehouse file is missing or could not be opened after a few retries."""


def configure(db_path: Path | None) -> None:
    CONFIG["db_path"] = Path(db_path) if db_path is not None else None


def current_db(db: Path | None = None) -> Path:
    if db is not None:
        return Path(db)
    return CONFIG["db_path"] or get_settings().db_path


@contextmanager
def connection(db: Path | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived read-only connection, retried on lock/IO errors."""
    path = current_db(db)
    if not path.exists():
        raise WarehouseUnavailable(f"No warehouse at {path}: load data with `outcomes ingest`.")
    last: Exception | None = None
    for attempt in range(_ATTEMPTS):
        try:
            con = duckdb.connect(str(path), read_only=True)
            break
        except (duckdb.IOException, duckdb.ConnectionException) as exc:
            last = exc
            time.sleep(random.uniform(0.05, 0.15) * (attempt + 1))  # jitter: no lock-step retries
    else:
        raise WarehouseUnavailable(f"Could not open {path}: {last}") from last
    try:
        yield con
    finally:
        con.close()


def read(work: Callable[[duckdb.DuckDBPyConnection], T], db: Path | None = None) -> T:
    """Run `work` on one short connection; retried as a whole when the file was busy."""
    for attempt in range(_ATTEMPTS):
        try:
            with connection(db) as con:
                return work(con)
        except duckdb.IOException:
            if attempt == _ATTEMPTS - 1:
                raise
            time.sleep(random.uniform(0.02, 0.08) * (attempt + 1))
    raise AssertionError("unreachable")


def _df(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> pd.DataFrame:
    return con.execute(sql, params or {}).df()


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> dict[str, Any] | None:
    cur = con.execute(sql, params or {})
    row = cur.fetchone()
    if row is None:
        return None
    return dict(zip([d[0] for d in cur.description], row, strict=True))


def _check_metric(metric: str) -> str:
    # metric becomes a column name in some queries: only the three known names are allowed
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; expected one of {', '.join(METRICS)}")
    return metric


# --- small statistics helpers ---------------------------------------------------------------


@functools.cache
def t975(df: int) -> float:
    from scipy.stats import t  # lazy: scipy is only needed once a page asks for an interval

    return float(t.ppf(0.975, df))


def mean_ci_by(values: pd.Series, keys: pd.Series) -> pd.DataFrame:
    """For each key at once: n, mean and its 95 % t interval (NaN when n < 2), like
    cohort_outcomes; indexed by key, keys in order of first appearance."""
    v = pd.to_numeric(values, errors="coerce").astype(float)
    stats = v.groupby(keys.to_numpy(), sort=False).agg(["count", "mean", "std"])
    stats = stats[stats["count"] > 0]
    n = stats["count"].astype(int)
    t = [t975(k - 1) if k >= 2 else math.nan for k in n]  # one scipy call per group
    half = pd.Series(t, index=stats.index) * stats["std"] / n.pow(0.5)
    return pd.DataFrame(
        {
            "n": n,
            "mean": stats["mean"],
            "ci_low": stats["mean"] - half,
            "ci_high": stats["mean"] + half,
        }  # fmt: skip
    )


def mean_ci(values: pd.Series) -> dict[str, Any]:
    """n, mean and its 95 % t interval (None when n < 2), like cohort_outcomes."""
    stats = mean_ci_by(values, pd.Series(0, index=values.index))
    if stats.empty:
        return {"n": 0, "mean": None, "ci_low": None, "ci_high": None}
    row = stats.iloc[0]
    out: dict[str, Any] = {"n": int(row["n"])}
    for name in ("mean", "ci_low", "ci_high"):
        out[name] = None if math.isnan(row[name]) else float(row[name])
    return out


def wilson_ci(successes: int, n: int) -> tuple[float | None, float | None, float | None]:
    """Rate with its 95 % Wilson interval (good for small n and rates near 0 or 1)."""
    if n == 0:
        return None, None, None
    z = 1.959963984540054
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return p, max(0.0, centre - half), min(1.0, centre + half)


def _ratio(a: int, b: int) -> float | None:
    return a / b if b else None


# --- overview -------------------------------------------------------------------------------

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
    counts = _one(con, _COURSE_COUNTS) or {}
    finished = counts["completed"] + counts["dropped_out"]
    outcomes = _df(
        con,
        """
        SELECT improvement, responder FROM course_progress
        WHERE metric = $metric AND status = 'completed' AND improvement IS NOT NULL
        """,
        {"metric": _check_metric(metric)},
    )
    improvement = mean_ci(outcomes["improvement"])
    rate, low, high = wilson_ci(int(outcomes["responder"].sum()), len(outcomes))
    return {
        **counts,
        "completion_rate": _ratio(counts["completed"], finished),
        "dropout_rate": _ratio(counts["dropped_out"], finished),
        "metric": metric,
        "improvement": improvement,
        "responder": {"n": len(outcomes), "rate": rate, "ci_low": low, "ci_high": high},
        "open_safety_alerts": _one(con, _OPEN_SAFETY_ALERTS, {"types": list(SAFETY_ALERTS)})["n"],
        "open_quarantine": _one(con, "SELECT count(*) AS n FROM quarantine")["n"],
        "weekly": _df(con, _WEEKLY),
        "last_run": _one(con, _LAST_RUN),
        "last_file_loaded_at": _one(con, "SELECT max(loaded_at) AS t FROM load_log")["t"],
    }


def overview(db: Path | None = None, metric: str = "pain") -> dict[str, Any]:
    """KPIs of the overview page (one connection)."""
    return read(lambda con: _overview(con, metric), db)


# --- cohorts --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CourseFilter:
    """Which courses a cohort figure uses: first session within [start, end], and (when
    given) at least one session by the therapist."""

    start: dt.date | None = None
    end: dt.date | None = None
    therapist_id: str | None = None

    def params(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "therapist": self.therapist_id}


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


def _trajectory(con, metric: str, flt: CourseFilter) -> pd.DataFrame:
    m = _check_metric(metric)
    sql = f"""
    WITH {_PICKED_COURSES},
    pre AS (
        -- mart_course_sessions: the completed sessions of courses with their pre scores, the
        -- same rows as scores (timing 'pre', session_status 'completed') without ranking
        -- score versions at every request
        SELECT p.cohort, cs.session_number, cs.pre_{m} AS value
        FROM mart_course_sessions AS cs
        JOIN picked AS p ON p.course_id = cs.course_id
        WHERE cs.pre_{m} IS NOT NULL AND cs.session_number BETWEEN 1 AND 15
    )
    SELECT cohort, session_number, count(*) AS n, avg(value) AS mean,
           stddev_samp(value) AS sd
    FROM pre
    GROUP BY cohort, session_number
    ORDER BY cohort, session_number
    """
    params = flt.params()
    if flt == CourseFilter():  # no filter: the same aggregates, computed at load time
        sql = """
        SELECT cohort, session_number, n, mean, sd
        FROM mart_cohort_trajectories
        WHERE metric = $metric
        ORDER BY cohort, session_number
        """
        params = {"metric": m}
    df = _df(con, sql, params)
    half = [
        t975(int(n) - 1) * sd / math.sqrt(n) if n >= 2 and pd.notna(sd) else math.nan
        for n, sd in zip(df["n"], df["sd"], strict=True)
    ]
    df["ci_low"] = df["mean"] - pd.Series(half, index=df.index, dtype=float)
    df["ci_high"] = df["mean"] + pd.Series(half, index=df.index, dtype=float)
    df["metric"] = m
    return df


def _distribution(con, metric: str, flt: CourseFilter) -> pd.DataFrame:
    if flt == CourseFilter():  # every course: course_progress carries cohort and status itself
        sql = """
        SELECT course_id, cohort, improvement, responder
        FROM course_progress
        WHERE metric = $metric AND status = 'completed' AND improvement IS NOT NULL
        ORDER BY cohort, course_id
        """
        return _df(con, sql, {"metric": _check_metric(metric)})
    sql = f"""
    WITH {_PICKED_COURSES}
    SELECT p.course_id, p.cohort, cp.improvement, cp.responder
    FROM picked AS p
    JOIN course_progress AS cp ON cp.course_id = p.course_id
    WHERE cp.metric = $metric AND p.status = 'completed' AND cp.improvement IS NOT NULL
    ORDER BY p.cohort, p.course_id
    """
    return _df(con, sql, {**flt.params(), "metric": _check_metric(metric)})


def _rates(con, metric: str, flt: CourseFilter, dist: pd.DataFrame | None = None) -> pd.DataFrame:
    sql = f"""
    WITH {_PICKED_COURSES}
    SELECT cohort, count(*) AS courses,
           count(*) FILTER (WHERE status = 'completed') AS completed,
           count(*) FILTER (WHERE status = 'dropped_out') AS dropped_out,
           count(*) FILTER (WHERE status = 'in_progress') AS in_progress
    FROM picked
    GROUP BY cohort
    """
    counts = _df(con, sql, flt.params()).set_index("cohort")
    if dist is None:
        dist = _distribution(con, metric, flt)
    rows = []
    for cohort in COHORTS:
        if cohort not in counts.index:
            continue
        c = counts.loc[cohort]
        sub = dist[dist["cohort"] == cohort]
        stats = mean_ci(sub["improvement"])
        rate, r_low, r_high = wilson_ci(int(sub["responder"].sum()), len(sub))
        finished = int(c["completed"] + c["dropped_out"])
        rows.append(
            {
                "cohort": cohort,
                "courses": int(c["courses"]),
                "completed": int(c["completed"]),
                "dropped_out": int(c["dropped_out"]),
                "in_progress": int(c["in_progress"]),
                "completion_rate": _ratio(int(c["completed"]), finished),
                "dropout_rate": _ratio(int(c["dropped_out"]), finished),
                "n": stats["n"],
                "mean_improvement": stats["mean"],
                "ci_low": stats["ci_low"],
                "ci_high": stats["ci_high"],
                "responder_rate": rate,
                "responder_ci_low": r_low,
                "responder_ci_high": r_high,
                "small_n": stats["n"] < SMALL_N,
            }
        )
    return pd.DataFrame(rows)


def cohort_trajectories(
    metric: str, flt: CourseFilter | None = None, db: Path | None = None
) -> pd.DataFrame:
    """Mean pre score per cohort and session_number 1–15 with its 95 % interval."""
    return read(lambda con: _trajectory(con, metric, flt or CourseFilter()), db)


def improvement_distribution(
    metric: str, flt: CourseFilter | None = None, db: Path | None = None
) -> pd.DataFrame:
    """Improvement of every completed course (one row per course)."""
    return read(lambda con: _distribution(con, metric, flt or CourseFilter()), db)


def cohort_rates(
    metric: str, flt: CourseFilter | None = None, db: Path | None = None
) -> pd.DataFrame:
    """Per cohort: course counts, completion/dropout, mean improvement and responder rate."""
    return read(lambda con: _rates(con, metric, flt or CourseFilter()), db)


def cohort_page(
    metric: str, flt: CourseFilter | None = None, db: Path | None = None
) -> dict[str, pd.DataFrame]:
    """The three cohort datasets on one connection (what the cohorts callback needs)."""
    flt = flt or CourseFilter()

    def work(con):
        distribution = _distribution(con, metric, flt)
        return {
            "trajectory": _trajectory(con, metric, flt),
            "distribution": distribution,
            "rates": _rates(con, metric, flt, distribution),  # the same rows, read once
        }

    return read(work, db)


def filter_options(db: Path | None = None) -> dict[str, Any]:
    """Therapists and the date span of courses, for the cohort filters."""

    def work(con):
        span = _one(
            con, "SELECT min(first_session_date) AS lo, max(first_session_date) AS hi FROM courses"
        )
        th = _df(con, "SELECT therapist_id, name FROM therapists ORDER BY therapist_id")
        return {"date_min": span["lo"], "date_max": span["hi"], "therapists": th}

    return read(work, db)


# --- client ---------------------------------------------------------------------------------


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
    return read(lambda con: _df(con, sql, {"text": text or "", "limit": int(limit)}), db)


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


_CURRENT_COURSE = """(
    SELECT course_id FROM courses WHERE client_id = $id
    ORDER BY first_session_at DESC, course_id DESC LIMIT 1
)"""
"""The client's current course (latest first session), as the first row of its courses."""

_CLIENT_QUERIES: dict[str, tuple[str, str]] = {
    # name -> (how the rows come back, SQL with the one parameter $id)
    "client": (
        "one",
        """
        SELECT client_id, name, birth_date, sex, height_cm, weight_kg, bmi, athlete, cohort,
               contraindications, intake_date
        FROM clients WHERE client_id = $id
        """,
    ),
    "courses": (
        "df",
        """
        SELECT course_id, status, sessions_completed, first_session_date, last_session_date,
               contraindicated, elderly, age_at_start, last_therapist_id
        FROM courses WHERE client_id = $id
        ORDER BY first_session_at DESC, course_id DESC
        """,
    ),
    # mart_course_sessions holds every session of a course with its pre/post scores, stored
    # in course order: the course's rows are one contiguous run (a zone-map lookup)
    "sessions": (
        "df",
        f"""
        SELECT session_number, session_id, session_date, therapist_id, discomfort_reported,
               spine_pressure, notes, {", ".join(f"pre_{m}, post_{m}" for m in METRICS)}
        FROM mart_course_sessions
        WHERE course_id = {_CURRENT_COURSE}
        ORDER BY session_number
        """,
    ),
    "progress": (
        "df",
        f"""
        SELECT metric, baseline, latest, improvement, pct_improvement, improvement_per_session,
               immediate_effect, responder, worsened, rci, reliable_improvement, n_values
        FROM course_progress WHERE course_id = {_CURRENT_COURSE}
        ORDER BY array_position(['pain', 'muscle_tone', 'mobility'], metric)
        """,
    ),
    "alerts": (
        "df",
        """
        SELECT alert_type, occurred_at, course_id, session_id, therapist_id, detail
        FROM alerts WHERE client_id = $id
        ORDER BY occurred_at DESC NULLS LAST, alert_type
        LIMIT 20
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


@functools.cache
def _query_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=3, thread_name_prefix="warehouse-read")


def _read_parallel(
    con: duckdb.DuckDBPyConnection, queries: dict[str, tuple[str, str]], params: dict[str, Any]
) -> dict[str, Any]:
    """Run independent queries at once, each on its own cursor of `con` (DuckDB runs them
    without the GIL): a page's handful of small lookups costs about the slowest one."""
    readers = {"one": _one, "df": _df}
    cursors = {name: con.cursor() for name in queries}

    def run(name: str) -> Any:
        how, sql = queries[name]
        try:
            return readers[how](cursors[name], sql, params)
        finally:
            cursors[name].close()

    futures = {name: _query_pool().submit(run, name) for name in queries}
    return {name: future.result() for name, future in futures.items()}


def _client_detail(con, client_id: str) -> ClientDetail | None:
    got = _read_parallel(con, _CLIENT_QUERIES, {"id": client_id})
    client = got["client"]
    if client is None:
        return None
    courses, sessions, progress = got["courses"], got["sessions"], got["progress"]
    alerts, last_session = got["alerts"], got["last_session"]
    current = courses.iloc[0].to_dict() if len(courses) else None
    mcid = dict(get_settings().mcid)
    if len(progress):
        labels = pd.DataFrame(
            [_labels(r, mcid[r["metric"]]) for _, r in progress.iterrows()], index=progress.index
        )
        progress = pd.concat([progress, labels], axis=1)
    alerts["at_last_session"] = alerts["session_id"].eq(
        last_session["session_id"] if last_session else None
    )
    client["contraindications"] = list(client.get("contraindications") or [])
    return ClientDetail(client, courses, current, sessions, progress, alerts, last_session, mcid)


def client_detail(client_id: str, db: Path | None = None) -> ClientDetail | None:
    """Everything the client page shows, read on one connection; None for an unknown id."""
    return read(lambda con: _client_detail(con, client_id), db)


# --- therapists -----------------------------------------------------------------------------


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
    m = _check_metric(metric)
    safety = ", ".join(f"'{a}'" for a in SAFETY_ALERTS)
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

    def work(con):
        return _df(con, sql_base), _df(con, sql_outcomes, {"metric": m})

    base, outcomes = read(work, db)
    today = today or dt.date.today()
    # every therapist's interval in one pass (no per-therapist Series: ~200 of them)
    stats = mean_ci_by(outcomes["improvement"], outcomes["therapist_id"])
    table = base.join(stats, on="therapist_id")
    table["qualification_status"] = [
        qualification_status(q, until, today)
        for q, until in zip(table["qualification"], table["qualified_until"], strict=True)
    ]
    table["n"] = table["n"].fillna(0).astype(int)
    table["small_n"] = table["n"] < SMALL_N
    table["metric"] = m
    table = table.rename(columns={"mean": "mean_improvement"})
    first = list(base.columns) + ["qualification_status", "n", "mean_improvement"]
    return table[first + ["ci_low", "ci_high", "small_n", "metric"]]


# --- quality --------------------------------------------------------------------------------


def load_log(db: Path | None = None) -> pd.DataFrame:
    return read(
        lambda con: _df(
            con,
            """
            SELECT loaded_at, source_file, entity, status, rows_read, rows_loaded,
                   rows_quarantined, rows_duplicate, message
            FROM load_log ORDER BY loaded_at DESC, source_file
            """,
        ),
        db,
    )


def runs(db: Path | None = None, limit: int = 50) -> pd.DataFrame:
    return read(
        lambda con: _df(
            con,
            """
            SELECT run_id, started_at, finished_at, status, files_loaded, files_rejected,
                   files_skipped, rows_loaded, rows_quarantined, rows_retried, alerts, message
            FROM meta_runs ORDER BY started_at DESC LIMIT $limit
            """,
            {"limit": limit},
        ),
        db,
    )


def quarantine(
    entity: str | None = None, reason: str | None = None, db: Path | None = None
) -> pd.DataFrame:
    """Open quarantine rows, optionally of one entity and/or with a reason containing text."""
    sql = """
    SELECT entity, source_file, row_number, array_to_string(reasons, '; ') AS reasons,
           reference_only, CAST(record AS VARCHAR) AS record, first_seen_at
    FROM quarantine
    WHERE ($entity::VARCHAR IS NULL OR entity = $entity::VARCHAR)
      AND ($reason::VARCHAR IS NULL OR len(list_filter(
            reasons, r -> contains(lower(r), lower($reason::VARCHAR)))) > 0)
    ORDER BY first_seen_at DESC, source_file, row_number
    """
    params = {"entity": entity or None, "reason": (reason or "").strip() or None}
    return read(lambda con: _df(con, sql, params), db)


def gx_results(db: Path | None = None) -> pd.DataFrame:
    """Great Expectations validations per run, with the failed expectations spelled out."""
    sql = """
    SELECT g.run_id, r.started_at AS run_started_at, g.validated_at, g.suite, g.data_asset,
           g.source_file, g.success, g.expectations_evaluated, g.expectations_failed,
           g.unexpected_rows, CAST(g.details AS VARCHAR) AS details
    FROM meta_gx_results AS g
    LEFT JOIN meta_runs AS r USING (run_id)
    ORDER BY r.started_at DESC NULLS LAST, g.validated_at, g.suite
    """
    df = read(lambda con: _df(con, sql), db)
    df["failed"] = df.pop("details").map(_failed_expectations)
    return df


def _failed_expectations(details: str | None) -> str:
    try:
        items = json.loads(details) if details else []
    except ValueError:
        return ""
    failed = [i for i in items if isinstance(i, dict) and not i.get("success", True)]
    return "; ".join(
        f"{i.get('expectation')}({i.get('column') or ''}): {i.get('unexpected_count')} rows"
        for i in failed
    )


# --- SQL console schema browser -------------------------------------------------------------


def schema(db: Path | None = None) -> pd.DataFrame:
    """Columns of the analyst views (§6), with their documented meaning."""
    sql = """
    SELECT table_name AS view, column_name AS "column", data_type AS type, comment
    FROM duckdb_columns()
    WHERE schema_name = 'main' AND table_name IN (SELECT unnest($views::VARCHAR[]))
    ORDER BY array_position($views::VARCHAR[], table_name), column_index
    """
    return read(lambda con: _df(con, sql, {"views": list(ANALYST_VIEWS)}), db)


# --- security (docs/security.md) ------------------------------------------------------------


def therapist_pseudonyms(db: Path | None = None) -> dict[str, str]:
    """therapist_id -> its pseudonym, as the analysts' copy has it (the warehouse's lookup,
    pipelines/warehouse/pseudonyms.py): what the analyst role sees instead of the id."""
    sql = "SELECT value, pseudonym FROM pseudonym.therapist"
    try:
        return dict(read(lambda con: con.execute(sql).fetchall(), db))
    except duckdb.CatalogException:  # a warehouse loaded before therapists had pseudonyms
        return {}


def own_client(client_id: str, therapist_id: str, db: Path | None = None) -> bool:
    """A therapist's "own" client: one with at least one session (any status) with them."""
    sql = "SELECT count(*) AS n FROM sessions WHERE client_id = $c AND therapist_id = $t"
    row = read(lambda con: _one(con, sql, {"c": client_id, "t": therapist_id}), db)
    return bool(row and row["n"])


def search_own_clients(
    text: str, therapist_id: str, limit: int = 20, db: Path | None = None
) -> pd.DataFrame:
    """Like search_clients, among the therapist's own clients only."""
    sql = """
    WITH q AS (SELECT lower(trim($text)) AS q)
    SELECT c.client_id, c.name, c.cohort
    FROM clients AS c, q
    WHERE (contains(lower(c.client_id), q.q) OR contains(lower(coalesce(c.name, '')), q.q))
      AND EXISTS (SELECT 1 FROM sessions AS s
                  WHERE s.client_id = c.client_id AND s.therapist_id = $therapist)
    ORDER BY lower(c.client_id) = q.q DESC, starts_with(lower(c.client_id), q.q) DESC,
             c.client_id
    LIMIT $limit
    """
    params = {"text": text or "", "therapist": therapist_id, "limit": int(limit)}
    return read(lambda con: _df(con, sql, params), db)


def analyst_copy_columns(db: Path | None = None) -> pd.DataFrame:
    """Columns of the analysts' copy (pseudonymised tables), with their meaning (schema
    browser); read from the copy itself, beside the warehouse."""
    sql = """
    SELECT table_name AS view, column_name AS "column", data_type AS type, comment
    FROM duckdb_columns()
    WHERE schema_name = 'main' AND table_name IN (SELECT unnest($views::VARCHAR[]))
    ORDER BY array_position($views::VARCHAR[], table_name), column_index
    """
    copy = analyst_copy_path(current_db(db))
    return read(lambda con: _df(con, sql, {"views": list(ANALYST_VIEWS)}), copy)
