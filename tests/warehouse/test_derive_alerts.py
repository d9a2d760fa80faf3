"""mart_alerts: every alert type of spec §5 and every protocol reason."""

from __future__ import annotations

import datetime as dt

import pytest

START = dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.UTC)


def at_day(i: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return START.replace(hour=hour, minute=minute) + dt.timedelta(days=i)


def alerts(wh, alert_type: str) -> list[tuple]:
    return wh.rows(
        "SELECT session_id, course_id, detail FROM mart_alerts WHERE alert_type = ? "
        "ORDER BY session_id, course_id",
        [alert_type],
    )


@pytest.fixture
def base(wh):
    wh.client()
    wh.therapist()
    return wh


def test_a_clean_session_raises_nothing(base):
    base.session("S1", at_day(0))
    base.rebuild()
    assert base.one("SELECT count(*) FROM mart_alerts") == 0


def test_contraindication_alert_per_course_names_every_reason(wh):
    wh.therapist()
    wh.therapist("T2")
    # born 1958-07-01: 67 on 5 Jan 2026
    wh.client(
        "C1", birth_date=dt.date(1958, 7, 1), contraindications=["pregnancy", "bronchial_asthma"]
    )
    wh.client("C2", birth_date=dt.date(1961, 1, 5))  # 65 on the day of the course start
    wh.client("C3", contraindications=["thrombophlebitis"])
    wh.client("C4")  # 35, no codes: no alert
    wh.session("A1", at_day(0), client_id="C1", therapist_id="T2")
    wh.session("A2", at_day(1), client_id="C1")
    wh.session("A3", at_day(60), client_id="C1")  # a second course (gap 59 > 28)
    wh.session("B1", at_day(0), client_id="C2")
    wh.session("D1", at_day(0), client_id="C3")
    wh.session("E1", at_day(0), client_id="C4")
    wh.session("A0", at_day(-1), client_id="C1", status="cancelled")  # in no course
    wh.rebuild()
    got = wh.rows(
        "SELECT course_id, client_id, session_id, therapist_id, occurred_at, detail "
        "FROM mart_alerts WHERE alert_type = 'contraindication' ORDER BY course_id"
    )
    assert got == [
        (
            "C1-1",
            "C1",
            None,
            "T2",
            at_day(0),
            "pregnancy; bronchial_asthma; elderly (age 67 at course start)",
        ),
        (
            "C1-2",
            "C1",
            None,
            "T1",
            at_day(60),
            "pregnancy; bronchial_asthma; elderly (age 67 at course start)",
        ),
        ("C2-1", "C2", None, "T1", at_day(0), "elderly (age 65 at course start)"),
        ("C3-1", "C3", None, "T1", at_day(0), "thrombophlebitis"),
    ]


def test_discomfort_and_spine_pressure_for_completed_sessions_only(base):
    base.session("S1", at_day(0), discomfort_reported=True)
    base.session("S2", at_day(1), spine_pressure=True, discomfort_reported=True)
    base.session("S3", at_day(2), spine_pressure=True, status="cancelled")
    base.session("S4", at_day(3), discomfort_reported=True, status="no_show")
    base.session("S5", at_day(4), spine_pressure=None, discomfort_reported=None)
    base.rebuild()
    assert alerts(base, "discomfort") == [
        ("S1", "C1-1", "client reported pain or discomfort during the session"),
        ("S2", "C1-1", "client reported pain or discomfort during the session"),
    ]
    assert alerts(base, "spine_pressure") == [("S2", "C1-1", "force applied to the spine")]
    row = base.one(
        "SELECT (client_id, therapist_id, occurred_at) FROM mart_alerts WHERE session_id = 'S1'"
    )
    assert row == ("C1", "T1", at_day(0))


def test_unqualified_therapist(wh):
    wh.client()
    wh.therapist("T1", qualification="Q1")  # no expiry
    wh.therapist("T2", qualification=None)
    wh.therapist("T3", qualification="   ")  # blank = not qualified
    wh.therapist("T4", qualification="Q4", qualified_until=dt.date(2026, 1, 4))
    wh.therapist("T5", qualification="Q5", qualified_until=dt.date(2026, 1, 5))
    for i, t in enumerate(["T1", "T2", "T3", "T4", "T5"]):
        wh.session(f"S{i + 1}", at_day(0, 10 + i), therapist_id=t)  # all on 5 Jan
    wh.session("S6", at_day(0, 16), therapist_id="T2", status="cancelled")
    wh.rebuild()
    assert alerts(wh, "unqualified_therapist") == [
        ("S2", "C1-1", "therapist T2 has no qualification"),
        ("S3", "C1-1", "therapist T3 has no qualification"),
        # expired the day before; T5's expires on the session's day: still valid
        (
            "S4",
            "C1-1",
            "qualification Q4 of therapist T4 expired on 2026-01-04, before the "
            "session on 2026-01-05",
        ),
    ]


def test_qualification_expiry_uses_the_clinic_date(wh):
    wh.client()
    wh.therapist("T1", qualified_until=dt.date(2026, 1, 29))
    wh.session("S1", dt.datetime(2026, 1, 29, 23, 30, tzinfo=dt.UTC))  # 30 Jan 00:30 in Berlin
    wh.rebuild()
    assert alerts(wh, "unqualified_therapist") == []
    wh.rebuild(clinic_timezone="Europe/Berlin")
    assert [r[0] for r in alerts(wh, "unqualified_therapist")] == ["S1"]


@pytest.mark.parametrize(
    ("row", "detail"),
    [
        ({"warmup_min": 4.9}, "warm-up 4.9 min outside 5–10 min"),
        ({"warmup_min": 10.5}, "warm-up 10.5 min outside 5–10 min"),
        ({"warmup_min": 5.0}, None),  # the bounds are inside
        ({"warmup_min": 10.0}, None),
        ({"duration_min": 44.0}, "duration 44 min outside 45–75 min"),
        ({"duration_min": 76.0}, "duration 76 min outside 45–75 min"),
        ({"duration_min": 45.0}, None),
        ({"duration_min": 75.0}, None),
        ({"techniques": ["rubbing", "stroking"]}, "techniques lack kneading"),
        ({"techniques": ["kneading"]}, "techniques lack rubbing"),
        ({"techniques": ["stroking"]}, "techniques lack rubbing; techniques lack kneading"),
        ({"techniques": []}, None),  # an empty list is no deviation
        ({"techniques": None, "warmup_min": None, "duration_min": None}, None),  # NULLs neither
        (
            {"warmup_min": 3.0, "duration_min": 90.0, "techniques": ["stroking"]},
            "warm-up 3 min outside 5–10 min; duration 90 min outside 45–75 min; "
            "techniques lack rubbing; techniques lack kneading",
        ),
    ],
)
def test_protocol_deviation_reasons(base, row, detail):
    base.session("S1", at_day(0), **row)
    base.rebuild()
    expected = [] if detail is None else [("S1", "C1-1", detail)]
    assert alerts(base, "protocol_deviation") == expected


def test_protocol_deviation_only_for_completed_sessions(base):
    base.session("S1", at_day(0), warmup_min=0.0, status="cancelled")
    base.session("S2", at_day(1), duration_min=5.0, status="no_show")
    base.rebuild()
    assert alerts(base, "protocol_deviation") == []


def test_protocol_settings_change_alerts(base):
    base.session("S1", at_day(0), warmup_min=3.0, duration_min=80.0)
    base.rebuild(warmup_min_low=2.0, duration_min_high=90.0)
    assert alerts(base, "protocol_deviation") == []
    base.rebuild(warmup_min_low=4.0, warmup_min_high=8.5)
    assert alerts(base, "protocol_deviation") == [
        ("S1", "C1-1", "warm-up 3 min outside 4–8.5 min; duration 80 min outside 45–75 min")
    ]


def test_every_alert_type_can_coexist_and_ids_are_unique(wh):
    wh.client(contraindications=["musculoskeletal_disease"])
    wh.therapist("T1", qualification=None)
    wh.sessions(16, course_id="K", warmup_min=1.0, spine_pressure=True, discomfort_reported=True)
    wh.rebuild()
    counts = dict(wh.rows("SELECT alert_type, count(*) FROM mart_alerts GROUP BY 1"))
    assert counts == {
        "contraindication": 1,
        "discomfort": 16,
        "spine_pressure": 16,
        "unqualified_therapist": 16,
        "protocol_deviation": 16 + 1,  # one per session + one for the course of 16
    }
    assert wh.one("SELECT count(DISTINCT alert_id) = count(*) FROM mart_alerts") is True
