"""The marts and views of spec §7.3 and §7.4 built from sessions and scores: the lead
therapist's tie rules, and the planted case of tests/warehouse/test_case_mix.py written as a
clinic's data (clients, sessions, pre scores) and read back from cohort_outcomes_adjusted and
therapist_outcomes."""

from __future__ import annotations

import datetime as dt
import math

import pytest

START = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
PLANTED = {"const": 1.0, "athlete": 0.5, "overweight": -0.25, "baseline": 0.3, "age": -0.01,
           "sex_m": 0.2, "contraindicated": -0.4}  # fmt: skip


def test_the_lead_therapist_gave_most_sessions_then_the_latest_then_the_smaller_id(wh):
    wh.client("C1")
    for therapist in ("T1", "T2", "T3"):
        wh.therapist(therapist)
    day = dt.timedelta(days=1)
    # K1: T1 three sessions, T2 two (later): T1 leads on count
    for i, t in enumerate(["T1", "T1", "T2", "T1", "T2"]):
        wh.session(f"K1-{i}", START + i * day, course_id="K1", therapist_id=t)
    # K2: T1 and T2 two each; T1's last session is the later one: T1 leads
    for i, t in enumerate(["T2", "T1", "T2", "T1"]):
        wh.session(f"K2-{i}", START + i * day, course_id="K2", therapist_id=t)
    # K3: T3 and T2 one each at the same time, a cancelled T1 session later: T2 (smaller id)
    wh.session("K3-0", START, course_id="K3", therapist_id="T3")
    wh.session("K3-1", START, course_id="K3", therapist_id="T2")
    wh.session("K3-2", START + day, course_id="K3", therapist_id="T1", status="cancelled")
    wh.rebuild()
    leads = dict(wh.rows("SELECT course_id, lead_therapist_id FROM int_course_lead_therapist"))
    assert leads == {"K1": "T1", "K2": "T1", "K3": "T2"}


@pytest.fixture
def planted(wh):
    """The planted model of test_case_mix as clinic data: 12 kinds of client, each with two
    completed two-session courses (pain first = baseline, then baseline − improvement), the
    first led by TA with improvement x + 0.5, the second by TB with x − 0.5."""
    wh.therapist("TA")
    wh.therapist("TB")
    for i in range(12):
        cohort = ["athlete", "overweight", "other"][i // 4]
        baseline, age = 3 + (i * 7) % 6, 25 + 3 * i
        male, contraindicated = i % 3 == 0, i % 4 == 1
        x = PLANTED["const"] + PLANTED["baseline"] * baseline + PLANTED["age"] * age
        x += PLANTED["sex_m"] * male + PLANTED["contraindicated"] * contraindicated
        x += PLANTED.get(cohort, 0.0)
        for pair, (sign, therapist) in enumerate(((1, "TA"), (-1, "TB"))):
            client = f"C{i:02d}{therapist}"
            wh.client(
                client,
                birth_date=dt.date(2026 - age, 1, 1),  # age at a course starting in March
                sex="M" if male else "F",
                athlete=cohort == "athlete",
                height_cm=200.0,
                weight_kg=120.0 if cohort == "overweight" else 70.0,  # BMI 30 or 17.5
                contraindications=["pregnancy"] if contraindicated else [],
            )
            start = START + dt.timedelta(days=3 * i + pair)
            for k, pain in enumerate((baseline, baseline - (x + sign * 0.5))):
                session = f"{client}-{k}"
                wh.session(session, start + dt.timedelta(hours=k), client_id=client,
                           therapist_id=therapist, course_id=f"K{client}")  # fmt: skip
                wh.score(session, pain=pain)
    wh.rebuild(course_min_sessions=2)
    return wh


def test_the_planted_case_read_back_from_the_views(planted):
    rows = {r[0]: r for r in planted.rows(
        "SELECT cohort, courses, difference_vs_other, model_courses, model_residual_sd"
        " FROM cohort_outcomes_adjusted WHERE metric = 'pain'"
    )}  # fmt: skip
    assert set(rows) == {"athlete", "overweight", "other"}
    assert rows["athlete"][1:4] == (8, pytest.approx(0.5), 24)
    assert rows["overweight"][2] == pytest.approx(-0.25)
    assert rows["other"][2] is None
    assert rows["other"][4] == pytest.approx(math.sqrt(6 / 17))  # RSS 24 × 0.25, df 17
    # no other metric was scored: no completers, so no rows for them
    assert planted.one("SELECT count(*) FROM cohort_outcomes_adjusted WHERE metric <> 'pain'") == 0
    bands = dict(planted.rows(
        "SELECT therapist_id, funnel_band FROM therapist_outcomes WHERE metric = 'pain'"
    ))  # fmt: skip
    assert bands == {"TA": "high_95", "TB": "low_95"}
    z = planted.one("SELECT z FROM therapist_outcomes WHERE therapist_id = 'TA'")
    assert z == pytest.approx(0.5 / (math.sqrt(6 / 17) / math.sqrt(12)))


def test_too_few_completers_give_raw_figures_and_no_therapist_rows(wh):
    wh.therapist("T1")
    for i in range(6):
        client = f"A{i}"
        wh.client(client, athlete=True)
        for k, pain in enumerate((6.0, 4.0 - i % 2)):
            wh.session(f"{client}-{k}", START + dt.timedelta(days=k), client_id=client,
                       course_id=f"K{i}")  # fmt: skip
            wh.score(f"{client}-{k}", pain=pain)
    wh.rebuild(course_min_sessions=2)
    rows = wh.rows(
        "SELECT cohort, courses, raw_mean_improvement, adjusted_mean_improvement, model_courses"
        " FROM cohort_outcomes_adjusted"
    )
    # athlete is 1 and the baseline 6 for every course, as the intercept: no model
    assert rows == [("athlete", 6, pytest.approx(2.5), None, None)]
    assert wh.one("SELECT count(*) FROM therapist_outcomes") == 0
