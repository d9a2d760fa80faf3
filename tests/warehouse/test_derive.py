"""Marts of spec §4: clients, sessions (course membership), courses (status, age).

Every expected value is worked out by hand in the comments.
"""

from __future__ import annotations

import datetime as dt

import pytest

from pipelines.settings import Settings
from pipelines.warehouse.derive import MARTS, rebuild_derived

UTC = dt.UTC
BERLIN_WINTER = dt.timezone(dt.timedelta(hours=1))


def at(y: int, m: int, d: int, h: int = 10, mi: int = 0, tz: dt.tzinfo = UTC) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, tzinfo=tz)


def courses_of(wh, client_id: str = "C1") -> list[tuple]:
    return wh.rows(
        "SELECT session_id, course_id, session_number FROM mart_sessions "
        "WHERE client_id = ? ORDER BY started_at, session_id",
        [client_id],
    )


# --- mart_clients ------------------------------------------------------------------------
def test_bmi_and_cohort(wh):
    wh.client("ATH", athlete=True, height_cm=180.0, weight_kg=90.0)  # bmi 27.8 but athlete
    wh.client("OW", height_cm=180.0, weight_kg=81.0)  # 81 / 1.8² = 81 / 3.24 = 25 -> overweight
    wh.client("OT", athlete=False, height_cm=180.0, weight_kg=80.9)  # 24.97 -> other
    wh.client("NOH", weight_kg=120.0)  # no height: bmi NULL -> other
    wh.rebuild()
    got = dict(wh.rows("SELECT client_id, (bmi, cohort) FROM mart_clients"))
    assert got["ATH"] == (pytest.approx(27.777777778), "athlete")
    assert got["OW"] == (25.0, "overweight")
    assert got["OT"] == (pytest.approx(24.969135802), "other")
    assert got["NOH"] == (None, "other")


# --- mart_sessions: course membership ------------------------------------------------------
def test_session_date_and_gap_are_taken_in_the_clinic_time_zone(wh):
    wh.client()
    wh.therapist()
    wh.session("S1", at(2026, 1, 1, 10, tz=BERLIN_WINTER))  # 1 Jan in Berlin and in UTC
    # 29 Jan 23:30 UTC = 30 Jan 00:30 in Berlin (UTC+1 in winter)
    wh.session("S2", at(2026, 1, 29, 23, 30))

    # UTC: 1 Jan -> 29 Jan = 28 days, not more than gap_days 28: one course
    wh.rebuild(clinic_timezone="UTC")
    assert courses_of(wh) == [("S1", "C1-1", 1), ("S2", "C1-1", 2)]
    assert wh.one("SELECT session_date FROM mart_sessions WHERE session_id = 'S2'") == dt.date(
        2026, 1, 29
    )

    # Berlin: 1 Jan -> 30 Jan = 29 days > 28: a new course
    wh.rebuild(clinic_timezone="Europe/Berlin")
    assert courses_of(wh) == [("S1", "C1-1", 1), ("S2", "C1-2", 1)]
    assert wh.one("SELECT session_date FROM mart_sessions WHERE session_id = 'S2'") == dt.date(
        2026, 1, 30
    )


def test_gap_days_setting_changes_courses(wh):
    wh.client()
    wh.therapist()
    wh.sessions(2, every=dt.timedelta(days=11))  # 11 days apart
    wh.rebuild()  # 11 <= 28: same course
    assert [c for _, c, _ in courses_of(wh)] == ["C1-1", "C1-1"]
    wh.rebuild(gap_days=10)  # 11 > 10: new course
    assert [c for _, c, _ in courses_of(wh)] == ["C1-1", "C1-2"]


def test_inferred_course_rolls_over_after_15_sessions(wh):
    wh.client()
    wh.therapist()
    wh.sessions(16)  # daily: no gap; 15 fill course 1, the 16th starts course 2
    wh.rebuild()
    got = courses_of(wh)
    assert [(c, n) for _, c, n in got[:15]] == [("C1-1", i) for i in range(1, 16)]
    assert got[15] == ("S16", "C1-2", 1)
    # no protocol alert: an inferred course never exceeds the maximum
    assert wh.one("SELECT count(*) FROM mart_alerts") == 0
    # a smaller maximum rolls over sooner: 16 = 6 + 6 + 4
    wh.rebuild(course_max_sessions=6)
    counts = wh.rows(
        "SELECT course_id, count(*) FROM mart_sessions GROUP BY course_id ORDER BY course_id"
    )
    assert counts == [("C1-1", 6), ("C1-2", 6), ("C1-3", 4)]


