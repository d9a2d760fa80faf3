"""Cohorts ("/cohorts"): how athletes, overweight and other clients progress, for the
clinical lead. Filters: metric, course start date range, therapist."""

from __future__ import annotations

import datetime as dt

import dash
import pandas as pd
from dash import Input, Output, callback, dcc, html

from dashboard import auth, data, figures, ids
from dashboard.components import Metric, fmt_ci, fmt_num, fmt_pct, guarded, metric_dropdown, table
from pipelines.settings import get_settings

ROLES = ("owner", "therapist", "analyst")
dash.register_page(
    __name__, path="/cohorts", name="Cohorts", title="Cohorts · outcomes", order=1, roles=ROLES
)


@auth.page_roles(*ROLES)
@guarded
def layout(**_query: str) -> html.Div:
    opts = data.filter_options()
    if auth.role() == "analyst":  # no names and no real ids: pseudonyms, as in their SQL
        pseudonyms = data.therapist_pseudonyms()
        shown = [pseudonyms.get(t) for t in opts["therapists"]["therapist_id"]]
        therapists = [{"label": p, "value": p} for p in shown if p]
    else:
        therapists = [
            {"label": f"{r.therapist_id} {r.name or ''}".strip(), "value": r.therapist_id}
            for r in opts["therapists"].itertuples()
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
                                start_date=opts["date_min"],
                                end_date=opts["date_max"],
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
                f"{r.completed} / {r.dropped_out} / {r.in_progress}" for r in rates.itertuples()
            ],
            "completion rate": rates["completion_rate"].map(fmt_pct),
            "dropout rate": rates["dropout_rate"].map(fmt_pct),
            "n (improvement)": [
                f"{r.n} (small n)" if r.small_n else str(r.n) for r in rates.itertuples()
            ],
            "mean improvement": [
                f"{fmt_num(r.mean_improvement)} ({fmt_ci(r.ci_low, r.ci_high)})"
                for r in rates.itertuples()
            ],
            "responder rate": [
                f"{fmt_pct(r.responder_rate)} "
                f"({fmt_ci(r.responder_ci_low, r.responder_ci_high, pct=True)})"
                for r in rates.itertuples()
            ],
        }
    )
    return html.Div(
        [html.H2("Rates per cohort"), table(shown),
         html.P("Groups with n < 10 are marked small n: read their figures with care.",
                className="muted")]
    )  # fmt: skip


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
        by_pseudonym = {p: t for t, p in data.therapist_pseudonyms().items()}
        therapist = by_pseudonym.get(therapist, "(no such therapist)")
    flt = data.CourseFilter(_date(start), _date(end), therapist or None)
    try:
        result = data.cohort_page(metric or "pain", flt)
    except data.WarehouseUnavailable as exc:
        empty = figures.empty_figure(str(exc))
        return empty, empty, html.P(str(exc))
    mcid = get_settings().mcid.get(metric or "pain")
    return (
        figures.trajectory(result["trajectory"], metric),
        figures.distribution(result["distribution"], metric, mcid),
        _rates_table(result["rates"]),
    )
