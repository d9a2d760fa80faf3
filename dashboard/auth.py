"""Sign-in, sessions, roles and security headers of the dashboard (docs/security.md).

- Every request except the sign-in form and static files (Dash's JS bundles, /assets/)
  needs a signed-in session: pages redirect to /login, Dash's JSON endpoints answer 401.
- The session is Flask's signed cookie (HttpOnly, SameSite=Lax) keyed by a per-installation
  secret file; it holds a random token of a server-side session (pipelines/sign_in.py), looked
  up with its account on every request: sign-out revokes that session, a removed user or a
  changed password deletes all of the user's sessions.
- Each page declares its roles once, in `dash.register_page(..., roles=...)`; the navbar
  shows a role only its pages (`PAGE_ROLES`, read from the registry). Roles are enforced
  where data is produced: page layouts (`page_roles`) and callbacks (`callback_roles`, or
  explicit checks such as the client page's own-client rule).
- Sign-in is rate-limited per user name + address (settings login_max_failures,
  login_window_s), counted and recorded in one step in the audit trail.

The sign-in form is a plain Flask route, not a Dash page: Dash renders pages through a
callback, which would have to be opened to signed-out visitors.
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import dash
import flask
from dash import html
from werkzeug.exceptions import Forbidden

from pipelines.account_names import normalise
from pipelines.settings import Settings, get_settings
from pipelines.sign_in import SignIns
from pipelines.users import User, UserStore, session_secret

PUBLIC_PREFIXES = ("/_dash-component-suites/", "/assets/", "/_favicon.ico")
LOGIN_PATH, LOGOUT_PATH = "/login", "/logout"
SESSION_COOKIE = "outcomes_session"
GX_DOCS_PREFIX = "/gx-docs"
GX_DOCS_ROLES = ("owner",)  # the Data Docs quote rejected rows (names, birth dates)

_LOGIN_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in · outcomes</title>
<link rel="stylesheet" href="/assets/style.css">
<link rel="stylesheet" href="/assets/security.css"></head>
<body><main class="content login">
<h1>Sign in</h1>
{% if message %}
<div class="panel error" role="alert" id="login-message">{{ message }}</div>
{% endif %}
<form method="post" action="/login" id="login-form">
<input type="hidden" name="csrf" value="{{ csrf }}">
<input type="hidden" name="next" value="{{ next }}">
<label>User <input name="username" id="login-username" autocomplete="username"
  value="{{ username }}" required autofocus></label>
<label>Password <input name="password" id="login-password" type="password"
  autocomplete="current-password" required></label>
<button type="submit" class="primary" id="login-submit">Sign in</button>
</form></main></body></html>"""


class _DeclaredPageRoles(Mapping[str, tuple[str, ...]]):
    """path -> the roles that may open that Dash page, as each page declares them once:
    `dash.register_page(__name__, path=..., roles=(...))`. Read from dash.page_registry, so
    it holds the pages once create_app has registered them (the navbar and `may_open` use
    it; each page's layout and callbacks also check its roles themselves)."""

    @staticmethod
    def _declared() -> dict[str, tuple[str, ...]]:
        return {
            page["path"]: tuple(page["roles"])
            for page in dash.page_registry.values()
            if "roles" in page
        }

    def __getitem__(self, path: str) -> tuple[str, ...]:
        return self._declared()[path]

    def __iter__(self) -> Iterator[str]:
        return iter(self._declared())

    def __len__(self) -> int:
        return len(self._declared())


PAGE_ROLES: Mapping[str, tuple[str, ...]] = _DeclaredPageRoles()


def _store() -> UserStore:
    return flask.current_app.extensions["outcomes_users"]


def _sign_ins() -> SignIns:
    return flask.current_app.extensions["outcomes_sign_ins"]


def _settings() -> Settings:
    return flask.current_app.extensions["outcomes_settings"]


def client_ip() -> str | None:
    # The app binds to localhost by default; behind a proxy, configure ProxyFix there.
    return flask.request.remote_addr


def current_user() -> User | None:
    """The signed-in user of this request (None outside a request or signed out)."""
    if not flask.has_request_context():
        return None
    return flask.g.get("user")


def role() -> str | None:
    user = current_user()
    return user.role if user else None


def may_open(path: str) -> bool:
    """Whether the signed-in user's role may open the Dash page at `path`."""
    return role() in PAGE_ROLES.get(path, ())


def audit(event: str, detail: str = "") -> None:
    """Record an event of the signed-in user in the audit trail."""
    user = current_user()
    _store().record(event, user.username if user else None, client_ip(), detail)


def not_allowed(what: str = "this page") -> html.Div:
    return html.Div(
        f"Not allowed: your role ({role() or 'signed out'}) cannot open {what}.",
        className="panel error not-allowed",
        role="alert",
    )


