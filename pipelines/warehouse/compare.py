"""Compare the marts of two warehouses row by row: the check behind the benchmark floor
(same outputs as plain DuckDB) and behind incremental refreshes (same as a full rebuild).

Rows are matched on each mart's key; a row counts when it is missing on either side or any
column differs, doubles within a relative tolerance (sums taken in another order may differ
in the last bits).
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.warehouse.views import sql_literal

MART_KEYS: dict[str, tuple[str, ...]] = {
    "mart_clients": ("client_id",),
    "mart_sessions": ("session_id",),
    "mart_course_sessions": ("session_id",),
    "mart_courses": ("course_id",),
    "int_course_lead_therapist": ("course_id",),
    "int_case_mix_courses": ("metric", "course_id"),
    "mart_cohort_outcomes_adjusted": ("cohort", "metric"),
    "mart_therapist_outcomes": ("therapist_id", "metric"),
    "int_course_progress": ("course_id", "metric"),
    "int_course_changes": ("course_id", "metric", "session_number"),
    "mart_expected_changes": ("metric", "session_number", "cohort", "baseline", "change"),
    "mart_course_expectations": ("course_id", "metric", "session_number"),
    "mart_off_track_alerts": ("alert_id",),
    "mart_baseline_spread": ("metric",),
    "mart_course_progress": ("course_id", "metric"),
    "mart_cohort_outcomes": ("cohort", "metric"),
    "mart_alerts": ("alert_id",),
    "mart_therapist_activity": ("therapist_id",),
    "mart_therapist_alerts": ("therapist_id", "alert_type"),
    "mart_cohort_trajectories": ("cohort", "metric", "session_number"),
}
"""The key of every mart (pipelines.warehouse.derive.MARTS)."""
REL_TOL = 1e-9
"""Doubles agree when |a - b| <= REL_TOL × max(|a|, |b|): parallel sums may differ in the last
bits, and a value near a rounding boundary of the marts' round(·, 9) may land on either side
(a relative test, unlike rounding both to 9 decimals, never turns 1e-16 into 1e-9)."""
ABS_TOL = 1e-12
"""...and, for values that should be 0, when |a - b| <= ABS_TOL (a sum of zeros may give 1e-17)."""


def _same(column: str, kind: str) -> str:
    a, b = f"l.{column}", f"r.{column}"
    if kind == "DOUBLE":
        return (
            f"({a} IS NOT DISTINCT FROM {b} OR coalesce(abs({a} - {b}) <= "
            f"greatest({REL_TOL} * greatest(abs({a}), abs({b})), {ABS_TOL}), false))"
        )
    return f"{a} IS NOT DISTINCT FROM {b}"


def differing_rows(con: duckdb.DuckDBPyConnection, mart: str, left: str, right: str) -> int:
    """Rows of `mart` that differ between the relations `left` and `right` (qualified names
    of the same mart, e.g. two attached databases' copies)."""
    keys = MART_KEYS[mart]
    cols = con.execute(f"DESCRIBE {left}").fetchall()
    join = " AND ".join(f"l.{k} IS NOT DISTINCT FROM r.{k}" for k in keys)
    same = " AND ".join(_same(name, kind) for name, kind, *_ in cols)
    return int(
        con.execute(
            f"""
            WITH l AS (SELECT *, true AS _present FROM {left}),
            r AS (SELECT *, true AS _present FROM {right}),
            matched AS (
                SELECT l._present IS NULL OR r._present IS NULL OR NOT ({same}) AS differs
                FROM l FULL OUTER JOIN r ON {join}
            ),
            final AS (SELECT count(*) FILTER (WHERE differs) AS n FROM matched)
            SELECT * FROM final
            """
        ).fetchone()[0]
    )


def differences(left_db: Path, right_db: Path, marts: tuple[str, ...]) -> dict[str, int]:
    """Differing rows per mart between two warehouse files (both opened read-only)."""
    con = duckdb.connect()
    try:
        for name, path in (("left_wh", left_db), ("right_wh", right_db)):
            con.execute(f"ATTACH {sql_literal(str(path))} AS {name} (READ_ONLY)")
        return {
            mart: differing_rows(con, mart, f"left_wh.main.{mart}", f"right_wh.main.{mart}")
            for mart in marts
        }
    finally:
        con.close()
