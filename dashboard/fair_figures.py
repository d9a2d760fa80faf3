"""Pure builders of the fair comparisons' charts and sentences (spec §7): the cohorts'
forest plot of adjusted differences, the therapists' funnel plot, and the plain-words
sentences under them. DataFrames in (from dashboard.data.fair), figures and text out.

The visual language is figures.py's: the same layout, cohort colours and metric labels."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.figures import _LAYOUT, COHORT_COLOURS, METRIC_LABELS, empty_figure
from pipelines.warehouse.case_mix import Z_95, Z_998

COHORT_WORDS = {"athlete": "athletes", "overweight": "overweight clients", "other": "others"}
METRIC_WORDS = {"pain": "pain", "muscle_tone": "muscle tone", "mobility": "mobility"}
ADJUSTED_FOR = "baseline, age, sex and contraindications"
NO_MODEL = "Not enough courses to adjust"
FUNNEL_LIMITS = {"95 %": Z_95, "99.8 %": Z_998}
"""The funnel's control limits, the z the bands are cut at (spec §7.4: 1.96 and 3.09), so a
point outside a drawn limit is always in the band beyond it."""
BAND_COLOURS = {
    "high_99.8": "#1a7f37", "high_95": "#6cc47a", "within": "#6e7781",
    "low_95": "#e8912d", "low_99.8": "#cf222e", "small_n": "#c4c8cc",
}  # fmt: skip
BAND_WORDS = {
    "high_99.8": "above (99.8 %)", "high_95": "above (95 %)", "within": "as expected",
    "low_95": "below (95 %)", "low_99.8": "below (99.8 %)", "small_n": "under 5 courses",
}  # fmt: skip
"""The funnel's bands in words: above or below the clinic's mean beyond the 95 % or
99.8 % limit of a therapist's number of courses."""


def _points(value: float) -> str:
    return f"{abs(value):.2f}".rstrip("0").rstrip(".") if abs(value) < 10 else f"{abs(value):.1f}"


def _signed(value: float) -> str:
    return ("−" if value < 0 else "") + _points(value)


def adjusted_sentences(cohorts: pd.DataFrame, metric: str) -> list[str]:
    """One sentence per cohort compared with `other`, e.g. "After adjusting for baseline,
    age, sex and contraindications, athletes improve 0.4 points more in mobility than
    others (95 % CI 0.06 to 0.75)."; "Not enough courses to adjust …" without a model."""
    if cohorts.empty or cohorts["model_courses"].isna().all():
        return [f"{NO_MODEL} for {METRIC_WORDS[metric]}: the figures above are raw means."]
    out = []
    for row in cohorts.itertuples():
        if row.cohort == "other":
            continue
        who = COHORT_WORDS[row.cohort]
        if pd.isna(row.difference_vs_other):
            out.append(f"Too few completed courses of {who} to adjust (fewer than 5).")
            continue
        diff, low, high = row.difference_vs_other, row.difference_ci95_low, row.difference_ci95_high
        direction = "more" if diff >= 0 else "less"
        sentence = (
            f"After adjusting for {ADJUSTED_FOR}, {who} improve {_points(diff)} points "
            f"{direction} in {METRIC_WORDS[metric]} than others "
            f"(95 % CI {_signed(low)} to {_signed(high)})"
        )
        out.append(sentence + (": no clear difference." if low <= 0 <= high else "."))
    return out


