"""Therapists ("/therapists"): workload, outcomes, qualification and alerts per therapist,
for the clinic manager. The funnel plot compares each lead therapist's case-mix adjusted
mean with the clinic's (spec §7.4); the table keeps the raw figures (a course's outcome for
the therapist of its latest session) beside the band, sorted by therapist, never by mean."""

from __future__ import annotations

import dash
import pandas as pd
from dash import Input, Output, callback, dcc, html

from dashboard import auth, data, fair_figures, ids
from dashboard.components import Metric, fmt_ci, fmt_num, grid, guarded, metric_dropdown

ROLES = ("owner", "therapist", "analyst")
dash.register_page(
    __name__,
    path="/therapists",
    name="Therapists",
    title="Therapists · outcomes",
    order=3,
    roles=ROLES,
)


def _labels(therapist_ids: pd.Series, pseudonyms: dict[str, str] | None) -> list[str]:
    """Therapist ids as shown: the ids, or for an analyst (`pseudonyms` given) their
    pseudonyms, as in their SQL."""
    if pseudonyms is None:
        return list(therapist_ids)
    return [pseudonyms.get(t, "(pseudonym pending)") for t in therapist_ids]


def _shown(
    table: pd.DataFrame, funnel: pd.DataFrame, pseudonyms: dict[str, str] | None
) -> pd.DataFrame:
    """The table's columns, outcomes first (visible on a 1280 px screen), then the band of
    the funnel plot, qualification, workload and alerts."""
    if table.empty:
        return table
    fair = funnel.set_index("therapist_id") if len(funnel) else None

    def fair_column(name: str) -> pd.Series:
        if fair is None:
            return pd.Series([None] * len(table), index=table.index)
        return table["therapist_id"].map(fair[name])

    band = fair_column("funnel_band").map(lambda b: fair_figures.BAND_WORDS.get(b, "no model"))
    shown = pd.DataFrame(
        {
            "therapist": table["therapist_id"],
            "name": table["name"],
            "n (outcome)": [
                f"{n} (small n)" if small else str(n)
                for n, small in zip(table["n"], table["small_n"], strict=True)
            ],
            "mean improvement": table["mean_improvement"].map(fmt_num),
            "95% CI": [
                fmt_ci(low, high)
                for low, high in zip(table["ci_low"], table["ci_high"], strict=True)
            ],
            "courses led": fair_column("courses").map(lambda n: "" if pd.isna(n) else str(int(n))),
            "adjusted mean": fair_column("adjusted_mean").map(fmt_num),
            "band": band,
            "qualification": table["qualification_status"],
            "certificate": table["qualification"],
            "qualified until": table["qualified_until"].astype(str).str[:10].replace("NaT", ""),
            "body weight kg": table["body_weight_kg"],
            "sessions": table["sessions"],
            "courses": table["courses"],
            "safety alerts": table["safety_alerts"],
            "protocol alerts": table["protocol_alerts"],
        }
    )
    if pseudonyms is not None:  # an analyst: no names, no real ids, no certificate numbers
        shown["therapist"] = _labels(shown["therapist"], pseudonyms)
        shown = shown.drop(columns=["name", "certificate"])
    return shown


def _page_figures(metric: str) -> tuple[pd.DataFrame, object]:
    """The table and the funnel plot of `metric` (the pseudonyms read once for both)."""
    pseudonyms = data.therapist_pseudonyms() if auth.role() == "analyst" else None
    funnel = data.therapist_funnel(metric)
    table = _shown(data.therapists_table(metric), funnel, pseudonyms)
    plot = fair_figures.funnel_plot(funnel, metric, _labels(funnel["therapist_id"], pseudonyms))
    return table, plot


@auth.page_roles(*ROLES)
@guarded
def layout(**_query: str) -> html.Div:
    shown, funnel = _page_figures("pain")
    return html.Div(
        [
            html.H1("Therapists"),
            html.Label(
                [
                    "Outcome metric",
                    metric_dropdown(ids.THERAPIST_METRIC),
                ],
                className="narrow",
            ),  # fmt: skip
            html.P(
                "Each lead therapist's mean improvement after adjusting for case mix "
                f"({fair_figures.ADJUSTED_FOR}), against the number of courses they led. "
                "Points between the limits are as expected; a small practice scatters more, "
                "so the limits widen to the left.",
                className="muted",
            ),
            dcc.Graph(id=ids.THERAPIST_FUNNEL, figure=funnel, config={"displaylogo": False}),
            html.P(
                "Table: raw outcomes of completed courses, attributed to the therapist of the "
                "course's latest session (n < 10 is marked small n), beside the funnel's band "
                "for the courses each therapist led. Qualification status is relative to today.",
                className="muted",
            ),
            html.Div(grid(ids.THERAPIST_GRID, shown)),
        ]
    )


@callback(
    Output(ids.THERAPIST_GRID, "rowData"),
    Output(ids.THERAPIST_FUNNEL, "figure"),
    Input(ids.THERAPIST_METRIC, "value"),
    prevent_initial_call=True,
)
@auth.callback_roles(*ROLES)
def update(metric: Metric):
    from dashboard.sql_console import to_records

    shown, funnel = _page_figures(metric or "pain")
    return to_records(shown), funnel