def page_roles(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Layout decorator: other roles get a "not allowed" panel and nothing else."""

    def wrap(render: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(render)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if role() not in roles:
                return not_allowed()
            return render(*args, **kwargs)

        wrapper.roles = roles  # type: ignore[attr-defined]  # read by the coverage test
        return wrapper

    return wrap


def callback_roles(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Callback decorator: other roles get HTTP 403 and the callback body never runs."""

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if role() not in roles:
                raise Forbidden("Your role may not run this callback.")
            return fn(*args, **kwargs)

        wrapper.roles = roles  # type: ignore[attr-defined]
        return wrapper

    return wrap


def _safe_next(target: str | None) -> str:
    """Only local paths: no open redirect to another site, and no control characters, sent
    raw or percent-encoded (CR/LF would split the Location header)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    if any(unicodedata.category(c) == "Cc" for c in target + unquote(target)):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target:
        return "/"
    return target


def _load_user() -> User | None:
    token = flask.session.get("sid")
    if not token:
        return None
    user = _sign_ins().session_user(token, _settings().session_max_age_s)
    if user is None:
        flask.session.clear()  # signed out, expired, removed account or changed password
    return user


def _require_sign_in() -> Any:
    path = flask.request.path
    if path.startswith(PUBLIC_PREFIXES) or path == LOGIN_PATH:
        return None
    user = _load_user()
    flask.g.user = user
    if user is None:
        if path.startswith("/_dash-") or flask.request.method != "GET":
            return flask.jsonify(error="Sign in required."), 401
        return flask.redirect(f"{LOGIN_PATH}?next={quote(flask.request.full_path.rstrip('?'))}")
    if path.startswith(GX_DOCS_PREFIX) and user.role not in GX_DOCS_ROLES:
        return flask.Response("Not allowed for your role.", status=403, mimetype="text/plain")
    return None


def content_security_policy(script_hashes: list[str]) -> str:
    # Dash 4 (serve_locally) runs no eval; its only inline script is the renderer start-up,
    # allowed by hash. Plotly and the grid set inline styles, hence 'unsafe-inline' there.
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self' " + " ".join(script_hashes),
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def _login_page(message: str = "", username: str = "", status: int = 200) -> flask.Response:
    flask.session.setdefault("csrf", secrets.token_urlsafe(16))
    body = flask.render_template_string(
        _LOGIN_HTML,
        message=message,
        username=username,
        csrf=flask.session["csrf"],
        next=_safe_next(flask.request.values.get("next")),
    )
    return flask.Response(body, status=status, mimetype="text/html")


def _csrf_ok(sent: object) -> bool:
    """The form's token matches the session's; a missing or empty one on either side never
    does (no cookie and no field would otherwise compare "" == "")."""
    expected = flask.session.get("csrf")
    if not isinstance(sent, str) or not sent or not isinstance(expected, str) or not expected:
        return False
    return secrets.compare_digest(sent.encode(), expected.encode())


def _login() -> Any:
    if flask.request.method == "GET":
        return _login_page()
    form = flask.request.form
    username = normalise(form.get("username") or "")[:64]  # as stored (NFC)
    password = form.get("password") or ""
    if not _csrf_ok(form.get("csrf")):
        return _login_page("The form expired: please sign in again.", username, 400)
    settings, ip = _settings(), client_ip()
    window = settings.login_window_s
    attempt = _sign_ins().start_login(username, ip, window, settings.login_max_failures)
    if attempt is None:
        minutes = max(1, round(window / 60))
        return _login_page(
            f"Too many failed sign-ins for this user from your address: wait {minutes} "
            "minutes and try again.",
            username,
            429,
        )
    user = _store().verify(username, password)
    _sign_ins().finish_login(attempt, ok=user is not None)
    if user is None:
        return _login_page("Wrong user name or password.", username, 401)
    flask.session.clear()  # a fresh session: nothing from before the sign-in carries over
    flask.session.permanent = True
    flask.session["sid"] = _sign_ins().open_session(user.username, settings.session_max_age_s)
    return flask.redirect(_safe_next(form.get("next")))


def _logout() -> Any:
    user = _load_user()
    if user is not None:
        _sign_ins().revoke(flask.session.get("sid"))
        _store().record("logout", user.username, client_ip())
    flask.session.clear()
    return flask.redirect(LOGIN_PATH)


def init_app(app: dash.Dash, settings: Settings | None = None) -> None:
    """Add sign-in, the session cookie, role lookup and security headers to the app."""
    settings = settings or get_settings()
    server = app.server
    server.secret_key = session_secret(settings)
    server.config.update(
        SESSION_COOKIE_NAME=SESSION_COOKIE,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",  # no cookie on cross-site POSTs: no CSRF on callbacks
        PERMANENT_SESSION_LIFETIME=dt.timedelta(seconds=settings.session_max_age_s),
    )
    server.extensions["outcomes_users"] = store = UserStore(settings=settings)
    server.extensions["outcomes_sign_ins"] = SignIns(store)
    server.extensions["outcomes_settings"] = settings

    server.before_request(_require_sign_in)
    server.add_url_rule(LOGIN_PATH, "login", _login, methods=["GET", "POST"])
    server.add_url_rule(LOGOUT_PATH, "logout", _logout, methods=["POST"])

    @server.after_request
    def _headers(response: flask.Response) -> flask.Response:
        # Hashed per response: Dash adds inline scripts (the pages' clientside callbacks)
        # when it sets itself up on the first request, after init_app has run.
        own = flask.request.path.startswith(GX_DOCS_PREFIX)  # dashboard.gx_docs sets its own
        if not (own and "Content-Security-Policy" in response.headers):
            response.headers["Content-Security-Policy"] = content_security_policy(
                list(app.csp_hashes())
            )
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        if not flask.request.path.startswith(PUBLIC_PREFIXES):
            response.headers["Cache-Control"] = "no-store"  # personal data: not in caches
        return response
