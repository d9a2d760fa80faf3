"""dashboard.data.cohorts on the example warehouse (facts: conftest.py), and on a generated
export whose cohorts have enough completed courses for real intervals."""

from __future__ import annotations

import datetime as dt
import shutil

import duckdb
import pandas as pd
import pytest

from dashboard import data
from pipelines.generate import generate_export
from pipelines.settings import METRICS

EVERY_DATE = data.CourseFilter(start=dt.date(1900, 1, 1))  # a filter that keeps every course


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


@pytest.fixture(scope="module")
def generated_warehouse(tmp_path_factory, module_cli, prefect_api):
    root = tmp_path_factory.mktemp("cohorts")
    generate_export(root / "export", n_clients=150, seed=7)
    db = root / "warehouse.duckdb"
    module_cli("ingest", str(root / "export" / "delivery-1"), "--db", str(db),
               api_url=prefect_api)  # fmt: skip
    return db


def test_rates_of_every_course_are_read_from_cohort_outcomes(generated_warehouse, tmp_path):
    """Without a filter, each cohort's mean improvement and t interval are the ones
    cohort_outcomes holds (computed at load time), not computed a second time: a copy whose
    mart row is changed shows the changed figures."""
    db = tmp_path / "warehouse.duckdb"
    shutil.copy(generated_warehouse, db)
    before = data.cohort_rates("pain", db=db).set_index("cohort")
    assert (before["n"] >= 2).all() and before["ci_low"].notna().all()  # real intervals
    con = duckdb.connect(str(db))
    con.execute(
        "UPDATE mart_cohort_outcomes SET mean_improvement = mean_improvement + 100, "
        "ci95_low = ci95_low + 100, ci95_high = ci95_high + 100 WHERE metric = 'pain'"
    )
    con.close()
    after = data.cohort_rates("pain", db=db).set_index("cohort")
    for column in ("mean_improvement", "ci_low", "ci_high"):
        assert after[column].to_list() == pytest.approx((before[column] + 100).to_list())
    assert after["n"].to_list() == before["n"].to_list()


@pytest.mark.parametrize("metric", METRICS)
def test_a_filter_keeping_every_course_computes_the_same_figures(generated_warehouse, metric):
    """A filtered set is aggregated by the dashboard (stats.t_half_width): on the same
    courses it gives what the marts hold, for the rates and the trajectory."""
    db = generated_warehouse
    pd.testing.assert_frame_equal(
        data.cohort_rates(metric, EVERY_DATE, db), data.cohort_rates(metric, db=db), rtol=1e-12
    )
    pd.testing.assert_frame_equal(
        data.cohort_trajectories(metric, EVERY_DATE, db),
        data.cohort_trajectories(metric, db=db),
        rtol=1e-12,
    )
