"""Cohorts ("/cohorts"): how athletes, overweight and other clients progress, for the
clinical lead. Filters: metric, course start date range, therapist."""

from __future__ import annotations

import datetime as dt

import dash
import pandas as pd
from dash import Input, Output, callback, dcc, html

from dashboard import auth, data, fair_figures, figures, ids
from dashboard.components import Metric, fmt_ci, fmt_num, fmt_pct, guarded, metric_dropdown, table
from pipelines.settings import get_settings

ROLES = ("owner", "therapist", "analyst")
dash.register_page(
    __name__, path="/cohorts", name="Cohorts", title="Cohorts · outcomes", order=1, roles=ROLES
)


@auth.page_roles(*ROLES)
@guarded
def layout(**_query: str) -> html.Div:
    options = data.filter_options()
    if auth.role() == "analyst":  # no names and no real ids: pseudonyms, as in their SQL
        pseudonyms = data.therapist_pseudonyms()
        shown = [pseudonyms.get(therapist) for therapist in options["therapists"]["therapist_id"]]
        therapists = [{"label": pseudonym, "value": pseudonym} for pseudonym in shown if pseudonym]
    else:
        therapists = [
            {"label": f"{row.therapist_id} {row.name or ''}".strip(), "value": row.therapist_id}
            for row in options["therapists"].itertuples()
        ]
    return html.Div(
        [
            html.H1("Cohorts"),
            html.Div(
                [
                    html.Label(
                        [
                            "Metric",
                            metric_dropdown(ids.COHORT_METRIC),
                        ]
                    ),
                    html.Label(
                        [
                            "Courses starting between",
                            dcc.DatePickerRange(
                                id=ids.COHORT_DATES,
                                start_date=options["date_min"],
                                end_date=options["date_max"],
                                display_format="YYYY-MM-DD",
                                clearable=True,
                            ),
                        ]
                    ),
                    html.Label(
                        [
                            "Therapist (gave at least one session)",
                            dcc.Dropdown(
                                id=ids.COHORT_THERAPIST,
                                options=therapists,
                                placeholder="all therapists",
                            ),
                        ]
                    ),
                ],  # fmt: skip
                className="filters",
            ),
            dcc.Loading(
                [
                    dcc.Graph(id=ids.COHORT_TRAJECTORY, config={"displaylogo": False}),
                    dcc.Graph(id=ids.COHORT_DISTRIBUTION, config={"displaylogo": False}),
                    html.Div(id=ids.COHORT_RATES),
                ]
            ),
            html.H2("A fair comparison"),
            html.P(
                "Every course of the clinic (the date and therapist filters do not apply): "
                "completers beside intention to treat (every ended course; no later score "
                "counts as no change), and the mean improvement adjusted for case mix "
                f"({fair_figures.ADJUSTED_FOR}), so that cohorts starting from different "
                "places compare fairly.",
                className="muted",
            ),
            dcc.Loading(
                [
                    html.Div(id=ids.COHORT_FAIR_TABLE),
                    dcc.Graph(id=ids.COHORT_FOREST, config={"displaylogo": False}),
                    html.Div(id=ids.COHORT_FAIR_SENTENCES, className="sentences"),
                ]
            ),
        ]
    )


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value[:10]) if value else None


