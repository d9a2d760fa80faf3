"""SQL console ("/sql"): read-only queries over the analyst views, for analysts.

Guards and limits live in dashboard.sql_console; this page only shows results.
Owners query the §6 views; the analyst role only the analysts' copy, a file of its own that
holds pseudonymised data alone (no names, birth dates or real ids). Therapists have no
console. Every query is audited."""

from __future__ import annotations

import hashlib

import dash
from dash import Input, Output, State, callback, dcc, html
from dash.exceptions import PreventUpdate

from dashboard import auth, data, ids
from dashboard.components import column_defs, grid, guarded
from dashboard.sql_console import QueryRefused, QueryResult, run_query, strip_comments, to_records
from pipelines.csv_safe import neutralise

ROLES = ("owner", "analyst")  # therapists have no console
dash.register_page(__name__, path="/sql", name="SQL", title="SQL · outcomes", order=5, roles=ROLES)

EXAMPLE = """SELECT cohort, metric, courses_completed AS n, mean_improvement, responder_rate
FROM cohort_outcomes
ORDER BY cohort, metric"""


def _surface() -> str:
    """Where the signed-in user's queries run (dashboard.sql_console): "analyst", the
    analysts' pseudonymised copy, or "main", the warehouse's §6 views."""
    return "analyst" if auth.role() == "analyst" else "main"


def _view_browser() -> html.Div:
    """The views a query may name, each unfolding into its columns and their meaning."""
    analyst = _surface() == "analyst"
    columns = data.analyst_copy_columns() if analyst else data.view_columns()
    items = []
    for view, view_columns in columns.groupby("view", sort=False):
        items.append(
            html.Details(
                [
                    html.Summary(view),
                    html.Ul(
                        [
                            html.Li(
                                [
                                    html.Code(column.column),
                                    f" {column.type}",
                                    html.Span(
                                        f" — {column.comment}" if column.comment else "",
                                        className="muted",
                                    ),
                                ]
                            )
                            for column in view_columns.itertuples()
                        ]
                    ),
                ]
            )  # fmt: skip
        )
    title = "Pseudonymised views" if analyst else "Views"
    return html.Div([html.H3(title), *items], id=ids.SQL_VIEW_BROWSER, className="view-browser")


@auth.page_roles(*ROLES)
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
            dcc.Loading(grid(ids.SQL_GRID, data.view_columns().head(0), height="420px")),
        ],
        className="sql-main",
    )
    over = (
        "the pseudonymised analyst views (ids are keyed hashes; no names or birth dates)"
        if _surface() == "analyst"
        else "the analyst views"
    )
    return html.Div(
        [html.H1("SQL console"),
         html.P(f"One read-only SELECT over {over}. Results are capped and "
                "long queries are stopped (settings sql_row_cap, sql_timeout_s).",
                className="muted"),
         html.Div([editor, _view_browser()], className="sql-layout")]
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
@auth.callback_roles(*ROLES)
def run(_clicks: int, sql: str | None):
    result = _run(sql)
    if isinstance(result, QueryRefused):
        return [], [], result.message, "sql-message error"
    tone = "warn" if result.truncated else "ok"
    return to_records(result.rows), column_defs(result.rows), result.message, f"sql-message {tone}"


@callback(
    Output(ids.SQL_DOWNLOAD, "data"),
    Output(ids.SQL_MESSAGE, "children", allow_duplicate=True),
    Input(ids.SQL_DOWNLOAD_BUTTON, "n_clicks"),
    State(ids.SQL_INPUT, "value"),
    prevent_initial_call=True,
)
@auth.callback_roles(*ROLES)
def download(clicks: int, sql: str | None):
    """CSV of the query (re-run with the same guards), formula-like cells neutralised."""
    if not clicks:
        raise PreventUpdate
    result = _run(sql, "sql_download")
    if isinstance(result, QueryRefused):
        return None, result.message
    csv = neutralise(result.rows).to_csv(index=False)
    return dcc.send_string(csv, "query.csv", type="text/csv"), result.message


def audit_record(sql: str) -> str:
    """What the audit keeps of a query: the sha256 and length of the text as sent (which
    identify it exactly) and, in full, the statement as run_query runs it, comments replaced
    by spaces, so no amount of comment text can push the statement out of the record."""
    digest = hashlib.sha256(sql.encode()).hexdigest()
    return f"sha256 {digest}, {len(sql):,} characters sent\n{strip_comments(sql)}"


def _run(sql: str | None, event: str = "sql_run") -> QueryResult | QueryRefused:
    """Run the query on the user's surface and record it (and how it ended) in the audit."""
    surface, sql = _surface(), sql or ""
    try:
        result = run_query(data.current().path, sql, surface=surface)
    except QueryRefused as exc:
        auth.audit(event, f"[{surface}] refused: {exc.message}; {audit_record(sql)}")
        return exc
    auth.audit(event, f"[{surface}] {result.message}; {audit_record(sql)}")
    return result
