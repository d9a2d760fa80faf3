"""Audit ("/audit", owners only): sign-ins (and failed ones), opened client pages and SQL
queries, newest first, from the users DB (setting users_db; docs/security.md)."""

from __future__ import annotations

import dash
import flask
import pandas as pd
from dash import html

from dashboard import auth, ids
from dashboard.components import grid
from pipelines.settings import get_settings

ROLES = ("owner",)
dash.register_page(
    __name__, path="/audit", name="Audit", title="Audit · outcomes", order=6, roles=ROLES
)

COLUMNS = ["at", "username", "ip", "event", "detail"]


def short_view(detail: str | None) -> str:
    """The first audit_page_detail_chars characters of a detail, whitespace runs as one
    space, and how much more there is (the store keeps it all)."""
    text = " ".join((detail or "").split())
    limit = get_settings().audit_page_detail_chars
    if len(text) <= limit:
        return text
    return f"{text[:limit]} … (+{len(text) - limit:,} characters in users_db)"


@auth.page_roles(*ROLES)
def layout(**_query: str) -> html.Div:
    limit = get_settings().audit_page_rows
    events = flask.current_app.extensions["outcomes_users"].audit_events(limit)
    df = pd.DataFrame(events, columns=COLUMNS)
    df["detail"] = df["detail"].map(short_view)
    return html.Div(
        [
            html.H1("Audit"),
            html.P(
                f"The latest {limit} events (setting audit_page_rows), newest first, times in "
                "UTC: sign-ins (login_ok, login_failed, login_refused = rate limit), sign-outs, "
                "client pages opened or refused, SQL queries with their outcome.",
                className="muted",
            ),
            grid(ids.AUDIT_GRID, df, height="600px"),
        ]
    )
