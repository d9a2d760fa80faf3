"""Client ("/client"): one client's course at a glance, for the therapist before a session.

`/client?client_id=C001` opens a client directly (links from other pages)."""

from __future__ import annotations

import dash
from dash import Input, Output, State, callback, dcc, html
from dash.exceptions import PreventUpdate

from dashboard import client_view, data, ids

dash.register_page(__name__, path="/client", name="Client", title="Client · outcomes", order=2)


def _option(row) -> dict:
    label = f"{row.client_id} · {row.name}" if row.name else row.client_id
    return {"label": f"{label} ({row.cohort})", "value": row.client_id}


def layout(client_id: str | None = None, **_query: str) -> html.Div:
    options = [{"label": client_id, "value": client_id}] if client_id else []
    return html.Div(
        [
            html.H1("Client"),
            dcc.Dropdown(
                id=ids.CLIENT_SEARCH,
                options=options,
                value=client_id,
                placeholder="Type a client id or name…",
                searchable=True,
                clearable=True,
                className="client-search",
            ),
            dcc.Loading(html.Div(id=ids.CLIENT_DETAIL)),
        ]
    )


@callback(
    Output(ids.CLIENT_SEARCH, "options"),
    Input(ids.CLIENT_SEARCH, "search_value"),
    State(ids.CLIENT_SEARCH, "value"),
    State(ids.CLIENT_SEARCH, "options"),
)
def suggest(search: str | None, value: str | None, current: list | None):
    """Typeahead: up to 20 clients matching the typed text (the chosen one stays listed)."""
    if not search:
        raise PreventUpdate
    try:
        found = data.search_clients(search, limit=20)
    except data.WarehouseUnavailable:
        return []
    options = [_option(r) for r in found.itertuples()]
    kept = [
        o for o in (current or []) if o["value"] == value and value not in found["client_id"].values
    ]
    return kept + options


@callback(Output(ids.CLIENT_DETAIL, "children"), Input(ids.CLIENT_SEARCH, "value"))
def show(client_id: str | None):
    return client_view.render(client_id)
