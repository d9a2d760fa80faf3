"""dashboard.data.cohorts on the example warehouse (facts: conftest.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from dashboard import data


def test_cohort_trajectory_values_and_filters(example_warehouse):
    traj = data.cohort_trajectories("pain", db=example_warehouse)
    got = {(r.cohort, r.session_number): (r.n, r.mean) for r in traj.itertuples()}
    assert got == {("athlete", 1): (1, 7.0), ("athlete", 2): (1, 6.0), ("overweight", 1): (1, 4.5)}
    assert traj["ci_low"].isna().all()  # n = 1: no interval, never a fake one

    only_t02 = data.cohort_trajectories(
        "pain", data.CourseFilter(therapist_id="T02"), example_warehouse
    )
    assert set(only_t02["cohort"]) == {"overweight"}
    late = data.CourseFilter(start=dt.date(2026, 9, 3))  # K-17 starts 09-04, C001-1 09-02
    assert set(data.cohort_trajectories("pain", late, example_warehouse)["cohort"]) == {
        "overweight"
    }
    mobility = data.cohort_trajectories("mobility", db=example_warehouse)
    assert mobility.set_index(["cohort", "session_number"]).loc[("athlete", 1), "mean"] == 4.0


def test_cohort_rates_and_distribution(example_warehouse):
    page = data.cohort_page("pain", db=example_warehouse)
    assert page["distribution"].empty  # no completed course yet
    rates = page["rates"].set_index("cohort")
    assert list(rates.index) == ["athlete", "overweight"]
    assert rates.loc["athlete", "in_progress"] == 1 and rates.loc["athlete", "n"] == 0
    assert bool(rates.loc["athlete", "small_n"])  # shown, and marked small n
    with pytest.raises(ValueError):
        data.cohort_trajectories("pain; DROP TABLE x", db=example_warehouse)
