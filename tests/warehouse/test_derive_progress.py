"""mart_course_progress: the per-course, per-metric figures of spec §4, hand-computed."""

from __future__ import annotations

import datetime as dt
import math

import pytest

START = dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def course(wh):
    """course(course_id, pre=[…], post=[…], client_id=…) -> session ids.

    pre/post: one dict of scores per session (None = no score row for that session).
    """
    wh.therapist()
    clients: set[str] = set()
    offset = iter(range(10_000))

    def _course(course_id, pre, post=(), client_id="C1", status="completed"):
        if client_id not in clients:
            wh.client(client_id)
            clients.add(client_id)
        ids = []
        for i, scores in enumerate(pre):
            sid = f"{course_id}-s{i + 1}"
            wh.session(
                sid,
                START + dt.timedelta(hours=next(offset)),
                client_id=client_id,
                course_id=course_id,
                status=status,
            )
            if scores is not None:
                wh.score(sid, "pre", **scores)
            if i < len(post) and post[i] is not None:
                wh.score(sid, "post", **post[i])
            ids.append(sid)
        return ids

    return _course


def test_baseline_latest_improvement_pct_slope_responder(wh, course):
    course("A", [{"pain": 6.3}, {"pain": 5.3}, {"pain": 4.3}])
    wh.rebuild()
    p = wh.progress("A", "pain")
    assert (p["baseline"], p["latest"]) == (6.3, 4.3)
    assert p["improvement"] == 2.0  # pain: a - b = 6.3 - 4.3
    assert p["responder"] is True  # 2 >= MCID 2, exactly
    assert p["worsened"] is False
    assert p["pct_improvement"] == pytest.approx(100 * 2 / 6.3)  # 31.746…
    # values 6.3, 5.3, 4.3 on sessions 1, 2, 3: slope -1, negated for pain
    assert p["improvement_per_session"] == pytest.approx(1.0)
    assert (p["baseline_session_number"], p["latest_session_number"], p["n_values"]) == (1, 3, 3)


@pytest.mark.parametrize(
    ("metric", "first", "last", "improvement", "responder", "worsened"),
    [
        # IEEE: 2.3 - 0.3 = 1.9999999999999998; rounded to 9 decimals it is 2
        ("pain", 2.3, 0.3, 2.0, True, False),
        ("pain", 0.3, 2.3, -2.0, False, True),  # exactly -MCID: worsened
        ("muscle_tone", 7.1, 5.1, 2.0, True, False),
        ("pain", 5.0, 3.5, 1.5, False, False),
        # mobility is oriented b - a: 4.1 - 2.1 = 1.9999999999999996 -> 2
        ("mobility", 2.1, 4.1, 2.0, True, False),
        ("mobility", 4.1, 2.1, -2.0, False, True),
    ],
)
def test_responder_and_worsened_at_exactly_mcid(
    wh, course, metric, first, last, improvement, responder, worsened
):
    course("A", [{metric: first}, {metric: last}])
    wh.rebuild()
    p = wh.progress("A", metric)
    assert p["improvement"] == improvement
    assert (p["responder"], p["worsened"]) == (responder, worsened)


def test_mcid_setting_moves_the_responder_edge(wh, course):
    course("A", [{"pain": 6.0}, {"pain": 4.5}])  # improvement 1.5
    wh.rebuild(mcid={"pain": 1.5, "muscle_tone": 2.0, "mobility": 2.0})
    assert wh.progress("A", "pain")["responder"] is True
    wh.rebuild()
    assert wh.progress("A", "pain")["responder"] is False


def test_mobility_orientation_and_possible(wh, course):
    course("A", [{"mobility": 3.0}, {"mobility": 5.0}, {"mobility": 8.0}])
    wh.rebuild()
    p = wh.progress("A", "mobility")
    assert p["improvement"] == 5.0  # b - a = 8 - 3
    assert p["pct_improvement"] == pytest.approx(100 * 5 / 7)  # possible = 10 - 3
    # x = 1,2,3; y = 3,5,8: x̄ 2, ȳ 16/3; Sxy = (-1)(-7/3) + 0 + (1)(8/3) = 5; Sxx = 2
    assert p["improvement_per_session"] == pytest.approx(2.5)  # not negated for mobility


