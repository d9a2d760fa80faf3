"""The Dash app: `create_app(db_path)` builds it, `run(...)` serves it.

Nothing is read from the warehouse here; pages read through dashboard.data per request.
Every request needs a signed-in user (dashboard.auth); the navbar shows each role only the
pages it may open, and every page and callback checks the role again on the server.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import dash
from dash import dcc, html

from dashboard import auth, callback_guard, data, gx_docs, ids
from pipelines.settings import get_settings

PACKAGE_DIR = Path(__file__).resolve().parent


def navbar() -> html.Nav:
    """Links to the pages the signed-in user's role may open, who is signed in, sign-out."""
    user = auth.current_user()
    links = [  # the registry is in the pages' `order`
        dcc.Link(page["name"], href=page["relative_path"], className="nav-link")
        for page in dash.page_registry.values()
        if user is not None and user.role in page.get("roles", ())
    ]
    who = []
    if user is not None:
        who = [
            html.Span(f"{user.username} ({user.role})", className="who", id=ids.NAV_USER),
            html.Form(
                html.Button("Sign out", type="submit", className="signout", id=ids.NAV_SIGNOUT),
                method="POST",
                action=auth.LOGOUT_PATH,
            ),
        ]
    return html.Nav(
        [html.Span("Foot-massage outcomes", className="brand"), *links, *who],
        id=ids.NAVBAR,
        className="navbar",
    )


def shell() -> html.Div:
    """The app layout, built per request (the navbar depends on the user)."""
    return html.Div(
        [navbar(), html.Main(dash.page_container, id=ids.PAGE_CONTENT, className="content")]
    )


def create_app(db_path: Path | None = None) -> dash.Dash:
    """Build the app reading `db_path` (default: settings.db). Call once per process."""
    path = Path(db_path) if db_path is not None else get_settings().db_path
    warehouse = data.Warehouse(path, shared=True)  # kept open while the file stays the same
    app = dash.Dash(
        "dashboard",  # not __name__: that is "__main__" under `python -m dashboard.app`
        use_pages=True,
        pages_folder=str(PACKAGE_DIR / "pages"),
        assets_folder=str(PACKAGE_DIR / "assets"),
        title="Foot-massage outcomes",
        # pages are built per request from the warehouse: don't call every layout at start
        suppress_callback_exceptions=True,
        serve_locally=True,  # clinics are often offline: no CDN
    )
    app.layout = shell
    data.attach(app.server, warehouse)  # what the pages read, through data.current()
    gx_docs.init_app(app.server)
    auth.init_app(app)
    callback_guard.init_app(app)  # after sign-in: signed-out requests get 401 first
    return app


def run(
    db_path: Path | None = None,
    host: str | None = None,
    port: int | None = None,
    debug: bool = False,
) -> None:
    """Serve the dashboard (blocking). Defaults come from the settings."""
    settings = get_settings()
    app = create_app(db_path)
    app.run(
        host=host or settings.dashboard_host,
        port=int(port or settings.dashboard_port),
        debug=debug,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the outcomes dashboard.")
    parser.add_argument(
        "--db", type=Path, default=None, help="warehouse file (default: setting db)"
    )
    parser.add_argument("--host", default=None)
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--debug", action="store_true")
    args = parser.parse_args(argv)
    run(args.db, args.host, args.port, args.debug)


if __name__ == "__main__":
    main()
