"""The case-mix model of spec §7.3, §7.4 and §7.6 (pipelines/warehouse/case_mix.py),
against a case worked out by hand and a plain numpy least-squares computation.

The hand-worked case plants the model: 12 distinct courses, each twice, whose improvement
is exactly the planted linear function ± 0.5 (+ for the first of a pair, − for the second).
A residual that is +d and −d on two identical design rows is orthogonal to every design
column, so OLS returns the planted coefficients exactly and RSS = n·d²; the first courses of
the pairs are therapist TA's, the second TB's, so each therapist's mean residual is ±d.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from pipelines.warehouse.case_mix import (
    adjusted_cohorts,
    design_rows,
    fit,
    funnel_band,
    practice_effect,
    therapists_against_expected,
)

PLANTED = {"const": 1.0, "athlete": 0.5, "overweight": -0.25, "baseline": 0.3, "age": -0.01,
           "sex_m": 0.2, "contraindicated": -0.4}  # fmt: skip
D = 0.5


def _planted_courses() -> pd.DataFrame:
    distinct = []
    for i, cohort in enumerate(["athlete"] * 4 + ["overweight"] * 4 + ["other"] * 4):
        distinct.append(
            {
                "cohort": cohort,
                "baseline": 3 + (i * 7) % 6,
                "age": 25 + 3 * i,
                "sex": "M" if i % 3 == 0 else "F",
                "contraindicated": i % 4 == 1,
            }
        )
    rows = []
    for i, course in enumerate(distinct):
        x = PLANTED["const"] + PLANTED["baseline"] * course["baseline"]
        x += PLANTED["age"] * course["age"] + PLANTED["sex_m"] * (course["sex"] == "M")
        x += PLANTED["contraindicated"] * course["contraindicated"]
        x += PLANTED.get(course["cohort"], 0.0)
        for sign, therapist in ((1, "TA"), (-1, "TB")):
            rows.append({**course, "course_id": f"K{i:02d}{therapist}", "improvement": x + sign * D,
                         "lead_therapist_id": therapist, "expected": x})  # fmt: skip
    return pd.DataFrame(rows)


def test_the_planted_model_is_recovered_exactly():
    courses = _planted_courses()
    model = fit(courses)
    assert model is not None and model.n == 24
    # no course has sex X or none: those indicators are 0 everywhere and dropped
    assert list(model.params.index) == list(PLANTED)
    for name, value in PLANTED.items():
        assert model.params[name] == pytest.approx(value, abs=1e-12)
    # RSS = 24 × 0.5² = 6; 24 courses, 7 columns: 17 degrees of freedom
    assert model.df_resid == 17
    assert model.sigma == pytest.approx(math.sqrt(6 / 17))
    tss = ((courses["improvement"] - courses["improvement"].mean()) ** 2).sum()
    assert model.r_squared == pytest.approx(1 - 6 / tss)


def test_adjusted_means_are_the_mean_prediction_with_the_cohort_set():
    courses = _planted_courses()
    rows = adjusted_cohorts(courses, fit(courses)).set_index("cohort")
    # the mean design row of the 24 courses, by hand from the planted data
    mean = {"baseline": courses["baseline"].mean(), "age": courses["age"].mean(),
            "sex_m": (courses["sex"] == "M").mean(),
            "contraindicated": courses["contraindicated"].mean()}  # fmt: skip
    common = PLANTED["const"] + sum(PLANTED[k] * v for k, v in mean.items())
    expected = {"other": common, "athlete": common + 0.5, "overweight": common - 0.25}
    for cohort, value in expected.items():
        assert rows.loc[cohort, "adjusted_mean_improvement"] == pytest.approx(value)
        assert rows.loc[cohort, "courses"] == 8
        raw = courses.loc[courses["cohort"] == cohort, "improvement"].mean()
        assert rows.loc[cohort, "raw_mean_improvement"] == pytest.approx(raw)
    assert rows.loc["athlete", "difference_vs_other"] == pytest.approx(0.5)
    assert rows.loc["overweight", "difference_vs_other"] == pytest.approx(-0.25)
    assert pd.isna(rows.loc["other", "difference_vs_other"])
    assert set(rows["model_courses"]) == {24}


def test_therapists_observed_against_expected_by_hand():
    courses = _planted_courses()
    model = fit(courses)
    rows = therapists_against_expected(model).set_index("therapist_id")
    sigma = math.sqrt(6 / 17)
    se = sigma / math.sqrt(12)
    overall = courses["improvement"].mean()
    for therapist, sign in (("TA", 1), ("TB", -1)):
        row = rows.loc[therapist]
        mine = courses[courses["lead_therapist_id"] == therapist]
        assert row["courses"] == 12
        assert row["observed_mean"] == pytest.approx(mine["improvement"].mean())
        assert row["expected_mean"] == pytest.approx(mine["expected"].mean())
        assert row["difference"] == pytest.approx(sign * D)
        assert row["adjusted_mean"] == pytest.approx(overall + sign * D)
        assert row["ci95_low"] == pytest.approx(overall + sign * D - 1.96 * se)
        assert row["ci95_high"] == pytest.approx(overall + sign * D + 1.96 * se)
        assert row["z"] == pytest.approx(sign * D / se)  # ±2.915: beyond 1.96, within 3.09
    assert rows.loc["TA", "funnel_band"] == "high_95" and rows.loc["TB", "funnel_band"] == "low_95"


@pytest.mark.parametrize(
    ("n", "z", "band"),
    [(4, 9.0, "small_n"), (5, 3.1, "high_99.8"), (5, 3.09, "high_95"), (5, 1.97, "high_95"),
     (5, 1.96, "within"), (5, -1.96, "within"), (5, -1.961, "low_95"), (5, -3.091, "low_99.8")],
)  # fmt: skip
def test_funnel_bands(n, z, band):
    assert funnel_band(n, z) == band


# --- against plain numpy --------------------------------------------------------------------


def _random_courses(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cohorts = rng.choice(["athlete", "overweight", "other"], n, p=[0.3, 0.3, 0.4])
    sexes = rng.choice(np.array(["F", "M", "X", None], dtype=object), n, p=[0.45, 0.4, 0.1, 0.05])
    baseline = rng.integers(0, 11, n).astype(float)
    age = rng.integers(18, 80, n)
    ci = rng.random(n) < 0.2
    improvement = 0.4 * baseline - 0.02 * age + (cohorts == "athlete") * 0.8 + rng.normal(0, 1.5, n)
    return pd.DataFrame({
        "course_id": [f"K{i:04d}" for i in range(n)], "cohort": cohorts, "improvement": improvement,
        "baseline": baseline, "age": age, "sex": sexes, "contraindicated": ci,
        "lead_therapist_id": rng.choice(["T1", "T2", "T3", "T4"], n),
        "weight": rng.normal(75, 10, n),
    })  # fmt: skip


def _numpy_ols(x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray | float]:
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ beta
    n, p = x.shape
    sigma2 = resid @ resid / (n - p)
    cov = sigma2 * np.linalg.inv(x.T @ x)
    return {"beta": beta, "cov": cov, "sigma": math.sqrt(sigma2), "df": n - p,
            "r2": 1 - resid @ resid / ((y - y.mean()) @ (y - y.mean()))}  # fmt: skip


def test_the_fit_equals_a_plain_numpy_least_squares():
    courses = _random_courses(300, seed=5)
    model = fit(courses)
    x = design_rows(courses.sort_values("course_id"))[list(model.params.index)].to_numpy()
    y = courses.sort_values("course_id")["improvement"].to_numpy()
    ref = _numpy_ols(x, y)
    assert list(model.params.index) == [
        "const",
        "athlete",
        "overweight",
        "baseline",
        "age",
        "sex_m",
        "sex_x",
        "sex_unknown",
        "contraindicated",
    ]
    np.testing.assert_allclose(model.params.to_numpy(), ref["beta"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(model.cov.to_numpy(), ref["cov"], rtol=1e-9, atol=1e-14)
    assert model.sigma == pytest.approx(ref["sigma"], rel=1e-12)
    assert model.r_squared == pytest.approx(ref["r2"], rel=1e-12)

    rows = adjusted_cohorts(courses, model).set_index("cohort")
    t = stats.t.ppf(0.975, ref["df"])
    for cohort, (ath, ow) in {"athlete": (1, 0), "overweight": (0, 1), "other": (0, 0)}.items():
        g = x.mean(axis=0)
        g[1], g[2] = ath, ow
        estimate, se = g @ ref["beta"], math.sqrt(g @ ref["cov"] @ g)
        assert rows.loc[cohort, "adjusted_mean_improvement"] == pytest.approx(estimate)
        assert rows.loc[cohort, "adjusted_ci95_low"] == pytest.approx(estimate - t * se)
        assert rows.loc[cohort, "adjusted_ci95_high"] == pytest.approx(estimate + t * se)
    for cohort, j in (("athlete", 1), ("overweight", 2)):
        coef, se = ref["beta"][j], math.sqrt(ref["cov"][j, j])
        p_value = 2 * stats.t.sf(abs(coef / se), ref["df"])
        assert rows.loc[cohort, "difference_vs_other"] == pytest.approx(coef)
        assert rows.loc[cohort, "difference_ci95_low"] == pytest.approx(coef - t * se)
        assert rows.loc[cohort, "difference_p_value"] == pytest.approx(p_value)

    therapists = therapists_against_expected(model).set_index("therapist_id")
    resid = y - x @ ref["beta"]
    lead = courses.sort_values("course_id")["lead_therapist_id"].to_numpy()
    for therapist in ("T1", "T2", "T3", "T4"):
        mine = lead == therapist
        z = resid[mine].mean() / (ref["sigma"] / math.sqrt(mine.sum()))
        assert therapists.loc[therapist, "z"] == pytest.approx(z)
        assert therapists.loc[therapist, "difference"] == pytest.approx(resid[mine].mean())


# --- the edge cases of §7.3 -------------------------------------------------------------------


def test_a_cohort_with_fewer_than_5_completers_keeps_its_raw_figures_only():
    courses = _random_courses(120, seed=2)
    athletes = courses.index[courses["cohort"] == "athlete"]
    small = courses.drop(athletes[4:])  # 4 athletes left
    model = fit(small)
    assert model is not None and "athlete" not in model.params.index  # all-zero: dropped
    rows = adjusted_cohorts(small, model).set_index("cohort")
    assert rows.loc["athlete", "courses"] == 4
    assert rows.loc["athlete", "raw_mean_improvement"] == pytest.approx(
        small.loc[small["cohort"] == "athlete", "improvement"].mean()
    )
    assert rows.loc["athlete", ["adjusted_mean_improvement", "difference_vs_other"]].isna().all()
    assert rows.loc[["other", "overweight"], "adjusted_mean_improvement"].notna().all()
    assert model.n == len(small) - 4


def test_an_absent_sex_category_is_dropped_from_the_design():
    courses = _random_courses(150, seed=3)
    courses["sex"] = courses["sex"].replace({"X": "F"})
    model = fit(courses)
    assert "sex_x" not in model.params.index and "sex_unknown" in model.params.index


@pytest.mark.parametrize("collinear", ["all contraindicated", "age = 2 × baseline"])
def test_a_rank_deficient_design_gives_no_model(collinear):
    courses = _random_courses(150, seed=4)
    if collinear == "all contraindicated":
        courses["contraindicated"] = True  # a column of ones beside the intercept
    else:
        courses["age"] = 2 * courses["baseline"]
    assert fit(courses) is None
    rows = adjusted_cohorts(courses, None)
    assert rows["adjusted_mean_improvement"].isna().all()
    assert rows["raw_mean_improvement"].notna().all() and rows["model_courses"].isna().all()


def test_fewer_than_p_plus_10_courses_give_no_model():
    courses = _random_courses(400, seed=6)
    courses["sex"] = "F"
    courses["contraindicated"] = courses.index % 2 == 0
    # columns: const, athlete, overweight, baseline, age, contraindicated: p = 6 → n ≥ 16
    by_cohort = [courses[courses["cohort"] == c].head(k)
                 for c, k in (("athlete", 5), ("overweight", 5), ("other", 6))]  # fmt: skip
    assert fit(pd.concat(by_cohort)) is not None  # n = 16
    by_cohort[2] = by_cohort[2].head(5)
    assert fit(pd.concat(by_cohort)) is None  # n = 15


# --- practice effects (§7.6) ----------------------------------------------------------------


def test_a_planted_practice_effect_is_recovered_exactly():
    courses = _planted_courses()
    # a factor that varies between the pairs (both courses of a pair share it), planted
    courses["one_foot_share"] = [(i // 2) % 3 / 2 for i in range(len(courses))]
    courses["improvement"] += 0.7 * courses["one_foot_share"]
    effect = practice_effect(courses, "one_foot_share")
    assert effect["courses"] == 24 and effect["estimate"] == pytest.approx(0.7)
    assert effect["ci95_low"] < 0.7 < effect["ci95_high"]


def test_courses_without_the_factor_are_left_out_and_a_constant_factor_has_no_model():
    courses = _random_courses(200, seed=8)
    courses.loc[courses.index[:30], "weight"] = None
    effect = practice_effect(courses, "weight")
    assert effect["courses"] == 170 and effect["estimate"] is not None
    courses["weight"] = 80.0
    constant = practice_effect(courses, "weight")
    assert constant["estimate"] is None and constant["courses"] == 200
