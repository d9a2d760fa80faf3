"""dashboard.data against a warehouse built by the real pipeline from shared/examples.

Hand-checked facts of the examples: C001 (athlete) has S0001 and S0002 (blank status =
completed, discomfort, notes "calf tender") in inferred course C001-1; C002 (BMI 29.6,
overweight) has completed S0003 in K-17 and a no-show S0004; C003 has no sessions.
as_of = 2026-09-05, both courses in progress. Pain pre scores: C001 7 → 6, C002 4.5.
T02 has no qualification (alert on S0003)."""

from __future__ import annotations

import datetime as dt
import math
import os
import shutil
import subprocess
import sys

import duckdb
import pandas as pd
import pytest

from dashboard import data


def test_overview_kpis(example_warehouse):
    o = data.overview(example_warehouse)
    assert o["as_of"] == dt.date(2026, 9, 5)
    assert (o["active_clients"], o["in_progress"], o["completed"], o["dropped_out"]) == (2, 2, 0, 0)
    assert o["completion_rate"] is None and o["dropout_rate"] is None  # 0/0, not 0
    assert o["improvement"] == {"n": 0, "mean": None, "ci_low": None, "ci_high": None}
    assert o["open_safety_alerts"] == 2  # discomfort S0002 + unqualified T02 on S0003
    assert o["open_quarantine"] == 0
    assert o["weekly"]["sessions"].sum() == 3  # completed sessions only
    assert o["last_run"]["status"] == "succeeded" and o["last_run"]["files_loaded"] == 4


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


def test_mean_ci_matches_t_interval():
    stats = data.mean_ci(pd.Series([1.0, 2.0, 3.0]))
    # mean 2, s = 1, t(0.975, 2) = 4.303: half width 4.303 / sqrt(3) = 2.484
    assert stats["n"] == 3 and stats["mean"] == 2.0
    assert stats["ci_high"] - 2.0 == pytest.approx(4.302653 / math.sqrt(3), rel=1e-5)
    rate, low, high = data.wilson_ci(5, 10)
    assert (
        rate == 0.5
        and low == pytest.approx(0.2366, abs=1e-3)
        and high == pytest.approx(0.7634, abs=1e-3)
    )


def test_search_clients_by_id_prefix_and_name(example_warehouse):
    assert list(data.search_clients("c00", db=example_warehouse)["client_id"]) == [
        "C001", "C002", "C003",
    ]  # fmt: skip
    assert list(data.search_clients("C002", db=example_warehouse)["client_id"]) == ["C002"]
    assert list(data.search_clients("anna", db=example_warehouse)["client_id"]) == ["C001"]
    assert data.search_clients("%", db=example_warehouse).empty  # no LIKE wildcards
    assert len(data.search_clients("c", limit=2, db=example_warehouse)) == 2


def test_client_detail_c001(example_warehouse):
    d = data.client_detail("C001", example_warehouse)
    assert d.client["name"] == "Anna K." and d.client["cohort"] == "athlete"
    assert d.current_course["course_id"] == "C001-1"
    assert d.current_course["status"] == "in_progress"
    assert d.current_course["sessions_completed"] == 2
    assert d.discomfort_at_last_session
    assert d.last_session["session_id"] == "S0002" and d.last_session["notes"] == "calf tender"
    assert list(d.alerts["alert_type"]) == ["discomfort"]
    assert bool(d.alerts["at_last_session"].iloc[0])
    assert list(d.sessions["pre_pain"]) == [7.0, 6.0]
    assert d.sessions["post_pain"].iloc[0] == 5.0
    pain = d.progress.set_index("metric").loc["pain"]
    assert (pain["baseline"], pain["latest"], pain["improvement"]) == (7.0, 6.0, 1.0)
    assert pain["responder_label"] == "below MCID 2"
    mobility = d.progress.set_index("metric").loc["mobility"]
    assert mobility["improvement_label"] == "not enough scores yet"  # S0002 mobility is null
    assert d.courses["course_id"].tolist() == ["C001-1"]


def test_client_detail_other_clients(example_warehouse):
    c2 = data.client_detail("C002", example_warehouse)
    assert c2.current_course["course_id"] == "K-17"
    assert not c2.discomfort_at_last_session
    assert list(c2.alerts["alert_type"]) == ["unqualified_therapist"]
    c3 = data.client_detail("C003", example_warehouse)
    assert c3.current_course is None and c3.sessions.empty
    assert c3.client["contraindications"] == ["bronchial_asthma"]
    assert data.client_detail("nobody", example_warehouse) is None


