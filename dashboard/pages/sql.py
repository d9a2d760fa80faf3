"""SQL console ("/sql"): read-only queries over the analyst views, for analysts.

Guards and limits live in dashboard.sql_console; this page only shows results."""

from __future__ import annotations

import dash
from dash import Input, Output, State, callback, dcc, html
from dash.exceptions import PreventUpdate

from dashboard import data, ids
from dashboard.components import column_defs, grid, guarded
from dashboard.csv_safe import neutralise
from dashboard.sql_console import QueryRefused, run_query, to_records

dash.register_page(__name__, path="/sql", name="SQL", title="SQL · outcomes", order=5)

EXAMPLE = """SELECT cohort, metric, courses_completed AS n, mean_improvement, responder_rate
FROM cohort_outcomes
ORDER BY cohort, metric"""


def _schema_browser() -> html.Div:
    df = data.schema()
    items = []
    for view, cols in df.groupby("view", sort=False):
        items.append(
            html.Details(
                [
                    html.Summary(view),
                    html.Ul(
                        [
                            html.Li(
                                [
                                    html.Code(r.column),
                                    f" {r.type}",
                                    html.Span(
                                        f" — {r.comment}" if r.comment else "", className="muted"
                                    ),
                                ]
                            )
                            for r in cols.itertuples()
                        ]
                    ),
                ]
            )  # fmt: skip
        )
    return html.Div([html.H3("Views"), *items], id=ids.SQL_SCHEMA, className="schema")


@guarded
def layout(**_query: str) -> html.Div:
    editor = html.Div(
        [
            dcc.Textarea(
                id=ids.SQL_INPUT, value=EXAMPLE, className="sql-input", spellCheck=False
            ),  # fmt: skip
            html.Div(
                [
                    html.Button("Run", id=ids.SQL_RUN, n_clicks=0, className="primary"),
                    html.Button("Download CSV", id=ids.SQL_DOWNLOAD_BUTTON, n_clicks=0),
                    dcc.Download(id=ids.SQL_DOWNLOAD),
                ],
                className="buttons",
            ),  # fmt: skip
            html.Div(id=ids.SQL_MESSAGE, className="sql-message", role="status"),
            dcc.Loading(grid(ids.SQL_GRID, data.schema().head(0), height="420px")),
        ],
        className="sql-main",
    )
    return html.Div(
        [html.H1("SQL console"),
         html.P("One read-only SELECT over the analyst views. Results are capped and "
                "long queries are stopped (settings sql_row_cap, sql_timeout_s).",
                className="muted"),
         html.Div([editor, _schema_browser()], className="sql-layout")]
    )  # fmt: skip


@callback(
    Output(ids.SQL_GRID, "rowData"),
    Output(ids.SQL_GRID, "columnDefs"),
    Output(ids.SQL_MESSAGE, "children"),
    Output(ids.SQL_MESSAGE, "className"),
    Input(ids.SQL_RUN, "n_clicks"),
    State(ids.SQL_INPUT, "value"),
    prevent_initial_call=True,
)
def run(_clicks: int, sql: str | None):
    try:
        result = run_query(data.current_db(), sql or "")
    except QueryRefused as exc:
        return [], [], exc.message, "sql-message error"
    tone = "warn" if result.truncated else "ok"
    return to_records(result.rows), column_defs(result.rows), result.message, f"sql-message {tone}"


@callback(
    Output(ids.SQL_DOWNLOAD, "data"),
    Output(ids.SQL_MESSAGE, "children", allow_duplicate=True),
    Input(ids.SQL_DOWNLOAD_BUTTON, "n_clicks"),
    State(ids.SQL_INPUT, "value"),
    prevent_initial_call=True,
)
def download(clicks: int, sql: str | None):
    """CSV of the query (re-run with the same guards), formula-like cells neutralised."""
    if not clicks:
        raise PreventUpdate
    try:
        result = run_query(data.current_db(), sql or "")
    except QueryRefused as exc:
        return None, exc.message
    csv = neutralise(result.rows).to_csv(index=False)
    return dcc.send_string(csv, "query.csv", type="text/csv"), result.message
