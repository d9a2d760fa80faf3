"""Data quality ("/quality"): loads, quarantine and Great Expectations results, for the
person who runs the loads."""

from __future__ import annotations

import dash
from dash import Input, Output, callback, dcc, html

from dashboard import auth, data, ids
from dashboard.components import GX_DOCS_ROUTE, grid, guarded
from dashboard.sql_console import to_records

ROLES = ("owner",)  # quarantine rows quote names
dash.register_page(
    __name__, path="/quality", name="Data quality", title="Quality · outcomes", order=4, roles=ROLES
)

ENTITIES = ("clients", "therapists", "sessions", "scores")


@auth.page_roles(*ROLES)
@guarded
def layout(**_query: str) -> html.Div:
    return html.Div(
        [
            html.H1("Data quality"),
            html.P(
                [
                    "Great Expectations Data Docs: ",
                    html.A("open", href=GX_DOCS_ROUTE, target="_blank", id=ids.QUALITY_DOCS_LINK),
                    " (validation reports of every load).",
                ]
            ),
            html.H2("Load runs"),
            grid(ids.QUALITY_RUNS, data.runs(), height="220px"),
            html.H2("Files (load log)"),
            grid(ids.QUALITY_LOAD_LOG, data.load_log(), height="260px"),
            html.H2("Quarantine (open rows)"),
            html.Div(
                [
                    dcc.Dropdown(
                        id=ids.QUALITY_Q_ENTITY, options=list(ENTITIES), placeholder="all entities"
                    ),  # fmt: skip
                    dcc.Input(
                        id=ids.QUALITY_Q_REASON,
                        type="text",
                        debounce=True,
                        placeholder="reason contains…",
                    ),  # fmt: skip
                ],
                className="filters",
            ),
            grid(ids.QUALITY_QUARANTINE, data.quarantine(), height="300px"),
            html.H2("Great Expectations results per run"),
            grid(ids.QUALITY_GX, data.gx_results(), height="300px"),
        ]
    )


@callback(
    Output(ids.QUALITY_QUARANTINE, "rowData"),
    Input(ids.QUALITY_Q_ENTITY, "value"),
    Input(ids.QUALITY_Q_REASON, "value"),
    prevent_initial_call=True,
)
@auth.callback_roles(*ROLES)
def filter_quarantine(entity: str | None, reason: str | None):
    return to_records(data.quarantine(entity, reason))