def _rates_table(rates: pd.DataFrame) -> html.Div:
    if rates.empty:
        return html.P("No courses for this selection.")
    shown = pd.DataFrame(
        {
            "cohort": rates["cohort"],
            "courses": rates["courses"],
            "completed / dropped out / in progress": [
                f"{row.completed} / {row.dropped_out} / {row.in_progress}"
                for row in rates.itertuples()
            ],
            "completion rate": rates["completion_rate"].map(fmt_pct),
            "dropout rate": rates["dropout_rate"].map(fmt_pct),
            "n (improvement)": [
                f"{row.n} (small n)" if row.small_n else str(row.n) for row in rates.itertuples()
            ],
            "mean improvement": [
                f"{fmt_num(row.mean_improvement)} ({fmt_ci(row.ci_low, row.ci_high)})"
                for row in rates.itertuples()
            ],
            "responder rate": [
                f"{fmt_pct(row.responder_rate)} "
                f"({fmt_ci(row.responder_ci_low, row.responder_ci_high, pct=True)})"
                for row in rates.itertuples()
            ],
        }
    )
    return html.Div(
        [html.H2("Rates per cohort"), table(shown),
         html.P("Groups with n < 10 are marked small n: read their figures with care.",
                className="muted")]
    )  # fmt: skip


def _fair_table(cohorts: pd.DataFrame) -> html.Div:
    if cohorts.empty:
        return html.P("No courses yet.")
    rows = cohorts.itertuples()
    shown = pd.DataFrame(
        [
            {
                "cohort": r.cohort,
                "completers n": r.courses_completed,
                "completers mean (95% CI)": f"{fmt_num(r.mean_improvement)} "
                f"({fmt_ci(r.ci95_low, r.ci95_high)})",
                "completers responders": fmt_pct(r.responder_rate),
                "ITT n": r.itt_courses,
                "ITT mean": fmt_num(r.itt_mean_improvement),
                "ITT responders": fmt_pct(r.itt_responder_rate),
                "no outcome": fmt_pct(r.missing_outcome_rate),
                "adjusted mean (95% CI)": f"{fmt_num(r.adjusted_mean_improvement)} "
                f"({fmt_ci(r.adjusted_ci95_low, r.adjusted_ci95_high)})",
            }
            for r in rows
        ]
    )
    return html.Div(table(shown))


@callback(
    Output(ids.COHORT_FAIR_TABLE, "children"),
    Output(ids.COHORT_FOREST, "figure"),
    Output(ids.COHORT_FAIR_SENTENCES, "children"),
    Input(ids.COHORT_METRIC, "value"),
)
@auth.callback_roles(*ROLES)
def update_fair(metric: Metric):
    metric = metric or "pain"
    try:
        cohorts = data.cohort_fairness(metric)
    except data.WarehouseUnavailable as exc:
        return html.P(str(exc)), figures.empty_figure(str(exc)), ""
    sentences = fair_figures.adjusted_sentences(cohorts, metric)
    return (
        _fair_table(cohorts),
        fair_figures.forest_plot(cohorts, metric),
        [html.P(sentence) for sentence in sentences],
    )


@callback(
    Output(ids.COHORT_TRAJECTORY, "figure"),
    Output(ids.COHORT_DISTRIBUTION, "figure"),
    Output(ids.COHORT_RATES, "children"),
    Input(ids.COHORT_METRIC, "value"),
    Input(ids.COHORT_DATES, "start_date"),
    Input(ids.COHORT_DATES, "end_date"),
    Input(ids.COHORT_THERAPIST, "value"),
)
@auth.callback_roles(*ROLES)
def update(metric: Metric, start: str | None, end: str | None, therapist: str | None):
    if therapist and auth.role() == "analyst":  # the analyst picked a pseudonym
        pseudonyms = data.therapist_pseudonyms().items()
        by_pseudonym = {pseudonym: therapist_id for therapist_id, pseudonym in pseudonyms}
        therapist = by_pseudonym.get(therapist, "(no such therapist)")
    course_filter = data.CourseFilter(_date(start), _date(end), therapist or None)
    try:
        result = data.cohort_page(metric or "pain", course_filter)
    except data.WarehouseUnavailable as exc:
        empty = figures.empty_figure(str(exc))
        return empty, empty, html.P(str(exc))
    mcid = get_settings().mcid.get(metric or "pain")
    return (
        figures.trajectory(result["trajectory"], metric),
        figures.distribution(result["distribution"], metric, mcid),
        _rates_table(result["rates"]),
    )