def test_pct_improvement_is_null_when_nothing_was_possible(wh, course):
    course("A", [{"pain": 0.0, "mobility": 10.0}, {"pain": 1.0, "mobility": 8.0}])
    wh.rebuild()
    pain, mob = wh.progress("A", "pain"), wh.progress("A", "mobility")
    assert (pain["improvement"], pain["pct_improvement"]) == (-1.0, None)  # possible = 0
    assert (mob["improvement"], mob["pct_improvement"]) == (-2.0, None)  # 10 - 10 = 0
    assert mob["worsened"] is True


def test_slope_over_sessions_with_values_only(wh, course):
    # pain at session numbers 1, 2, 4 (session 3 has no pain): 8, 6, 5
    course("A", [{"pain": 8.0}, {"pain": 6.0}, {"mobility": 5.0}, {"pain": 5.0}])
    wh.rebuild()
    p = wh.progress("A", "pain")
    # x̄ = 7/3, ȳ = 19/3; Sxx = 16/9 + 1/9 + 25/9 = 42/9
    # Sxy = (-4/3)(5/3) + (-1/3)(-1/3) + (5/3)(-4/3) = -39/9 -> slope -39/42, negated
    assert p["improvement_per_session"] == pytest.approx(39 / 42)
    assert (p["latest"], p["latest_session_number"], p["n_values"]) == (5.0, 4, 3)


def test_slope_needs_three_values(wh, course):
    course("A", [{"pain": 8.0}, {"pain": 6.0}])
    wh.rebuild()
    assert wh.progress("A", "pain")["improvement_per_session"] is None


def test_baseline_is_the_first_session_with_a_value(wh, course):
    course("A", [{"mobility": 4.0}, {"pain": 7.0}, {"pain": 6.0}])
    wh.rebuild()
    p = wh.progress("A", "pain")
    assert (p["baseline"], p["baseline_session_number"], p["latest"]) == (7.0, 2, 6.0)


def test_single_value_has_no_latest_and_a_metric_without_values_still_has_a_row(wh, course):
    course("A", [None, {"pain": 7.0}, None])
    wh.rebuild()
    p = wh.progress("A", "pain")
    assert (p["baseline"], p["latest"], p["improvement"]) == (7.0, None, None)
    assert (p["responder"], p["worsened"], p["pct_improvement"]) == (None, None, None)
    tone = wh.progress("A", "muscle_tone")  # never scored
    assert (tone["baseline"], tone["n_values"], tone["immediate_effect"]) == (None, 0, None)
    rows = wh.rows("SELECT metric FROM mart_course_progress WHERE course_id = 'A'")
    assert sorted(r[0] for r in rows) == ["mobility", "muscle_tone", "pain"]


def test_immediate_effect(wh, course):
    course(
        "A",
        pre=[{"pain": 6.0, "mobility": 3.0}, {"pain": 5.0}, {"pain": 4.0}],
        post=[{"pain": 4.0, "mobility": 5.0}, {"pain": 4.0}, None],
    )
    wh.rebuild()
    # pain: session 1: 6 -> 4 = +2; session 2: 5 -> 4 = +1; session 3 has no post: mean 1.5
    assert wh.progress("A", "pain")["immediate_effect"] == pytest.approx(1.5)
    # mobility: session 1 only: 3 -> 5 = +2 (b - a)
    assert wh.progress("A", "mobility")["immediate_effect"] == pytest.approx(2.0)
    assert wh.progress("A", "muscle_tone")["immediate_effect"] is None  # no post at all


def test_scores_of_sessions_that_are_not_completed_are_ignored(wh, course):
    course("A", [{"pain": 8.0}, {"pain": 6.0}])
    wh.session("X", START + dt.timedelta(days=3), course_id="A", status="cancelled")
    wh.score("X", "pre", pain=0.0)
    wh.score("X", "post", pain=0.0)
    wh.rebuild()
    p = wh.progress("A", "pain")
    assert (p["latest"], p["improvement"], p["n_values"]) == (6.0, 2.0, 2)
    assert p["immediate_effect"] is None
    assert p["sessions_completed"] == 2