def test_rollover_and_gap_combine_and_ids_follow_time_order(wh):
    wh.client()
    wh.therapist()
    # 3 sessions, a 40-day gap, 3 sessions; course_max_sessions = 2:
    # segment 1 = A1 A2 | A3 ; segment 2 = B1 B2 | B3 -> courses 1..4
    wh.sessions(3, prefix="A", start=at(2026, 1, 1))
    wh.sessions(3, prefix="B", start=at(2026, 2, 12))  # 3 Jan -> 12 Feb = 40 days
    wh.rebuild(course_max_sessions=2)
    assert [c for _, c, _ in courses_of(wh)] == ["C1-1", "C1-1", "C1-2", "C1-3", "C1-3", "C1-4"]


def test_ties_in_started_at_are_ordered_by_session_id(wh):
    wh.client()
    wh.therapist()
    wh.session("S3", at(2026, 1, 1))
    wh.session("S2", at(2026, 1, 2))  # S1 and S2 start at the same instant
    wh.session("S1", at(2026, 1, 2))
    wh.rebuild(course_max_sessions=2)
    # time order S3, S1, S2 -> course 1 = S3 (1), S1 (2); course 2 = S2 (1)
    assert courses_of(wh) == [("S3", "C1-1", 1), ("S1", "C1-1", 2), ("S2", "C1-2", 1)]


def test_given_course_id_wins_and_only_completed_sessions_belong_to_courses(wh):
    wh.client()
    wh.therapist()
    wh.session("S1", at(2026, 1, 1), course_id="K1")
    wh.session("S2", at(2026, 1, 2), course_id="K1", status="cancelled")
    wh.session("S3", at(2026, 1, 3), status="no_show")
    wh.session("S4", at(2026, 1, 4))  # inferred
    wh.session("S5", at(2026, 1, 5), course_id="K1")
    wh.rebuild()
    rows = wh.rows(
        "SELECT session_id, course_id, session_number, declared_course_id FROM mart_sessions "
        "ORDER BY session_id"
    )
    assert rows == [
        ("S1", "K1", 1, "K1"),
        ("S2", None, None, "K1"),  # cancelled: in no course, the given id is kept aside
        ("S3", None, None, None),
        ("S4", "C1-1", 1, None),  # the only completed session without a course_id
        ("S5", "K1", 2, "K1"),
    ]
    assert wh.one("SELECT count(*) FROM mart_sessions") == 5  # every stg row is kept


def test_cancelled_sessions_do_not_break_or_join_inferred_courses(wh):
    wh.client()
    wh.therapist()
    wh.session("S1", at(2026, 1, 1))
    wh.session("S2", at(2026, 1, 20), status="cancelled")
    wh.session("S3", at(2026, 2, 10))  # 1 Jan -> 10 Feb = 40 days: new course
    wh.rebuild()
    assert courses_of(wh) == [("S1", "C1-1", 1), ("S2", None, None), ("S3", "C1-2", 1)]


# --- mart_courses ----------------------------------------------------------------------------
def test_exactly_10_sessions_is_completed(wh):
    wh.client()
    wh.therapist()
    wh.sessions(10)
    wh.rebuild()
    row = wh.one("SELECT (status, sessions_completed) FROM mart_courses")
    assert row == ("completed", 10)


@pytest.mark.parametrize(
    ("days_after_last", "status"),
    [(0, "in_progress"), (28, "in_progress"), (29, "dropped_out")],
)
def test_nine_sessions_in_progress_or_dropped_out_around_dropout_days(wh, days_after_last, status):
    wh.client()
    wh.therapist()
    wh.sessions(9)  # 5 Jan .. 13 Jan
    last = dt.date(2026, 1, 13)
    wh.rebuild(as_of=last + dt.timedelta(days=days_after_last))
    assert wh.one("SELECT status FROM mart_courses") == status


