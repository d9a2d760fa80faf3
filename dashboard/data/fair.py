"""The fair comparisons of spec §7 as the pages show them: per cohort, completers beside
intention to treat and the case-mix adjusted figures; per therapist, the funnel of adjusted
means. Read from the views the load computed (cohort_outcomes, cohort_outcomes_adjusted,
therapist_outcomes); nothing is fitted here."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dashboard.data.warehouse import check_metric, frame, resolve

_COHORT_SQL = """
        SELECT o.cohort, o.courses_completed, o.mean_improvement, o.ci95_low, o.ci95_high,
               o.responder_rate, o.itt_courses, o.itt_mean_improvement, o.itt_responder_rate,
               o.missing_outcome_rate, a.adjusted_mean_improvement, a.adjusted_ci95_low,
               a.adjusted_ci95_high, a.difference_vs_other, a.difference_ci95_low,
               a.difference_ci95_high, a.difference_p_value, a.model_courses
        FROM cohort_outcomes AS o
        LEFT JOIN cohort_outcomes_adjusted AS a USING (cohort, metric)
        WHERE o.metric = $metric
        ORDER BY array_position(['athlete', 'overweight', 'other'], o.cohort)
"""

_FUNNEL_SQL = """
WITH model AS (  -- the metric's fit: its residual sd, and the mean over the fitted courses
    SELECT any_value(model_residual_sd) AS sigma
    FROM cohort_outcomes_adjusted
    WHERE metric = $metric AND model_courses IS NOT NULL
),
therapists AS (
    SELECT therapist_id, courses, observed_mean, expected_mean, difference, adjusted_mean,
           ci95_low, ci95_high, z, funnel_band
    FROM therapist_outcomes
    WHERE metric = $metric
),
final AS (
    SELECT t.*, m.sigma,
           -- every therapist's adjusted_mean is the overall mean plus its difference
           t.adjusted_mean - t.difference AS overall_mean
    FROM therapists AS t, model AS m
)
SELECT * FROM final ORDER BY therapist_id
"""


def cohort_fairness(metric: str = "pain", db: Path | None = None) -> pd.DataFrame:
    """One row per cohort: completers (§4), intention to treat (§7.2) and the case-mix
    adjusted figures (§7.3; null when no model or the cohort was left out of it)."""
    params = {"metric": check_metric(metric)}
    return resolve(db).read(lambda con: frame(con, _COHORT_SQL, params))


def therapist_funnel(metric: str = "pain", db: Path | None = None) -> pd.DataFrame:
    """One row per lead therapist of a fitted course (§7.4), with the overall mean and the
    model's residual sd σ the funnel's limits need (mean ± z·σ/√n). Empty without a model."""
    params = {"metric": check_metric(metric)}
    return resolve(db).read(lambda con: frame(con, _FUNNEL_SQL, params))
