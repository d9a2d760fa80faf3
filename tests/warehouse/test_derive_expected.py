"""The expected course and the off-track signal (spec §7.5), worked out by hand: the
quantiles of the references' changes at session k, the scopes `cohort` → `all` → none, the
±1-point window, and the `off_track` alert with the session since which it has held."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

START = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
LATE = START + dt.timedelta(days=60)  # the courses in progress: as_of is their last day
ATHLETE_CHANGES = [0, 0, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 3, 4, 4, 4, 5, 5, 6]
"""The 20 athlete references' change at each session k ≥ 4 (sorted). By hand, position
h = (20 − 1) q: p10 h = 1.9 → 0 + 0.9 × (1 − 0) = 0.9; p25 h = 4.75 → 1 + 0.75 × 1 = 1.75;
p50 h = 9.5 → 3; p75 h = 14.25 → 4."""
ATHLETE_BAND = (0.9, 1.75, 3.0, 4.0)
ALL_BAND = (1.0, 2.0, 3.0, 4.5)
"""With the three `other` references (change 6) added, 23 values: p10 h = 2.2 → 1; p25
h = 5.5 → 2; p50 h = 11 → 3; p75 h = 16.5 → 4 + 0.5 × (5 − 4) = 4.5."""


def _course(wh, course_id: str, client: str, start: dt.datetime, pains: list) -> None:
    """One course, a session a day, with the given pre pain per session (None: no score)."""
    for k, pain in enumerate(pains):
        session = f"{course_id}-{k + 1}"
        wh.session(session, start + dt.timedelta(days=k), client_id=client, course_id=course_id)
        if pain is not None:
            wh.score(session, pain=pain)


def _reference(wh, course_id: str, client: str, baseline: float, change: float) -> None:
    """A completed reference: 8 sessions, pain unchanged to session 3, then `change` better."""
    _course(wh, course_id, client, START, [baseline] * 3 + [baseline - change] * 5)


@pytest.fixture
def clinic(wh):
    wh.therapist("T1")
    wh.client("ATH", athlete=True)
    wh.client("OTH")
    wh.client("OVW", height_cm=170.0, weight_kg=95.0)  # BMI 32.9: overweight
    for i, change in enumerate(ATHLETE_CHANGES):
        _reference(wh, f"RA{i:02d}", "ATH", baseline=[5, 6, 7][i % 3], change=change)
    # outside the ±1 window of baseline 6, with a change that would move p10 if counted
    _reference(wh, "RA-FAR", "ATH", baseline=8, change=0)
    # no value at session 4 or later: a reference for sessions 2-3 only
    _course(wh, "RA-SHORT", "ATH", START, [6, 6, 6] + [None] * 5)
    for i in range(3):
        _reference(wh, f"RO{i}", "OTH", baseline=6, change=6)
    for i in range(2):
        _reference(wh, f"RW{i}", "OVW", baseline=3, change=1)
    # in progress: off track from session 4 on (change 0 < p10 0.9)
    _course(wh, "IA1", "ATH", LATE, [6, 6, 5, 6])
    # off at 4, back on at 5 (change 1 ≥ 0.9), off again from 6
    _course(wh, "IA2", "ATH", LATE - dt.timedelta(days=3), [6, 6, 6, 6, 5, 6, 6])
    _course(wh, "IO1", "OTH", LATE, [6, 6, 6, 4])  # 3 `other` references: scope `all`
    _course(wh, "IW1", "OVW", LATE, [2, 2, 2, 2])  # 2 references within ±1: no band
    wh.rebuild(course_min_sessions=8)  # IA2's 7 sessions are in progress
    return wh


def _band(wh, course_id: str, k: int) -> tuple:
    return wh.one(
        "SELECT reference_scope, reference_courses, expected_p10, expected_p25,"
        " expected_median, expected_p75, change, off_track FROM course_expectations"
        " WHERE course_id = ? AND metric = 'pain' AND session_number = ?",
        [course_id, k],
    )


def test_the_hand_worked_quantiles_equal_numpys_default():
    for values, band in ((ATHLETE_CHANGES, ATHLETE_BAND), (ATHLETE_CHANGES + [6] * 3, ALL_BAND)):
        assert np.quantile(values, [0.10, 0.25, 0.50, 0.75]) == pytest.approx(band)


def test_the_cohorts_references_within_one_point_give_the_band(clinic):
    scope, n, *band, change, off = _band(clinic, "IA1", 4)
    assert (scope, n) == ("cohort", 20)  # RA-FAR (baseline 8) and RA-SHORT are not counted
    assert band == pytest.approx(ATHLETE_BAND)
    assert (change, off) == (0.0, True)


def test_the_band_equals_duckdbs_quantile_cont_over_the_same_references(clinic):
    expected = clinic.one(
        "SELECT quantile_cont(change, [0.1, 0.25, 0.5, 0.75]) FROM int_course_changes"
        " WHERE status = 'completed' AND metric = 'pain' AND session_number = 5"
        " AND cohort = 'athlete' AND baseline BETWEEN 5 AND 7"
    )
    assert _band(clinic, "IA2", 5)[2:6] == pytest.approx(expected)


def test_before_session_4_nothing_is_off_track(clinic):
    # at k = 3 every reference still has change 0: the band is 0, the course's change is 1
    scope, n, *band, change, off = _band(clinic, "IA1", 3)
    assert (scope, n, band) == ("cohort", 21, [0.0] * 4)  # RA-SHORT counts at k = 3
    assert (change, off) == (1.0, False)
    assert not clinic.one("SELECT bool_or(off_track) FROM course_expectations"
                          " WHERE session_number < 4")  # fmt: skip


def test_fewer_than_20_in_the_cohort_takes_every_cohort(clinic):
    scope, n, *band, change, off = _band(clinic, "IO1", 4)
    assert (scope, n) == ("all", 23)
    assert band == pytest.approx(ALL_BAND)
    assert (change, off) == (2.0, False)  # 2 ≥ p10 1


def test_fewer_than_20_anywhere_gives_no_band(clinic):
    scope, n, *band, change, off = _band(clinic, "IW1", 4)
    assert (scope, n) == (None, 2)  # the number in scope `all`
    assert band == [None] * 4
    assert (change, off) == (0.0, False)


def test_completed_courses_have_no_rows(clinic):
    assert clinic.one("SELECT count(*) FROM course_expectations WHERE course_id LIKE 'R%'") == 0


def test_one_off_track_alert_per_course_whose_latest_row_is_off_track(clinic):
    alerts = clinic.rows(
        "SELECT course_id, session_id, therapist_id, occurred_at, detail, alert_id FROM alerts"
        " WHERE alert_type = 'off_track' ORDER BY course_id"
    )
    detail = "below the 10th percentile of the expected course: pain since session "
    last_of_ia2 = LATE - dt.timedelta(days=3) + dt.timedelta(days=6)
    assert alerts == [
        ("IA1", None, "T1", LATE + dt.timedelta(days=3), detail + "4", "off_track:course:IA1"),
        ("IA2", None, "T1", last_of_ia2, detail + "6", "off_track:course:IA2"),
    ]


def test_gx_checks_the_band_and_the_alerts(clinic):
    from pipelines.validation.derived import validate_derived

    checked = validate_derived(clinic.con)
    assert checked["mart_course_expectations"].success
    assert checked["mart_off_track_alerts"].success
    clinic.con.execute(  # a band out of order: p25 below p10
        "UPDATE mart_course_expectations SET expected_p25 = expected_p10 - 1"
        " WHERE course_id = 'IA1' AND session_number = 4 AND metric = 'pain'"
    )
    clinic.con.execute("UPDATE mart_off_track_alerts SET session_id = 'IA1-4'")
    checked = validate_derived(clinic.con)
    assert not checked["mart_course_expectations"].success
    assert not checked["mart_off_track_alerts"].success