def test_as_of_defaults_to_the_latest_completed_session_date(wh):
    wh.client("C1")
    wh.client("C2")
    wh.therapist()
    wh.sessions(9, prefix="A", client_id="C1")  # last 13 Jan
    wh.session("B1", at(2026, 2, 10), client_id="C2")  # latest completed: 10 Feb
    wh.session("B2", at(2026, 6, 1), client_id="C2", status="cancelled")  # does not count
    wh.rebuild()
    # 13 Jan -> 10 Feb = 28 days: still in progress
    got = dict(wh.rows("SELECT course_id, (status, as_of) FROM mart_courses"))
    assert got["C1-1"] == ("in_progress", dt.date(2026, 2, 10))
    wh.session("B3", at(2026, 2, 11), client_id="C2")  # now 29 days
    wh.rebuild()
    assert wh.one("SELECT status FROM mart_courses WHERE course_id = 'C1-1'") == "dropped_out"


def test_course_settings_overrides(wh):
    wh.client()
    wh.therapist()
    wh.sessions(9)
    wh.rebuild(course_min_sessions=9)
    assert wh.one("SELECT status FROM mart_courses") == "completed"
    wh.rebuild(as_of=dt.date(2026, 2, 1), dropout_days=10)  # 13 Jan -> 1 Feb = 19 > 10
    assert wh.one("SELECT status FROM mart_courses") == "dropped_out"


def test_course_over_15_sessions_with_a_course_id_is_completed_and_raises_an_alert(wh):
    wh.client()
    wh.therapist()
    wh.therapist("T2")
    ids = wh.sessions(17, course_id="K1")
    wh.con.execute("UPDATE stg_sessions SET therapist_id = 'T2' WHERE session_id = ?", [ids[15]])
    wh.rebuild()
    assert wh.one("SELECT (status, sessions_completed) FROM mart_courses") == ("completed", 17)
    alert = wh.one(
        "SELECT (course_id, session_id, therapist_id, occurred_at, detail) FROM mart_alerts "
        "WHERE alert_type = 'protocol_deviation'"
    )
    # raised by the 16th session (5 Jan + 15 days = 20 Jan), given by T2
    assert alert == ("K1", None, "T2", at(2026, 1, 20), "course has 17 sessions, more than 15")
    # exactly 15 sessions is no deviation
    wh.con.execute("DELETE FROM stg_sessions WHERE session_id IN ('S16', 'S17')")
    wh.rebuild()
    assert wh.one("SELECT count(*) FROM mart_alerts") == 0


def test_age_at_start_elderly_and_contraindicated(wh):
    wh.client("Y", birth_date=dt.date(1961, 3, 10))  # 64 on 9 Mar 2026, 65 on 10 Mar 2026
    wh.client("O", birth_date=dt.date(1961, 3, 10))
    wh.client("P", contraindications=["pregnancy"])  # born 1990: 35
    wh.client("L", birth_date=dt.date(2000, 2, 29))  # leap-day birthday
    wh.therapist()
    wh.session("Y1", at(2026, 3, 9), client_id="Y")
    wh.session("O1", at(2026, 3, 10), client_id="O")
    wh.session("P1", at(2026, 3, 10), client_id="P")
    wh.session("L1", at(2026, 2, 28), client_id="L")  # 2026 - 2000 = 26, but only on 1 March
    wh.rebuild()
    got = dict(
        wh.rows("SELECT client_id, (age_at_start, elderly, contraindicated) FROM mart_courses")
    )
    assert got == {
        "Y": (64, False, False),
        "O": (65, True, True),
        "P": (35, False, True),
        "L": (25, False, False),
    }
    wh.rebuild(elderly_age=64)  # the setting moves the edge
    assert wh.one("SELECT elderly FROM mart_courses WHERE client_id = 'Y'") is True


def test_course_cohort_is_the_clients_current_cohort(wh):
    wh.client(athlete=False)
    wh.therapist()
    wh.sessions(2)
    wh.rebuild()
    assert wh.one("SELECT cohort FROM mart_courses") == "other"
    wh.con.execute("UPDATE stg_clients SET athlete = true")  # a corrected intake record
    wh.rebuild()
    assert wh.one("SELECT cohort FROM mart_courses") == "athlete"


