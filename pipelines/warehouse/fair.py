"""The case-mix fits of a load (spec §7.3, §7.4): read the completers, fit one model per
metric (pipelines/warehouse/case_mix.py), and leave the figures in temporary tables for
the marts that shape them (models/mart_cohort_outcomes_adjusted.sql,
models/mart_therapist_outcomes.sql), as the t quantiles are left for mart_cohort_outcomes.

Whole marts: rebuilt at every load from the stored marts (the fits take the clinic's
completers as a whole), so an incremental load gives them exactly as a full one does.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from pipelines.settings import METRICS
from pipelines.warehouse import case_mix

COHORTS_TABLE = "case_mix_cohorts"
THERAPISTS_TABLE = "case_mix_therapists"
FIT_TABLES = (COHORTS_TABLE, THERAPISTS_TABLE)
"""Temporary tables left by :func:`fill_case_mix` (dropped by the caller after the marts)."""


def completers(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every completer and metric with the model's covariates (view int_case_mix_courses),
    in metric and course order."""
    return con.execute("SELECT * FROM int_case_mix_courses ORDER BY metric, course_id").df()


def fits(courses: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The §7.3 rows of every metric and the §7.4 rows of every metric with a model."""
    cohorts, therapists = [], []
    for metric in METRICS:
        mine = courses[courses["metric"] == metric]
        if mine.empty:
            continue
        model = case_mix.fit(mine)
        cohorts.append(case_mix.adjusted_cohorts(mine, model).assign(metric=metric))
        if model is not None:
            therapists.append(case_mix.therapists_against_expected(model).assign(metric=metric))
    return (
        _frame(cohorts, (*case_mix.ADJUSTED_COLUMNS, "metric")),
        _frame(therapists, (*case_mix.THERAPIST_COLUMNS, "metric")),
    )


def _frame(parts: list[pd.DataFrame], columns: tuple[str, ...]) -> pd.DataFrame:
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in columns})
    return pd.concat(parts, ignore_index=True)[list(columns)]


def fill_case_mix(con: duckdb.DuckDBPyConnection) -> None:
    """Fit the models on the completers now in the warehouse (or in the temp marts that
    shadow them) and leave the figures in the temporary FIT_TABLES."""
    cohorts, therapists = fits(completers(con))
    for name, frame in ((COHORTS_TABLE, cohorts), (THERAPISTS_TABLE, therapists)):
        con.register("fit_frame", frame)
        try:
            con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM fit_frame")
        finally:
            con.unregister("fit_frame")