def forest_plot(cohorts: pd.DataFrame, metric: str) -> go.Figure:
    """Each cohort's difference in mean improvement against `other`: adjusted (filled, with
    its 95 % interval) and raw (open, completers' means), around a zero line."""
    fitted = cohorts[cohorts["difference_vs_other"].notna()]
    if fitted.empty:
        return empty_figure(f"{NO_MODEL} for {METRIC_WORDS[metric]}")
    other = cohorts.loc[cohorts["cohort"] == "other", "mean_improvement"]
    raw_other = float(other.iloc[0]) if len(other) else math.nan
    labels = [f"{c} (n={n})" for c, n in zip(fitted["cohort"], fitted["courses_completed"],
                                               strict=True)]  # fmt: skip
    colours = [COHORT_COLOURS.get(c, "#555555") for c in fitted["cohort"]]
    diff = fitted["difference_vs_other"]
    adjusted = go.Scatter(
        x=diff, y=labels, mode="markers", name="adjusted for case mix (95 % CI)",
        marker={"color": colours, "size": 12, "symbol": "square"},
        error_x={"type": "data", "symmetric": False,
                 "array": fitted["difference_ci95_high"] - diff,
                 "arrayminus": diff - fitted["difference_ci95_low"]},
        hovertemplate="%{y}: %{x:.2f} points (adjusted)<extra></extra>",
    )  # fmt: skip
    raw = go.Scatter(
        x=fitted["mean_improvement"] - raw_other, y=labels, mode="markers",
        name="raw (completers' means)",
        marker={"color": colours, "size": 10, "symbol": "circle-open"},
        hovertemplate="%{y}: %{x:.2f} points (raw)<extra></extra>",
    )  # fmt: skip
    fig = go.Figure([adjusted, raw])
    fig.update_layout(
        **{**_LAYOUT, "legend": {"orientation": "h", "y": -0.45}},
        title={"text": f"{METRIC_LABELS.get(metric, metric)}: improvement against others"},
        height=300,
        xaxis={"title": {"text": "difference in mean improvement vs others (points)"},
               "zeroline": True, "zerolinewidth": 2, "zerolinecolor": "#555"},
        yaxis={"autorange": "reversed"},
    )  # fmt: skip
    return fig


def funnel_plot(
    therapists: pd.DataFrame, metric: str, labels: list[str] | None = None
) -> go.Figure:
    """Adjusted mean improvement (y) against courses led (x) per therapist, coloured by
    band, with the overall mean and the 95 % and 99.8 % limits mean ± z·σ/√n."""
    if therapists.empty:
        return empty_figure(f"{NO_MODEL} for {METRIC_WORDS[metric]}: no funnel")
    overall, sigma = float(therapists["overall_mean"].iloc[0]), float(therapists["sigma"].iloc[0])
    n = np.linspace(max(1.0, therapists["courses"].min() * 0.8), therapists["courses"].max() * 1.1,
                    60)  # fmt: skip
    traces: list[go.Scatter] = []
    for (name, z), dash in zip(FUNNEL_LIMITS.items(), ("dash", "dot"), strict=True):
        for sign in (1, -1):
            traces.append(go.Scatter(
                x=n, y=overall + sign * z * sigma / np.sqrt(n), mode="lines",
                line={"color": "#888", "dash": dash, "width": 1}, hoverinfo="skip",
                name=f"{name} limits", legendgroup=name, showlegend=sign == 1,
            ))  # fmt: skip
    traces.append(go.Scatter(
        x=[n[0], n[-1]], y=[overall, overall], mode="lines", name="clinic mean",
        line={"color": "#333", "width": 1}, hoverinfo="skip",
    ))  # fmt: skip
    text = labels if labels is not None else list(therapists["therapist_id"])
    for band, part in therapists.groupby("funnel_band", sort=False):
        shown = [text[i] for i in part.index]
        traces.append(go.Scatter(
            x=part["courses"], y=part["adjusted_mean"], mode="markers+text", text=shown,
            textposition="top center", name=BAND_WORDS.get(band, band),
            marker={"color": BAND_COLOURS.get(band, "#555"), "size": 10,
                    "line": {"color": "#333", "width": 0.5}},
            hovertemplate="%{text}: %{y:.2f} points over %{x} courses<extra></extra>",
        ))  # fmt: skip
    fig = go.Figure(traces)
    fig.update_layout(
        **_LAYOUT,
        title={"text": f"{METRIC_LABELS.get(metric, metric)}: adjusted mean improvement"},
        height=420,
        xaxis={"title": {"text": "courses led"}},
        yaxis={"title": {"text": "adjusted mean improvement (points)"}},
    )
    return fig