# --- reliable change index ---------------------------------------------------------------------
def test_rci_and_reliable_improvement(wh, course):
    course("A", [{"pain": 8.0}, {"pain": 5.0}], client_id="C1")  # improvement 3
    course("B", [{"pain": 6.0}, {"pain": 4.0}], client_id="C2")  # improvement 2
    course("C", [{"pain": 4.0}], client_id="C3")  # a baseline only: counts for SD
    wh.rebuild()
    # baselines 8, 6, 4: mean 6, squares 4 + 0 + 4 = 8, / (3 - 1) = 4 -> SD 2
    # SE_diff = 2 × √2 × √(1 - 0.8) = 2 × √0.4 = 1.2649110640673518
    se = 2 * math.sqrt(2) * math.sqrt(0.2)
    a, b, c = wh.progress("A", "pain"), wh.progress("B", "pain"), wh.progress("C", "pain")
    assert a["rci"] == pytest.approx(3 / se)  # 2.3717…
    assert a["reliable_improvement"] is True  # >= 1.96
    assert b["rci"] == pytest.approx(2 / se)  # 1.5811…
    assert b["reliable_improvement"] is False
    assert (c["rci"], c["reliable_improvement"]) == (None, None)  # no improvement
    # r = 0.5: SE_diff = 2 × √2 × √0.5 = 2 -> rci 1.5; a lower threshold makes it reliable
    wh.rebuild(reliability={"pain": 0.5, "muscle_tone": 0.8, "mobility": 0.8}, rci_threshold=1.5)
    a = wh.progress("A", "pain")
    assert a["rci"] == pytest.approx(1.5)
    assert a["reliable_improvement"] is True


def test_rci_is_null_when_baselines_do_not_vary(wh, course):
    course("A", [{"pain": 5.0}, {"pain": 2.0}], client_id="C1")
    course("B", [{"pain": 5.0}, {"pain": 4.0}], client_id="C2")  # SD of 5, 5 = 0
    wh.rebuild()
    assert wh.progress("A", "pain")["improvement"] == 3.0
    assert wh.progress("A", "pain")["rci"] is None


def test_rci_is_null_with_fewer_than_two_baselines(wh, course):
    course("A", [{"pain": 9.0}, {"pain": 2.0}])
    wh.rebuild()
    p = wh.progress("A", "pain")
    assert (p["improvement"], p["rci"], p["reliable_improvement"]) == (7.0, None, None)


def test_the_baseline_spread_holds_every_piece_of_the_rci_and_progress_reads_it(wh, course):
    course("A", [{"pain": 8.0}, {"pain": 5.0}], client_id="C1")
    course("B", [{"pain": 6.0}, {"pain": 4.0}], client_id="C2")
    course("C", [{"pain": 4.0}], client_id="C3")
    wh.rebuild(reliability={"pain": 0.8, "muscle_tone": 0.7, "mobility": 0.9}, rci_threshold=1.5)
    spread = {
        r[0]: r[1:]
        for r in wh.rows(
            "SELECT metric, baseline_sd, baselines, reliability, se_diff, rci_threshold "
            "FROM mart_baseline_spread"
        )
    }
    # pain: baselines 8, 6, 4 -> SD 2; SE_diff = 2 × √2 × √(1 − 0.8)
    assert spread["pain"][:4] == (2.0, 3, 0.8, pytest.approx(2 * math.sqrt(2) * math.sqrt(0.2)))
    assert spread["pain"][4] == 1.5
    # no baseline for the other metrics: no spread, no SE_diff, but r is still stated
    assert spread["mobility"] == (None, 0, 0.9, None, 1.5)
    for course_id, metric, improvement, rci in wh.rows(
        "SELECT course_id, metric, improvement, rci FROM mart_course_progress"
    ):
        se_diff = spread[metric][3]
        expected = (
            None if improvement is None or se_diff is None else round(improvement / se_diff, 9)
        )
        assert rci == expected, (course_id, metric)


def test_rci_is_null_when_the_reliability_is_1(wh, course):
    course("A", [{"pain": 8.0}, {"pain": 5.0}], client_id="C1")
    course("B", [{"pain": 6.0}, {"pain": 4.0}], client_id="C2")
    wh.rebuild(reliability={"pain": 1.0, "muscle_tone": 0.8, "mobility": 0.8})
    p = wh.progress("A", "pain")
    assert (p["improvement"], p["rci"], p["reliable_improvement"]) == (3.0, None, None)
    assert wh.one("SELECT se_diff FROM mart_baseline_spread WHERE metric = 'pain'") is None