def test_mean_ci_by_gives_each_group_its_own_mean_ci():
    values = pd.Series([1.0, 2.0, 3.0, 5.0, None, 4.0, None])
    keys = pd.Series(["a", "a", "a", "b", "b", "c", "d"])  # b: one value; d: none
    stats = data.mean_ci_by(values, keys)
    assert list(stats.index) == ["a", "b", "c"]  # a key without values has no row
    for key in ("a", "b", "c"):
        expected = data.mean_ci(values[keys == key])
        row = stats.loc[key]
        assert row["n"] == expected["n"] and row["mean"] == pytest.approx(expected["mean"])
        for bound in ("ci_low", "ci_high"):
            if expected[bound] is None:
                assert math.isnan(row[bound])
            else:
                assert row[bound] == pytest.approx(expected[bound], rel=1e-12)
    assert stats.loc["a", "ci_high"] - 2.0 == pytest.approx(4.302653 / math.sqrt(3), rel=1e-5)


def test_therapists_table(example_warehouse):
    t = data.therapists_table("pain", example_warehouse, today=dt.date(2026, 11, 1)).set_index(
        "therapist_id"
    )
    assert t.loc["T01", "qualification_status"] == "valid"
    assert t.loc["T02", "qualification_status"] == "not qualified"
    assert (t.loc["T01", "sessions"], t.loc["T02", "sessions"]) == (2, 1)  # no-show not counted
    assert (t.loc["T01", "safety_alerts"], t.loc["T02", "safety_alerts"]) == (1, 1)
    assert t.loc["T01", "n"] == 0 and bool(t.loc["T01", "small_n"])
    assert data.qualification_status("X", dt.date(2026, 12, 1), dt.date(2026, 11, 1)).startswith(
        "expires"
    )
    assert data.qualification_status("X", dt.date(2026, 1, 1), dt.date(2026, 11, 1)).startswith(
        "expired"
    )


def test_quality_tables(example_warehouse):
    log = data.load_log(example_warehouse)
    assert sorted(log["entity"]) == ["clients", "scores", "sessions", "therapists"]
    assert (log["rows_read"] == log["rows_loaded"]).all()
    assert data.quarantine(db=example_warehouse).empty
    assert data.quarantine("sessions", "unknown", example_warehouse).empty
    gx = data.gx_results(example_warehouse)
    assert len(gx) > 0 and gx["success"].all() and (gx["failed"] == "").all()
    assert len(data.runs(example_warehouse)) == 1
    schema = data.schema(example_warehouse)
    assert list(dict.fromkeys(schema["view"])) == list(data.ANALYST_VIEWS)
    assert {"client_id", "cohort", "bmi"} <= set(schema.loc[schema["view"] == "clients", "column"])


def test_quarantine_filters(tmp_path, module_cli, prefect_api, examples_dir):
    """A delivery with a bad score row: it shows up, and the filters narrow it."""
    delivery = tmp_path / "in"
    shutil.copytree(examples_dir, delivery)
    with (delivery / "scores.jsonl").open("a") as f:
        f.write('{"session_id": "S9999", "timing": "pre", "pain": 3}\n')
        f.write('{"session_id": "S0003", "timing": "post", "pain": 14}\n')
    db = tmp_path / "w.duckdb"
    module_cli("ingest", str(delivery), "--db", str(db), api_url=prefect_api)
    q = data.quarantine(db=db)
    assert len(q) == 2 and set(q["entity"]) == {"scores"}
    assert data.quarantine("clients", db=db).empty
    assert (
        len(data.quarantine("scores", "S9999", db=db)) + len(data.quarantine("scores", "14", db=db))
        >= 1
    )
    assert data.overview(db)["open_quarantine"] == 2


def test_reads_see_a_replaced_file(tmp_path, example_warehouse):
    """A load publishes with os.replace: the next read sees the new file, not the old one."""
    db = tmp_path / "w.duckdb"
    shutil.copy(example_warehouse, db)
    assert len(data.search_clients("c", db=db)) == 3
    staged = tmp_path / "staged.duckdb"
    shutil.copy(example_warehouse, staged)
    con = duckdb.connect(str(staged))
    con.execute("DELETE FROM mart_clients WHERE client_id = 'C003'")
    con.close()
    os.replace(staged, db)
    assert len(data.search_clients("c", db=db)) == 2


def test_retry_while_a_writer_holds_the_lock(tmp_path, example_warehouse):
    """Another process holding the file read-write (which locks every other process out)
    for a moment: the read waits with jittered retries instead of failing."""
    db = tmp_path / "w.duckdb"
    shutil.copy(example_warehouse, db)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time\n"
         f"con = duckdb.connect({str(db)!r})\n"
         "print('locked', flush=True)\n"
         "time.sleep(0.3)\n"
         "con.close()\n"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert len(data.load_log(db)) == 4
    finally:
        holder.wait(timeout=30)


def test_missing_warehouse_is_a_clear_error(tmp_path):
    with pytest.raises(data.WarehouseUnavailable, match="outcomes ingest"):
        data.overview(tmp_path / "missing.duckdb")
