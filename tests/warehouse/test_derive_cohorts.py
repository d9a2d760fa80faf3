"""mart_cohort_outcomes: mean, t-interval, median, responder and dropout rates (spec §4)."""

from __future__ import annotations

import datetime as dt
import math

import pytest

START = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
T_975_1 = 12.706204736174698  # t(0.975, 1), tables: 12.706
T_975_2 = 4.302652729749464  # t(0.975, 2), tables: 4.303


@pytest.fixture
def course(wh):
    """course(course_id, client_id, pain_first, pain_last, n=2, start=…): n sessions, a day apart.

    Cohorts come from the clients: A* athletes, O* overweight (BMI 30), anything else other.
    Builds use course_min_sessions=2 so that two sessions make a completed course.
    """
    wh.therapist()
    clients: set[str] = set()

    def _course(course_id, client_id, pain_first=None, pain_last=None, n=2, start=START):
        if client_id not in clients:
            clients.add(client_id)
            if client_id.startswith("A"):
                wh.client(client_id, athlete=True)
            elif client_id.startswith("O"):
                wh.client(client_id, height_cm=200.0, weight_kg=120.0)  # 120 / 4 = 30
            else:
                wh.client(client_id)
        for i in range(n):
            sid = f"{course_id}-{i + 1}"
            wh.session(sid, start + dt.timedelta(days=i), client_id=client_id, course_id=course_id)
            value = pain_first if i == 0 else pain_last if i == n - 1 else None
            if value is not None:
                wh.score(sid, pain=value)

    return _course


def outcomes(wh, cohort: str, metric: str = "pain") -> dict:
    cur = wh.con.execute(
        "SELECT * FROM mart_cohort_outcomes WHERE cohort = ? AND metric = ?", [cohort, metric]
    )
    names = [d[0] for d in cur.description]
    [row] = cur.fetchall()
    return dict(zip(names, row, strict=True))


def test_n_equal_2_uses_t_12_706(wh, course):
    course("K1", "A1", 6.0, 5.0)  # improvement 1 (not a responder)
    course("K2", "A2", 6.0, 3.0)  # improvement 3 (responder)
    wh.rebuild(course_min_sessions=2)
    o = outcomes(wh, "athlete")
    # mean 2; s = √(((1-2)² + (3-2)²) / 1) = √2; half-width = t × √2 / √2 = t
    assert o["courses_completed"] == 2
    assert o["mean_improvement"] == pytest.approx(2.0)
    assert o["sd_improvement"] == pytest.approx(math.sqrt(2))
    assert o["ci95_low"] == pytest.approx(2 - T_975_1)  # -10.706…
    assert o["ci95_high"] == pytest.approx(2 + T_975_1)  # 14.706…
    assert o["median_improvement"] == pytest.approx(2.0)  # middle of 1 and 3
    assert o["responder_rate"] == pytest.approx(0.5)


def test_n_equal_3_uses_t_4_303(wh, course):
    for i, last in enumerate([5.0, 4.0, 1.0]):  # improvements 1, 2, 5
        course(f"K{i}", f"A{i}", 6.0, last)
    wh.rebuild(course_min_sessions=2)
    o = outcomes(wh, "athlete")
    # mean 8/3; s² = ((5/3)² + (2/3)² + (7/3)²) / 2 = (25 + 4 + 49) / 18 = 13/3
    half = T_975_2 * math.sqrt(13 / 3) / math.sqrt(3)
    assert o["mean_improvement"] == pytest.approx(8 / 3)
    assert (o["ci95_low"], o["ci95_high"]) == (
        pytest.approx(8 / 3 - half),
        pytest.approx(8 / 3 + half),
    )
    assert o["median_improvement"] == pytest.approx(2.0)
    assert o["responder_rate"] == pytest.approx(2 / 3)  # 2 and 5 are >= 2


def test_n_equal_1_has_no_interval(wh, course):
    course("K1", "A1", 7.0, 3.0)
    wh.rebuild(course_min_sessions=2)
    o = outcomes(wh, "athlete")
    assert (o["courses_completed"], o["mean_improvement"], o["median_improvement"]) == (1, 4, 4)
    assert (o["ci95_low"], o["ci95_high"]) == (None, None)
    assert o["responder_rate"] == 1.0


def test_only_completed_courses_with_an_improvement_count(wh, course):
    course("K1", "A1", 6.0, 2.0)  # completed, improvement 4: counts
    course("K2", "A2", 6.0, None)  # completed, no latest: improvement NULL
    course("K3", "A3", 9.0, 1.0, n=1)  # one session: in progress (and no latest)
    course("K4", "A4", 9.0, 1.0, n=3, start=START - dt.timedelta(days=60))  # completed
    wh.rebuild(course_min_sessions=3)  # K1, K2 are now in progress/dropped out: only K4 counts
    o = outcomes(wh, "athlete")
    assert (o["courses_completed"], o["mean_improvement"]) == (1, 8.0)
    wh.rebuild(course_min_sessions=2)  # K1, K2, K4 completed; K2 has no improvement
    o = outcomes(wh, "athlete")
    assert (o["courses_completed"], o["mean_improvement"]) == (2, 6.0)  # (4 + 8) / 2


