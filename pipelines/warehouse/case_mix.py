"""Fair comparisons (spec §7.3, §7.4, §7.6): one case-mix model, fitted by ordinary least
squares (statsmodels), and what is read from it.

Per metric, over the completers (courses `completed` with an improvement):

    improvement ~ 1 + [athlete] + [overweight] + baseline + age + [M] + [X] + [sex unknown]
                  + contraindicated  (+ one practice factor, §7.6)

- a cohort with fewer than 5 completers is left out of the fit;
- an indicator that is 0 for every fitted course is dropped;
- no model when the design is rank-deficient or n < p + 10.

Pure functions over DataFrames: the caller reads the courses from the marts and stores
what comes back (pipelines/warehouse/fair.py). Methods and references: docs/methods.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

COHORT_INDICATORS = {"athlete": "athlete", "overweight": "overweight"}
"""cohort -> its indicator column (`other` is the reference)."""
SEX_INDICATORS = {"M": "sex_m", "X": "sex_x", None: "sex_unknown"}
"""sex -> its indicator column (`F` is the reference; None: not given)."""
INDICATORS = ("athlete", "overweight", "sex_m", "sex_x", "sex_unknown", "contraindicated")
DESIGN = ("const", "athlete", "overweight", "baseline", "age", "sex_m", "sex_x",
          "sex_unknown", "contraindicated")  # fmt: skip
MIN_COHORT_COMPLETERS = 5
"""A cohort with fewer completers is left out of the fit (§7.3)."""
EXTRA_ROWS = 10
"""No model when n < p + EXTRA_ROWS (§7.3)."""
COURSE_COLUMNS = ("course_id", "cohort", "improvement", "baseline", "age", "sex",
                  "contraindicated")  # fmt: skip
"""What each course brings to the fit (one row per completer of one metric)."""


@dataclass(frozen=True)
class Fit:
    """An OLS fit of the case-mix model: its design and the classical OLS figures."""

    courses: pd.DataFrame
    """The fitted courses (input rows, in course_id order)."""
    design: pd.DataFrame
    """Their design rows: the kept columns of DESIGN (+ a factor), same index."""
    params: pd.Series
    cov: pd.DataFrame
    """σ² (XᵀX)⁻¹."""
    sigma: float
    """Residual standard deviation: √(RSS / (n − p))."""
    df_resid: int
    r_squared: float
    """1 − RSS / TSS (TSS about the mean)."""
    p_values: pd.Series

    @property
    def n(self) -> int:
        return len(self.courses)

    @property
    def t975(self) -> float:
        from scipy import stats  # imported when a model is read, not with the warehouse

        return float(stats.t.ppf(0.975, self.df_resid))

    def predict(self, design: pd.DataFrame) -> pd.Series:
        return design[self.params.index] @ self.params

    def interval(self, estimate: float, se: float) -> tuple[float, float]:
        return estimate - self.t975 * se, estimate + self.t975 * se


def design_rows(courses: pd.DataFrame, factors: Sequence[str] = ()) -> pd.DataFrame:
    """Every column of DESIGN (and the `factors`) for `courses`, as floats."""
    rows = pd.DataFrame(index=courses.index)
    rows["const"] = 1.0
    for cohort, column in COHORT_INDICATORS.items():
        rows[column] = (courses["cohort"] == cohort).astype(float)
    rows["baseline"] = courses["baseline"].astype(float)
    rows["age"] = courses["age"].astype(float)
    sex = courses["sex"].astype(object).where(courses["sex"].notna(), None)
    for value, column in SEX_INDICATORS.items():
        rows[column] = (sex.isna() if value is None else sex == value).astype(float)
    rows["contraindicated"] = courses["contraindicated"].astype(bool).astype(float)
    for factor in factors:
        rows[factor] = courses[factor].astype(float)
    return rows


def fit_population(courses: pd.DataFrame) -> pd.DataFrame:
    """The completers the model is fitted on: cohorts with at least MIN_COHORT_COMPLETERS,
    in course_id order (so that a refit on the same data sums in the same order)."""
    sizes = courses.groupby("cohort")["course_id"].transform("size")
    kept = courses[sizes >= MIN_COHORT_COMPLETERS]
    return kept.sort_values("course_id", kind="stable")


def fit(courses: pd.DataFrame, factors: Sequence[str] = ()) -> Fit | None:
    """The case-mix model (plus `factors`) fitted on `courses` (the completers of one
    metric), or None when §7.3 says there is no model."""
    from statsmodels.regression.linear_model import OLS  # ~1 s to import: only when fitting

    population = fit_population(courses)
    design = design_rows(population, factors)
    columns = [c for c in (*DESIGN, *factors) if c not in INDICATORS or design[c].any()]
    x = design[columns]
    n, p = x.shape
    if n < p + EXTRA_ROWS or np.linalg.matrix_rank(x.to_numpy()) < p:
        return None
    y = population["improvement"].astype(float)
    result = OLS(y, x).fit()
    rss = float(result.ssr)
    tss = float(((y - y.mean()) ** 2).sum())
    return Fit(
        courses=population,
        design=x,
        params=result.params,
        cov=result.cov_params(),
        sigma=float(np.sqrt(rss / result.df_resid)),
        df_resid=int(result.df_resid),
        r_squared=1 - rss / tss if tss > 0 else float("nan"),
        p_values=result.pvalues,
    )


def adjusted_cohorts(courses: pd.DataFrame, model: Fit | None) -> pd.DataFrame:
    """§7.3: one row per cohort with a completer: its raw mean, and — when the cohort is in
    the model — its adjusted mean (the mean prediction over all fitted courses with their
    cohort set to it) and its difference against `other`, each with a 95 % interval."""
    rows = []
    # unique() first: iterating a column of Arrow strings costs ~1 µs a value
    fitted_cohorts = set() if model is None else set(model.courses["cohort"].unique())
    for cohort, group in courses.groupby("cohort", sort=True):
        row = {"cohort": cohort, "courses": len(group),
               "raw_mean_improvement": float(group["improvement"].mean())}  # fmt: skip
        if cohort in fitted_cohorts:
            row |= _adjusted(model, cohort)
        rows.append(row)
    out = pd.DataFrame(rows, columns=ADJUSTED_COLUMNS)
    if model is not None:
        out["model_courses"] = model.n
        out["model_r_squared"] = model.r_squared
        out["model_residual_sd"] = model.sigma
    return out


ADJUSTED_COLUMNS = (
    "cohort", "courses", "raw_mean_improvement", "adjusted_mean_improvement",
    "adjusted_ci95_low", "adjusted_ci95_high", "difference_vs_other", "difference_ci95_low",
    "difference_ci95_high", "difference_p_value", "model_courses", "model_r_squared",
    "model_residual_sd",
)  # fmt: skip


def _adjusted(model: Fit, cohort: str) -> dict[str, float | None]:
    mean_row = model.design.mean()
    for other_cohort, column in COHORT_INDICATORS.items():
        if column in mean_row.index:
            mean_row[column] = 1.0 if cohort == other_cohort else 0.0
    estimate = float(mean_row @ model.params)
    se = float(np.sqrt(mean_row @ model.cov @ mean_row))
    low, high = model.interval(estimate, se)
    out: dict[str, float | None] = {
        "adjusted_mean_improvement": estimate, "adjusted_ci95_low": low,
        "adjusted_ci95_high": high,
    }  # fmt: skip
    column = COHORT_INDICATORS.get(cohort)
    if column is not None and column in model.params.index:
        coef = float(model.params[column])
        se_coef = float(np.sqrt(model.cov.loc[column, column]))
        low, high = model.interval(coef, se_coef)
        out |= {"difference_vs_other": coef, "difference_ci95_low": low,
                "difference_ci95_high": high,
                "difference_p_value": float(model.p_values[column])}  # fmt: skip
    return out


Z_95, Z_998 = 1.96, 3.09
"""Funnel limits (§7.4): two-sided 95 % and 99.8 %."""
THERAPIST_COLUMNS = (
    "therapist_id", "courses", "observed_mean", "expected_mean", "difference",
    "adjusted_mean", "ci95_low", "ci95_high", "z", "funnel_band",
)  # fmt: skip


def therapists_against_expected(model: Fit) -> pd.DataFrame:
    """§7.4: per lead therapist of the fitted courses, observed against expected."""
    expected = model.predict(model.design)
    residual = model.courses["improvement"] - expected
    courses = model.courses.assign(expected=expected, residual=residual)
    overall = float(model.courses["improvement"].mean())
    per = courses.groupby("lead_therapist_id", sort=True).agg(
        courses=("residual", "size"), observed_mean=("improvement", "mean"),
        expected_mean=("expected", "mean"), difference=("residual", "mean"),
    )  # fmt: skip
    se = model.sigma / np.sqrt(per["courses"])
    per["adjusted_mean"] = overall + per["difference"]
    per["ci95_low"] = per["adjusted_mean"] - Z_95 * se
    per["ci95_high"] = per["adjusted_mean"] + Z_95 * se
    per["z"] = (per["difference"] / se).where(se > 0)
    per["funnel_band"] = [funnel_band(int(n), z) for n, z in zip(per["courses"], per["z"],
                                                                  strict=True)]  # fmt: skip
    per["courses"] = per["courses"].astype(int)
    return per.rename_axis("therapist_id").reset_index()[list(THERAPIST_COLUMNS)]


def funnel_band(n: int, z: float) -> str:
    """Where a therapist falls on the funnel (§7.4)."""
    if n < MIN_COHORT_COMPLETERS:
        return "small_n"
    for limit, band in ((Z_998, "99.8"), (Z_95, "95")):
        if z > limit:
            return f"high_{band}"
        if z < -limit:
            return f"low_{band}"
    return "within"


def practice_effect(courses: pd.DataFrame, factor: str) -> dict[str, float | int | None]:
    """§7.6: the case-mix model plus `factor`, over the completers that have a value of it;
    the factor's coefficient with its 95 % interval and two-sided p-value (None when there
    is no model: too few courses, rank-deficient, or the factor constant)."""
    known = courses[courses[factor].notna()]
    population = fit_population(known)
    out: dict[str, float | int | None] = {
        "courses": len(population), "estimate": None, "ci95_low": None, "ci95_high": None,
        "p_value": None,
    }  # fmt: skip
    if population[factor].nunique() < 2:
        return out  # a constant factor gives no model
    model = fit(known, factors=(factor,))
    if model is None:
        return out
    coef = float(model.params[factor])
    low, high = model.interval(coef, float(np.sqrt(model.cov.loc[factor, factor])))
    return out | {"estimate": coef, "ci95_low": low, "ci95_high": high,
                  "p_value": float(model.p_values[factor])}  # fmt: skip
