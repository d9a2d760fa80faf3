"""Therapists ("/therapists"): workload, outcomes, qualification and alerts per therapist,
for the clinic manager. A course's outcome counts for the therapist of its latest session."""

from __future__ import annotations

import dash
import pandas as pd
from dash import Input, Output, callback, html

from dashboard import auth, data, ids
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


def _shown(table: pd.DataFrame) -> pd.DataFrame:
    if table.empty:
        return table
    shown = pd.DataFrame(
        {
            "therapist": table["therapist_id"],
            "name": table["name"],
            "qualification": table["qualification_status"],
            "certificate": table["qualification"],
            "qualified until": table["qualified_until"].astype(str).str[:10].replace("NaT", ""),
            "body weight kg": table["body_weight_kg"],
            "sessions": table["sessions"],
            "courses": table["courses"],
            "n completed (outcome)": [
                f"{n} (small n)" if small else str(n)
                for n, small in zip(table["n"], table["small_n"], strict=True)
            ],
            "mean improvement": table["mean_improvement"].map(fmt_num),
            "95% CI": [
                fmt_ci(low, high)
                for low, high in zip(table["ci_low"], table["ci_high"], strict=True)
            ],
            "safety alerts": table["safety_alerts"],
            "protocol alerts": table["protocol_alerts"],
        }
    )
    if auth.role() == "analyst":  # no names, no real ids, no certificate numbers
        pseudonyms = data.therapist_pseudonyms()
        shown["therapist"] = [
            pseudonyms.get(therapist_id, "(pseudonym pending)")
            for therapist_id in shown["therapist"]
        ]
        shown = shown.drop(columns=["name", "certificate"])
    return shown


@auth.page_roles(*ROLES)
@guarded
def layout(**_query: str) -> html.Div:
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
                "Outcomes of completed courses, attributed to the therapist of the course's "
                "latest session. n < 10 is marked small n. Qualification status is relative "
                "to today.",
                className="muted",
            ),
            html.Div(grid(ids.THERAPIST_GRID, _shown(data.therapists_table("pain")))),
        ]
    )


@callback(Output(ids.THERAPIST_GRID, "rowData"), Input(ids.THERAPIST_METRIC, "value"),
          prevent_initial_call=True)  # fmt: skip
@auth.callback_roles(*ROLES)
def update(metric: Metric):
    from dashboard.sql_console import to_records

    return to_records(_shown(data.therapists_table(metric or "pain")))
