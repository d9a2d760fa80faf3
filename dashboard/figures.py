"""Pure figure builders: a DataFrame in, a plotly Figure out (no I/O, no Dash).

Small groups (n < 10) are drawn like any other but carry "small n" in their label, so a
reader sees them and knows to read them with care.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from pipelines.settings import COHORTS

SMALL_N = 10
COHORT_COLOURS = {"athlete": "#1f77b4", "overweight": "#d62728", "other": "#2ca02c"}
METRIC_LABELS = {
    "pain": "Pain (0 none – 10 worst, lower is better)",
    "muscle_tone": "Muscle tone (0 none – 10 extreme, lower is better)",
    "mobility": "Mobility (0 cannot move – 10 freely, higher is better)",
}
_LAYOUT = {
    "template": "plotly_white",
    "margin": {"l": 60, "r": 20, "t": 50, "b": 50},
    "legend": {"orientation": "h", "y": -0.2},
}


@cache
def _resolved_template() -> dict:
    """plotly_white as a plain dict, resolved once (not at import: nothing loads then)."""
    import plotly.io as pio

    return pio.templates["plotly_white"].to_plotly_json()


def group_label(name: str, n: int) -> str:
    """'athlete (n=12)' or 'athlete (n=4, small n)'."""
    return f"{name} (n={n}, small n)" if n < SMALL_N else f"{name} (n={n})"


def _rgba(hex_colour: str, alpha: float) -> str:
    digits = hex_colour.lstrip("#")
    r, g, b = (int(digits[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def empty_figure(message: str) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(
        **_LAYOUT,
        xaxis={"visible": False},
        yaxis={"visible": False},
        annotations=[{"text": message, "showarrow": False, "font": {"size": 15}}],
    )
    return fig


def trajectory(points: pd.DataFrame, metric: str) -> go.Figure:
    """Mean pre score by session number per cohort, with its 95 % CI as a band.

    `points` columns: cohort, session_number, n, mean, ci_low, ci_high."""
    if points.empty:
        return empty_figure("No scores for this selection")
    fig = go.Figure()
    for cohort in [name for name in COHORTS if name in set(points["cohort"])]:
        part = points[points["cohort"] == cohort].sort_values("session_number")
        colour = COHORT_COLOURS.get(cohort, "#555555")
        label = group_label(cohort, int(part["n"].max()))
        band = part.dropna(subset=["ci_low", "ci_high"])
        if not band.empty:
            fig.add_trace(
                go.Scatter(
                    x=list(band["session_number"]) + list(band["session_number"])[::-1],
                    y=list(band["ci_high"]) + list(band["ci_low"])[::-1],
                    fill="toself",
                    fillcolor=_rgba(colour, 0.15),
                    line={"width": 0},
                    hoverinfo="skip",
                    name=f"{cohort} 95% CI",
                    legendgroup=cohort,
                    showlegend=False,
                )
            )
        fig.add_trace(
            go.Scatter(
                x=part["session_number"],
                y=part["mean"],
                mode="lines+markers",
                name=label,
                legendgroup=cohort,
                line={"color": colour},
                # open markers: points resting on fewer than SMALL_N courses
                marker={
                    "symbol": ["circle-open" if n < SMALL_N else "circle" for n in part["n"]],
                    "size": 8,
                },
                customdata=part[["n", "ci_low", "ci_high"]].to_numpy(),
                hovertemplate=(
                    "session %{x}<br>mean %{y:.2f}<br>n=%{customdata[0]}"
                    "<br>95% CI %{customdata[1]:.2f} – %{customdata[2]:.2f}<extra>"
                    + cohort
                    + "</extra>"
                ),
            )
        )
    fig.update_layout(
        **_LAYOUT,
        title=(
            f"Mean {metric.replace('_', ' ')} before each session (95% CI band;"
            f" open markers: n < {SMALL_N}, small n)"
        ),
        xaxis={"title": "session number in course", "dtick": 1, "range": [0.5, 15.5]},
        yaxis={"title": METRIC_LABELS.get(metric, metric), "range": [0, 10.2]},
    )
    return fig


def distribution(courses: pd.DataFrame, metric: str, mcid: float | None = None) -> go.Figure:
    """Improvement of completed courses per cohort (box + every course as a dot).

    `courses` columns: cohort, improvement."""
    if courses.empty:
        return empty_figure("No completed courses with an improvement for this selection")
    fig = go.Figure()
    for cohort in [name for name in COHORTS if name in set(courses["cohort"])]:
        values = courses.loc[courses["cohort"] == cohort, "improvement"]
        fig.add_trace(
            go.Box(
                y=values,
                name=group_label(cohort, len(values)),
                boxpoints="all",
                jitter=0.4,
                pointpos=0,
                marker={"color": COHORT_COLOURS.get(cohort, "#555555"), "size": 6},
                line={"color": COHORT_COLOURS.get(cohort, "#555555")},
            )
        )
    if mcid is not None:
        fig.add_hline(
            y=mcid,
            line_dash="dash",
            line_color="#444",
            annotation_text=f"MCID {mcid:g}",
            annotation_position="top left",
        )
    fig.add_hline(y=0, line_color="#999", line_width=1)
    fig.update_layout(
        **_LAYOUT,
        title=f"{metric.replace('_', ' ').capitalize()} improvement per completed course",
        yaxis={"title": "improvement (points, positive is better)"},
        showlegend=False,
    )
    return fig


ORIENTATION = {"pain": -1, "muscle_tone": -1, "mobility": 1}
"""+1 when a higher score is better (spec §4): a change from baseline c is the score
baseline + orientation × c."""
EXPECTED_COLOUR = "#8250df"


def expected_traces(expected: pd.DataFrame, metric: str, baseline: float) -> list[dict]:
    """The expected course (spec §7.5) as scores: the p25–p75 range shaded, the median
    dashed, p10 (below it: off track) as a line. Plain trace dicts (see client_trend)."""
    p10 = expected["expected_p10"].to_numpy(dtype=float)
    banded = ~np.isnan(p10)
    if not banded.any():
        return []
    x = expected["session_number"].to_numpy()[banded]

    def score(column: str) -> np.ndarray:  # numpy: pandas ops cost ~1 ms each here
        return baseline + ORIENTATION[metric] * expected[column].to_numpy(dtype=float)[banded]

    line = {"color": EXPECTED_COLOUR, "width": 1}
    return [
        {"type": "scatter", "x": x, "y": score("expected_p25"), "mode": "lines",
         "line": {**line, "width": 0}, "hoverinfo": "skip", "showlegend": False,
         "legendgroup": "expected"},
        {"type": "scatter", "x": x, "y": score("expected_p75"), "mode": "lines",
         "line": {**line, "width": 0}, "fill": "tonexty",
         "fillcolor": "rgba(130,80,223,0.15)", "name": "expected (middle half)",
         "legendgroup": "expected", "hoverinfo": "skip"},
        {"type": "scatter", "x": x, "y": score("expected_median"), "mode": "lines",
         "line": {**line, "dash": "dash"}, "name": "expected median",
         "legendgroup": "expected"},
        {"type": "scatter", "x": x, "y": score("expected_p10"), "mode": "lines",
         "line": {**line, "dash": "dot", "width": 1.5}, "name": "off-track line (p10)",
         "legendgroup": "expected"},
    ]  # fmt: skip


def client_trend(
    sessions: pd.DataFrame,
    metric: str,
    baseline: float | None,
    mcid: float,
    expected: pd.DataFrame | None = None,
) -> go.Figure | dict:
    """One client's pre (line) and post (dots) scores per session of the course, with the
    baseline and the band within one MCID of it (changes inside it are not clinically
    important), and for a course in progress its expected course (`expected`: the
    course_expectations rows of this metric). Shapes are given as plain dicts rather than
    through add_hline/add_hrect, which are slow (docs/performance.md) for a figure drawn
    three times per client page. Returns a plain figure dict (what dcc.Graph takes; a
    go.Figure only for the "no scores yet" message)."""
    pre, post = sessions.get(f"pre_{metric}"), sessions.get(f"post_{metric}")
    if pre is None or (pre.isna().all() and (post is None or post.isna().all())):
        return empty_figure(f"No {metric.replace('_', ' ')} scores in this course yet")
    shapes: list[dict] = []
    notes: list[dict] = []
    has_baseline = baseline is not None and not (
        isinstance(baseline, float) and math.isnan(baseline)
    )
    if has_baseline:
        low, high = max(0.0, baseline - mcid), min(10.0, baseline + mcid)
        paper_x = {"xref": "paper", "x0": 0, "x1": 1, "yref": "y"}
        shapes = [
            {"type": "rect", **paper_x, "y0": low, "y1": high,
             "fillcolor": "rgba(120,120,120,0.12)", "line": {"width": 0}, "layer": "below"},
            {"type": "line", **paper_x, "y0": baseline, "y1": baseline,
             "line": {"dash": "dash", "color": "#555"}},
        ]  # fmt: skip
        notes = [
            {"xref": "paper", "x": 0, "y": high, "yref": "y", "showarrow": False,
             "xanchor": "left", "yanchor": "top", "text": f"within MCID ±{mcid:g} of baseline"},
            {"xref": "paper", "x": 1, "y": baseline, "yref": "y", "showarrow": False,
             "xanchor": "right", "yanchor": "top", "text": f"baseline {baseline:g}"},
        ]  # fmt: skip
    traces: list = []
    if expected is not None and has_baseline:
        traces += expected_traces(expected, metric, float(baseline))
    x = sessions["session_number"].to_numpy()
    traces.append(
        {"type": "scatter", "x": x, "y": pre.to_numpy(), "mode": "lines+markers",
         "name": "before session", "line": {"color": "#1f77b4"}, "connectgaps": True}
    )  # fmt: skip
    if post is not None and post.notna().any():
        traces.append(
            {"type": "scatter", "x": x, "y": post.to_numpy(), "mode": "markers",
             "name": "after session",
             "marker": {"color": "#ff7f0e", "symbol": "diamond", "size": 9}}
        )  # fmt: skip
    # A plain figure dict (what dcc.Graph takes), with the template already resolved: the
    # Figure class validates and deep-copies its layout, template included, which was most
    # of the time of each of the client page's three figures (docs/performance.md), and that
    # page must feel instant; the dicts above are fixed and covered by
    # tests/dashboard/test_figures.py and the browser tests.
    return {
        "data": traces,
        "layout": {
            **_LAYOUT,
            "template": _resolved_template(),
            "title": {"text": METRIC_LABELS.get(metric, metric)},
            # the expected course's three legend entries take a second legend row
            "height": 380 if len(traces) > 2 else 320,
            "legend": {"orientation": "h", "y": -0.3 if len(traces) > 2 else -0.2},
            "xaxis": {"title": {"text": "session"}, "dtick": 1},
            "yaxis": {"title": {"text": "score"}, "range": [0, 10.2]},
            "shapes": shapes,
            "annotations": notes,
        },
    }


def weekly_sessions(weeks: pd.DataFrame) -> go.Figure:
    """Completed sessions per week. `weeks` columns: week, sessions."""
    if weeks.empty:
        return empty_figure("No completed sessions yet")
    fig = go.Figure(go.Bar(x=weeks["week"], y=weeks["sessions"], marker_color="#1f77b4"))
    fig.update_layout(
        **_LAYOUT,
        title="Completed sessions per week",
        height=320,
        xaxis={"title": "week starting"},
        yaxis={"title": "sessions"},
    )
    return fig
