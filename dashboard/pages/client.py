"""Client ("/client"): one client's course at a glance, for the therapist before a session.

`/client?client_id=C001` opens a client directly (links from other pages).

Roles: owners open every client; therapists only their own clients (at least one session
with them: data.own_client), checked in the callbacks, so a crafted request for another
client gets "not allowed" and nothing of the client; analysts never reach this page.
Every opened (or refused) client is recorded in the audit trail."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, callback, dcc, html
from dash.exceptions import PreventUpdate

from dashboard import auth, client_view, data, ids

ROLES = ("owner", "therapist")  # analysts never see a client
dash.register_page(
    __name__, path="/client", name="Client", title="Client · outcomes", order=2, roles=ROLES
)


def _option(client: Any) -> dict[str, str]:
    label = f"{client.client_id} · {client.name}" if client.name else client.client_id
    return {"label": f"{label} ({client.cohort})", "value": client.client_id}


@auth.page_roles(*ROLES)
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
@auth.callback_roles(*ROLES)
def suggest(search: str | None, value: str | None, current: list[dict[str, Any]] | None):
    """Typeahead: up to 20 clients matching the typed text (the chosen one stays listed);
    a therapist's suggestions are their own clients only."""
    if not search:
        raise PreventUpdate
    user = auth.current_user()
    try:
        if user is not None and user.role == "therapist":
            found = data.search_own_clients(search, user.therapist_id or "", limit=20)
        else:
            found = data.search_clients(search, limit=20)
    except data.WarehouseUnavailable:
        return []
    options = [_option(client) for client in found.itertuples()]
    kept = [
        option
        for option in (current or [])
        if option.get("value") == value and value not in found["client_id"].values
    ]
    return kept + options


@callback(Output(ids.CLIENT_DETAIL, "children"), Input(ids.CLIENT_SEARCH, "value"))
@auth.callback_roles(*ROLES)
def show(client_id: str | None):
    user = auth.current_user()
    if client_id and user is not None and user.role == "therapist":
        try:
            mine = data.own_client(client_id, user.therapist_id or "")
        except data.WarehouseUnavailable as exc:
            return [html.Div(str(exc), className="panel error")]
        if not mine:
            auth.audit("client_denied", client_id)
            return [
                html.Div(
                    "Not allowed: this client has no session with you "
                    f"(therapist {user.therapist_id}).",
                    id=ids.NOT_ALLOWED,
                    className="panel error not-allowed",
                    role="alert",
                )
            ]
    if client_id:
        auth.audit("client_opened", client_id)
    return client_view.render(client_id)