def test_dropout_rate_and_rows_for_every_cohort_with_a_course(wh, course):
    old = START - dt.timedelta(days=100)
    course("K1", "A1", 6.0, 4.0)  # completed
    course("K2", "A2", 6.0, 4.0)  # completed
    course("K3", "A3", n=1, start=old)  # dropped out (last session 100 days before as_of)
    course("K4", "A4", n=1)  # in progress: not in the dropout denominator
    course("K5", "O1", n=1)  # overweight cohort: only an in-progress course
    wh.rebuild(course_min_sessions=2)
    # athlete: dropped_out / (completed + dropped_out) = 1 / (2 + 1)
    assert outcomes(wh, "athlete")["dropout_rate"] == pytest.approx(1 / 3)
    assert outcomes(wh, "athlete", "mobility")["dropout_rate"] == pytest.approx(1 / 3)
    ow = outcomes(wh, "overweight", "mobility")
    assert ow["dropout_rate"] is None  # 0 / 0
    assert (ow["courses_completed"], ow["mean_improvement"], ow["responder_rate"]) == (
        0,
        None,
        None,
    )
    rows = wh.rows("SELECT cohort, metric FROM mart_cohort_outcomes")
    # 'other' has no course: no rows; the others have all three metrics, even with n = 0
    assert rows == [
        ("athlete", "pain"),
        ("athlete", "muscle_tone"),
        ("athlete", "mobility"),
        ("overweight", "pain"),
        ("overweight", "muscle_tone"),
        ("overweight", "mobility"),
    ]
    assert outcomes(wh, "athlete", "muscle_tone")["courses_completed"] == 0


def test_cohorts_are_kept_apart(wh, course):
    course("K1", "A1", 6.0, 5.0)  # athlete: 1
    course("K2", "X1", 6.0, 2.0)  # other: 4
    course("K3", "X2", 6.0, 4.0)  # other: 2
    wh.rebuild(course_min_sessions=2)
    assert outcomes(wh, "athlete")["mean_improvement"] == 1.0
    assert outcomes(wh, "other")["mean_improvement"] == 3.0
    assert outcomes(wh, "other")["courses_completed"] == 2


def test_intention_to_treat_counts_dropouts_and_missing_outcomes_as_no_change(wh, course):
    """Spec §7.2, by hand. Athletes: K1 6→3 (+3, a responder), K2 6→5 (+1), K3 completed
    with a baseline of 6 and no later value, K4 dropped out after a baseline of 7, K5
    dropped out without any score (no baseline: not ended-with-baseline)."""
    course("K1", "A1", 6.0, 3.0)
    course("K2", "A2", 6.0, 5.0)
    course("K3", "A3", 6.0, None)
    course("K4", "A4", 7.0, None, n=1, start=START - dt.timedelta(days=40))
    course("K5", "A5", None, None, n=1, start=START - dt.timedelta(days=50))
    wh.rebuild(course_min_sessions=2)
    statuses = dict(wh.rows("SELECT course_id, status FROM mart_courses"))
    assert statuses == {"K1": "completed", "K2": "completed", "K3": "completed",
                        "K4": "dropped_out", "K5": "dropped_out"}  # fmt: skip
    o = outcomes(wh, "athlete")
    assert o["courses_completed"] == 2 and o["mean_improvement"] == pytest.approx(2.0)
    assert o["itt_courses"] == 4  # K1, K2, K3, K4
    assert o["itt_mean_improvement"] == pytest.approx((3 + 1 + 0 + 0) / 4)
    assert o["itt_responder_rate"] == pytest.approx(1 / 4)
    assert o["missing_outcome_rate"] == pytest.approx(1 / 3)  # K3 of K1, K2, K3
    view = wh.rows("SELECT itt_courses, itt_mean_improvement FROM cohort_outcomes"
                   " WHERE cohort = 'athlete' AND metric = 'pain'")  # fmt: skip
    assert view == [(4, pytest.approx(1.0))]


def test_intention_to_treat_of_a_cohort_without_ended_courses(wh, course):
    course("K1", "A1", 6.0, None, n=1)  # in progress: not ended
    wh.rebuild(course_min_sessions=2)
    o = outcomes(wh, "athlete")
    assert o["itt_courses"] == 0
    assert o["itt_mean_improvement"] is None and o["itt_responder_rate"] is None
    assert o["missing_outcome_rate"] is None
