"""The fair comparisons' charts and sentences (dashboard/fair_figures.py), the expected band
of the client's charts and the off-track badge's session (dashboard/client_view.py): pure
builders checked against figures worked out by hand."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
import pytest

from dashboard import client_view, components, fair_figures, figures

NAN = float("nan")


def _cohorts(model: bool = True) -> pd.DataFrame:
    """cohort_fairness rows: athletes clearly better, overweight no clear difference."""
    return pd.DataFrame(
        {
            "cohort": ["athlete", "overweight", "other"],
            "courses_completed": [40, 30, 60],
            "mean_improvement": [2.5, 1.0, 1.5],
            "difference_vs_other": [0.4, -0.1, NAN] if model else [NAN] * 3,
            "difference_ci95_low": [0.06, -0.5, NAN] if model else [NAN] * 3,
            "difference_ci95_high": [0.75, 0.3, NAN] if model else [NAN] * 3,
            "model_courses": [130] * 3 if model else [NAN] * 3,
        }
    )


def test_a_sentence_per_cohort_an_owner_can_read():
    athlete, overweight = fair_figures.adjusted_sentences(_cohorts(), "mobility")
    assert athlete == (
        "After adjusting for baseline, age, sex and contraindications, athletes improve 0.4 "
        "points more in mobility than others (95 % CI 0.06 to 0.75)."
    )
    assert overweight.startswith(
        "After adjusting for baseline, age, sex and contraindications, overweight clients"
        " improve 0.1 points less in mobility"
    )
    assert overweight.endswith("(95 % CI −0.5 to 0.3): no clear difference.")


def test_without_a_model_the_sentence_says_so_and_the_forest_is_empty():
    assert fair_figures.adjusted_sentences(_cohorts(model=False), "pain") == [
        "Not enough courses to adjust for pain: the figures above are raw means."
    ]
    figure = fair_figures.forest_plot(_cohorts(model=False), "pain")
    assert figure.data == () and "Not enough courses to adjust" in figure.layout.annotations[0].text


def test_a_cohort_left_out_of_the_model_is_named():
    cohorts = _cohorts()
    cohorts.loc[1, ["difference_vs_other", "difference_ci95_low", "difference_ci95_high"]] = NAN
    assert fair_figures.adjusted_sentences(cohorts, "pain")[1] == (
        "Too few completed courses of overweight clients to adjust (fewer than 5)."
    )


def test_the_forest_plot_draws_adjusted_differences_with_intervals_beside_the_raw_ones():
    adjusted, raw = fair_figures.forest_plot(_cohorts(), "mobility").data
    assert list(adjusted.y) == ["athlete (n=40)", "overweight (n=30)"]
    assert list(adjusted.x) == [0.4, -0.1]
    assert list(adjusted.error_x.array) == pytest.approx([0.35, 0.4])  # high − estimate
    assert list(adjusted.error_x.arrayminus) == pytest.approx([0.34, 0.4])
    assert list(raw.x) == [1.0, -0.5]  # completers' means minus other's 1.5


def _funnel() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "therapist_id": ["T1", "T2", "T3"],
            "courses": [4, 25, 100],
            "adjusted_mean": [1.0, 2.9, 1.9],
            "funnel_band": ["small_n", "high_99.8", "within"],
            "overall_mean": [2.0] * 3,
            "sigma": [1.5] * 3,
        }
    )


def test_the_funnels_limits_are_the_mean_plus_minus_z_sigma_over_root_n():
    figure = fair_figures.funnel_plot(_funnel(), "pain")
    limits = {(t.name, t.y[0] > 2): t for t in figure.data if t.name.endswith("limits")}
    upper95 = next(t for (name, up), t in limits.items() if name == "95 % limits" and up)
    lower998 = [t for t in figure.data if t.name == "99.8 % limits"][1]
    n = upper95.x[10]
    assert upper95.y[10] == pytest.approx(2.0 + 1.96 * 1.5 / math.sqrt(n))
    assert lower998.y[10] == pytest.approx(2.0 - 3.09 * 1.5 / math.sqrt(lower998.x[10]))
    # at n = 25 the 99.8 % limit is 2 + 3.09 × 1.5 / 5 = 2.93: T2's 2.9 sits just inside it
    assert pytest.approx(2.927, abs=1e-3) == 2.0 + 3.090232 * 1.5 / 5
    points = {t.name: t for t in figure.data if t.mode == "markers+text"}
    assert list(points["above (99.8 %)"].text) == ["T2"]
    assert list(points["under 5 courses"].x) == [4]
    assert [t.y for t in figure.data if t.name == "clinic mean"][0] == (2.0, 2.0)


def test_the_funnel_takes_the_labels_it_is_given():
    figure = fair_figures.funnel_plot(_funnel(), "pain", ["a", "b", "c"])
    assert sorted(x for t in figure.data if t.mode == "markers+text" for x in t.text) == list("abc")


def _expected(metric: str, flags: list[bool]) -> pd.DataFrame:
    k = list(range(1, len(flags) + 1))
    return pd.DataFrame(
        {
            "metric": metric, "session_number": k, "off_track": flags,
            "expected_p10": [0.5] * len(k), "expected_p25": [1.0] * len(k),
            "expected_median": [2.0] * len(k), "expected_p75": [3.0] * len(k),
        }
    )  # fmt: skip


def test_off_track_since_is_the_start_of_the_trailing_run():
    expected = pd.concat(
        [
            _expected("pain", [False, False, False, True, False, True, True]),
            _expected("mobility", [False, False, False, True]),
            _expected("muscle_tone", [False, False, False, True, False]),  # back on track
        ]
    )
    assert client_view.off_track_since(expected) == {"pain": 6, "mobility": 4}


def test_the_expected_band_is_drawn_in_scores_oriented_per_metric():
    traces = figures.expected_traces(_expected("pain", [False] * 3), "pain", baseline=7.0)
    p25, p75, median, p10 = (t["y"] for t in traces)
    assert (p25[0], p75[0], median[0], p10[0]) == (6.0, 4.0, 5.0, 6.5)  # pain: 7 − change
    assert traces[1]["fill"] == "tonexty" and traces[2]["line"]["dash"] == "dash"
    mobility = figures.expected_traces(_expected("mobility", [False]), "mobility", 3.0)
    assert [t["y"][0] for t in mobility] == [4.0, 6.0, 5.0, 3.5]  # mobility: 3 + change


def test_a_course_with_no_band_draws_no_expected_course():
    none = _expected("pain", [False] * 2).assign(expected_p10=NAN)
    sessions = pd.DataFrame({"session_number": [1, 2], "pre_pain": [7.0, 6.0]})
    figure = go.Figure(figures.client_trend(sessions, "pain", 7.0, 2.0, none))
    assert [t.name for t in figure.data] == ["before session"]


def test_earlier_courses_improvements_are_signed():
    assert [components.fmt_signed(v) for v in (1.5, -2.0, NAN, None)] == ["+1.5", "−2", "—", "—"]