def test_course_id_shared_by_two_clients_belongs_to_the_client_of_its_first_session(wh):
    wh.client("C1")
    wh.client("C2")
    wh.therapist()
    wh.session("S1", at(2026, 1, 2), client_id="C2", course_id="K")
    wh.session("S2", at(2026, 1, 1), client_id="C1", course_id="K")
    wh.rebuild()
    row = wh.one("SELECT (client_id, sessions_completed, client_count) FROM mart_courses")
    assert row == ("C1", 2, 2)
    # one course row, and session numbers run over both clients' sessions
    assert wh.rows("SELECT session_id, session_number FROM mart_sessions ORDER BY 1") == [
        ("S1", 2),
        ("S2", 1),
    ]


def test_course_columns_and_last_therapist(wh):
    wh.client()
    wh.therapist("T1")
    wh.therapist("T2")
    wh.session("S1", at(2026, 1, 1, 23, tz=BERLIN_WINTER))  # 22:00 UTC on 1 Jan
    wh.session("S2", at(2026, 1, 3), therapist_id="T2")
    wh.rebuild(clinic_timezone="Europe/Berlin")
    row = wh.one(
        "SELECT (first_session_at, last_session_at, first_session_date, last_session_date, "
        "last_therapist_id) FROM mart_courses"
    )
    assert row == (
        at(2026, 1, 1, 22),
        at(2026, 1, 3),
        dt.date(2026, 1, 1),
        dt.date(2026, 1, 3),
        "T2",
    )


# --- rebuild mechanics -----------------------------------------------------------------------
def test_rebuild_leaves_the_transaction_to_the_caller(wh):
    wh.client()
    wh.therapist()
    wh.sessions(3)
    wh.con.begin()
    rebuild_derived(wh.con, Settings())
    wh.con.rollback()  # had rebuild_derived committed, the marts would survive this
    existing = {r[0] for r in wh.rows("SELECT table_name FROM duckdb_tables()")}
    assert existing.isdisjoint(MARTS)


def test_rebuild_is_repeatable(wh):
    wh.client()
    wh.therapist()
    wh.sessions(3)
    wh.rebuild()
    first = wh.rows("SELECT * FROM mart_sessions ORDER BY session_id")
    wh.rebuild()
    assert wh.rows("SELECT * FROM mart_sessions ORDER BY session_id") == first


def test_empty_warehouse_builds_empty_marts(wh):
    wh.rebuild()
    for mart in MARTS:
        assert wh.one(f"SELECT count(*) FROM {mart}") == 0


@pytest.mark.parametrize(
    "override",
    [
        {"clinic_timezone": "Mars/Olympus_Mons"},
        {"clinic_timezone": "UTC'; DROP TABLE stg_clients; --"},
        {"gap_days": -1},
        {"course_max_sessions": 0},
        {"reliability": {"pain": 1.5, "muscle_tone": 0.8, "mobility": 0.8}},
        {"mcid": {"pain": 2.0}},
        {"warmup_min_low": float("nan")},
        {"duration_min_low": 80.0},  # above duration_min_high
    ],
)
def test_invalid_settings_are_refused_before_anything_changes(wh, override):
    wh.client()
    with pytest.raises(ValueError, match="invalid setting"):
        wh.rebuild(**override)
    wh.con.rollback()
    assert wh.one("SELECT count(*) FROM stg_clients") == 1


def test_a_mart_that_became_a_view_replaces_the_table_of_an_older_warehouse(wh):
    wh.client()
    wh.therapist()
    wh.sessions(3)
    wh.con.execute("CREATE TABLE mart_course_progress AS SELECT 1 AS stale")
    wh.rebuild()
    kinds = wh.rows(
        "SELECT 'view' FROM duckdb_views() WHERE view_name = 'mart_course_progress' "
        "UNION ALL SELECT 'table' FROM duckdb_tables() WHERE table_name = 'mart_course_progress'"
    )
    assert kinds == [("view",)]
    assert wh.one("SELECT count(*) FROM mart_course_progress") == 3  # one course × 3 metrics
