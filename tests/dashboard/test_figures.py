"""Pure figure builders: DataFrames in, plotly figures out."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard import figures


def _traj() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "cohort": ["athlete"] * 3 + ["other"] * 2,
            "session_number": [1, 2, 3, 1, 2],
            "n": [12, 12, 11, 3, 2],
            "mean": [7.0, 6.0, 5.5, 6.0, 5.0],
            "ci_low": [6.0, 5.2, 4.6, float("nan"), 3.0],
            "ci_high": [8.0, 6.8, 6.4, float("nan"), 7.0],
        }
    )


def test_trajectory_has_lines_bands_and_small_n_labels():
    fig = figures.trajectory(_traj(), "pain")
    names = [t.name for t in fig.data]
    assert "athlete (n=12)" in names
    assert "other (n=3, small n)" in names  # small groups are shown and labelled
    bands = [t for t in fig.data if t.fill == "toself"]
    assert len(bands) == 2
    athlete_band = next(b for b in bands if b.legendgroup == "athlete")
    assert list(athlete_band.y) == [8.0, 6.8, 6.4, 4.6, 5.2, 6.0]  # upper then lower reversed
    other_band = next(b for b in bands if b.legendgroup == "other")
    assert list(other_band.x) == [2, 2]  # only the session with an interval
    assert "95% CI" in fig.layout.title.text


def test_trajectory_empty():
    fig = figures.trajectory(_traj().iloc[0:0], "pain")
    assert fig.layout.annotations[0].text == "No scores for this selection"


def test_distribution_boxes_and_mcid_line():
    df = pd.DataFrame({"cohort": ["athlete"] * 10 + ["overweight"] * 2,
                       "improvement": [2.0] * 10 + [1.0, 3.0]})  # fmt: skip
    fig = figures.distribution(df, "pain", mcid=2.0)
    assert [t.name for t in fig.data] == ["athlete (n=10)", "overweight (n=2, small n)"]
    assert list(fig.data[1].y) == [1.0, 3.0]
    assert any(s.y0 == 2.0 for s in fig.layout.shapes)


def test_client_trend_baseline_and_mcid_band():
    sessions = pd.DataFrame({"session_number": [1, 2, 3], "pre_pain": [7.0, None, 4.0],
                             "post_pain": [5.0, None, None]})  # fmt: skip
    fig = go.Figure(figures.client_trend(sessions, "pain", baseline=7.0, mcid=2.0))
    rect = next(s for s in fig.layout.shapes if s.type == "rect")
    assert (rect.y0, rect.y1) == (5.0, 9.0)
    assert any(s.type == "line" and s.y0 == 7.0 for s in fig.layout.shapes)
    assert [t.name for t in fig.data] == ["before session", "after session"]
    assert list(fig.data[0].x) == [1, 2, 3]
    clipped = go.Figure(figures.client_trend(sessions, "pain", baseline=9.5, mcid=2.0))
    assert next(s for s in clipped.layout.shapes if s.type == "rect").y1 == 10.0


def test_client_trend_without_scores():
    sessions = pd.DataFrame({"session_number": [1], "pre_mobility": [None],
                             "post_mobility": [None]})  # fmt: skip
    fig = go.Figure(figures.client_trend(sessions, "mobility", baseline=None, mcid=2.0))
    assert "No mobility scores" in fig.layout.annotations[0].text


def test_weekly_sessions():
    df = pd.DataFrame({"week": pd.to_datetime(["2026-08-31", "2026-09-07"]), "sessions": [3, 5]})
    fig = figures.weekly_sessions(df)
    assert list(fig.data[0].y) == [3, 5]
    assert figures.weekly_sessions(df.iloc[0:0]).layout.annotations
