"""Rebuild the marts from the staging relations (spec §4, §5), set-based in DuckDB SQL.

Each mart is one SQL file under ``models/`` (a CTE chain ending in ``final``), run as
``CREATE OR REPLACE TABLE <mart> AS <file>`` in dependency order. Settings reach the SQL
only as prepared-statement parameters (``$gap_days``…), after validation here.

The caller owns the transaction: :func:`rebuild_derived` never begins or commits one.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from pipelines.settings import METRICS, Settings
from pipelines.warehouse import fair

MODELS_DIR = Path(__file__).resolve().parent / "models"

MARTS: tuple[str, ...] = (
    "mart_clients",
    "mart_sessions",
    "mart_course_sessions",
    "mart_courses",
    "int_course_lead_therapist",
    "int_course_progress",
    "int_course_changes",
    "mart_baseline_spread",
    "mart_course_progress",
    "mart_cohort_outcomes",
    "int_case_mix_courses",
    "mart_cohort_outcomes_adjusted",
    "mart_therapist_outcomes",
    "mart_expected_changes",
    "mart_course_expectations",
    "mart_off_track_alerts",
    "mart_alerts",
    "mart_therapist_activity",
    "mart_therapist_alerts",
    "mart_cohort_trajectories",
)
"""The marts in build order (each reads only stg_* and the marts before it). The last three
(and mart_course_sessions) are read models of the dashboard; int_course_progress is
mart_course_progress without rci, kept so that a load recomputes only its courses."""

VIEW_MARTS: frozenset[str] = frozenset(
    {"mart_course_progress", "int_case_mix_courses", "int_course_changes"}
)
"""Marts created as views, not tables: computed when read (rci, from int_course_progress and
the three-row mart_baseline_spread; the case-mix fits' input, read once a load; the changes
from baseline of the expected course, 2.4 M rows at 1 M sessions that take 0.5 s to compute
and 4 s to store, read once a load), so a load never rewrites their rows."""

FITTED_MARTS: frozenset[str] = frozenset(
    {"mart_cohort_outcomes_adjusted", "mart_therapist_outcomes"}
)
"""Marts shaped from the case-mix fits (pipelines/warehouse/fair.py), fitted once before the
first of them."""

T_QUANTILE_TABLE = "t_quantile_975"
"""Temporary table (df INTEGER, t DOUBLE) read by mart_cohort_outcomes.sql."""

_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")
_COMMENT = re.compile(r"--[^\n]*")


@cache
def model_sql(name: str) -> str:
    """The SELECT statement of a mart or view (the content of ``models/<name>.sql``)."""
    return (MODELS_DIR / f"{name}.sql").read_text(encoding="utf-8")


def _number(value: float) -> str:
    """5.0 -> '5', 7.5 -> '7.5' (for alert texts)."""
    return f"{value:g}"


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(f"invalid setting: {message}")


def _int(settings: Settings, name: str, minimum: int) -> int:
    value = getattr(settings, name)
    _require(
        isinstance(value, int) and not isinstance(value, bool) and value >= minimum,
        f"{name} must be a whole number >= {minimum}, got {value!r}",
    )
    return value


def _float(value: Any, name: str, low: float = -math.inf, high: float = math.inf) -> float:
    _require(
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and low <= value <= high,
        f"{name} must be a number in [{low}, {high}], got {value!r}",
    )
    return float(value)


def sql_parameters(con: duckdb.DuckDBPyConnection, settings: Settings) -> dict[str, Any]:
    """Every parameter the mart SQL may use, validated (raises ValueError), except `as_of`,
    which depends on the sessions (:func:`course_as_of`)."""
    tz = settings.clinic_timezone
    _require(isinstance(tz, str) and tz != "", f"clinic_timezone must be a name, got {tz!r}")
    known = con.execute("SELECT count(*) FROM pg_timezone_names() WHERE name = ?", [tz])
    _require(known.fetchone()[0] == 1, f"unknown clinic_timezone {tz!r}")
    as_of = settings.as_of
    _require(as_of is None or hasattr(as_of, "isoformat"), f"as_of must be a date, got {as_of!r}")
    params: dict[str, Any] = {
        "clinic_timezone": tz,
        "gap_days": _int(settings, "gap_days", 0),
        "course_min_sessions": _int(settings, "course_min_sessions", 1),
        "course_max_sessions": _int(settings, "course_max_sessions", 1),
        "dropout_days": _int(settings, "dropout_days", 0),
        "elderly_age": _int(settings, "elderly_age", 0),
        "rci_threshold": _float(settings.rci_threshold, "rci_threshold"),
        "expected_min_references": _int(settings, "expected_min_references", 1),
        "expected_baseline_window": _float(
            settings.expected_baseline_window, "expected_baseline_window", 0
        ),
        "off_track_from_session": _int(settings, "off_track_from_session", 1),
    }
    for name in ("warmup_min_low", "warmup_min_high", "duration_min_low", "duration_min_high"):
        params[name] = _float(getattr(settings, name), name, 0)
    for what in ("warmup_min", "duration_min"):
        low, high = params[f"{what}_low"], params[f"{what}_high"]
        _require(low <= high, f"{what}_low must not exceed {what}_high")
        params[f"{what.removesuffix('_min')}_range"] = f"{_number(low)}–{_number(high)}"
    for metric in METRICS:
        params[f"mcid_{metric}"] = _float(settings.mcid.get(metric), f"mcid[{metric}]", 0)
        params[f"reliability_{metric}"] = _float(
            settings.reliability.get(metric), f"reliability[{metric}]", 0, 1
        )
    return params


def _create_mart(
    con: duckdb.DuckDBPyConnection, mart: str, params: dict[str, Any], temp: bool = False
) -> None:
    """CREATE OR REPLACE [TEMP] TABLE (or VIEW, see VIEW_MARTS) <mart> AS its SQL file; a
    temp one shadows the stored mart for the statements that follow
    (pipelines/warehouse/incremental.py)."""
    sql = model_sql(mart)
    names = set(_PARAM.findall(_COMMENT.sub("", sql)))  # parameters named in comments don't count
    used = {name: params[name] for name in names}
    kind = "VIEW" if mart in VIEW_MARTS else "TABLE"
    if kind == "VIEW" and used:
        raise ValueError(f"{mart} is a view: its SQL cannot take parameters ({sorted(used)})")
    if not temp:
        _drop_if_the_other_kind(con, mart, kind)
    con.execute(f"CREATE OR REPLACE {'TEMP ' if temp else ''}{kind} {mart} AS\n{sql}", used)


def _drop_if_the_other_kind(con: duckdb.DuckDBPyConnection, mart: str, kind: str) -> None:
    """A warehouse built when `mart` was a table (view) holds one under its name, which
    CREATE OR REPLACE VIEW (TABLE) refuses to replace."""
    other = "TABLE" if kind == "VIEW" else "VIEW"
    found = con.execute(
        f"SELECT count(*) FROM duckdb_{other.lower()}s() WHERE {other.lower()}_name = ? "
        "AND database_name = current_database() AND schema_name = 'main'",
        [mart],
    ).fetchone()[0]
    if found:
        con.execute(f"DROP {other} {mart}")


def course_as_of(con: duckdb.DuckDBPyConnection, settings: Settings) -> dt.date | None:
    """as_of of spec §4: the setting, else the date of the latest completed session in
    mart_sessions (None when there is none)."""
    if settings.as_of is not None:
        return settings.as_of
    latest = "SELECT max(session_date) FROM mart_sessions WHERE status = 'completed'"
    return con.execute(latest).fetchone()[0]


def _fill_t_quantiles(con: duckdb.DuckDBPyConnection) -> None:
    """t(0.975, df) for every df the cohort outcomes need (n - 1 of each group, n >= 2).

    A reference table rather than a Python UDF: scipy runs once per distinct df, vectorised,
    and the SQL stays plain SQL (no function registered on the caller's connection).
    """
    from scipy.stats import t as student_t

    dfs = [
        row[0]
        for row in con.execute(
            """
            SELECT DISTINCT count(*) - 1 AS df
            FROM mart_course_progress
            WHERE status = 'completed' AND improvement IS NOT NULL
            GROUP BY cohort, metric
            HAVING count(*) >= 2
            ORDER BY df
            """
        ).fetchall()
    ]
    quantiles = [float(q) for q in student_t.ppf(0.975, dfs)] if dfs else []
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {T_QUANTILE_TABLE} AS "
        "SELECT unnest(?::INTEGER[]) AS df, unnest(?::DOUBLE[]) AS t",
        [dfs, quantiles],
    )


def create_marts(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    params: dict[str, Any],
    marts: tuple[str, ...],
    temp: bool = False,
) -> None:
    """Create `marts` in order, each from the relations its SQL names, with what each needs
    first: as_of for mart_courses (unless `params` has it: a slice of mart_sessions would give
    the wrong date), the t quantiles for mart_cohort_outcomes, the case-mix fits for the
    marts of spec §7.3 and §7.4."""
    fitted = False
    for mart in marts:
        if mart == "mart_courses" and "as_of" not in params:
            params = {**params, "as_of": course_as_of(con, settings)}
        if mart == "mart_cohort_outcomes":
            _fill_t_quantiles(con)
        if mart in FITTED_MARTS and not fitted:
            fair.fill_case_mix(con)
            fitted = True
        _create_mart(con, mart, params, temp)
    for table in (T_QUANTILE_TABLE, *fair.FIT_TABLES):
        con.execute(f"DROP TABLE IF EXISTS temp.{table}")


def rebuild_derived(
    con: duckdb.DuckDBPyConnection, settings: Settings, marts: tuple[str, ...] = MARTS
) -> None:
    """(Re)create the marts (default: all, in order) from the stg_* relations; runs inside
    the caller's transaction. `marts` lets the benchmark floor build only what it compares."""
    create_marts(con, settings, sql_parameters(con, settings), marts)
