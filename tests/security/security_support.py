"""Helpers of the security tests: accounts, an HTTP client with cookies, Dash callback
bodies as Chromium sends them, and `running_app` with extra environment."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from dashboard.screenshots import running_app
from pipelines.settings import PROJECT_ROOT, Settings

# name -> (password, role, therapist_id)
ACCOUNTS: dict[str, tuple[str, str, str | None]] = {
    "olga": ("olga-password-1", "owner", None),
    "tess": ("tess-password-1", "therapist", "T01"),  # own client: C001
    "theo": ("theo-password-1", "therapist", "T02"),  # own client: C002
    "anya": ("anya-password-1", "analyst", None),
    "rita": ("rita-password-1", "owner", None),  # only for the rate-limit test
}


@dataclass(frozen=True)
class SecurityPaths:
    root: Path
    users_db: Path
    session_secret_file: Path
    pseudonym_secret_file: Path

    def env(self) -> dict[str, str]:
        return {
            "OUTCOMES_USERS_DB": str(self.users_db),
            "OUTCOMES_SESSION_SECRET_FILE": str(self.session_secret_file),
            "OUTCOMES_PSEUDONYM_SECRET_FILE": str(self.pseudonym_secret_file),
        }

    def settings(self) -> Settings:
        return Settings(
            users_db=self.users_db,
            session_secret_file=self.session_secret_file,
            pseudonym_secret_file=self.pseudonym_secret_file,
        )


@contextmanager
def app_with_env(db: Path, env: dict[str, str]) -> Iterator[str]:
    """`running_app` with extra environment for the app process only."""
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        app = running_app(db)
        url = app.__enter__()  # the subprocess has copied the environment now
    try:
        yield url
    finally:
        app.__exit__(None, None, None)


# --- a small HTTP client with cookies, without following redirects -------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003
        return None


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: str

    def json(self):
        return json.loads(self.body)


class Client:
    """Requests as a browser would send them, with a cookie jar (no redirects followed)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()
        )

    def request(self, method: str, path: str, form: dict | None = None,
                json_body: object = None) -> Response:  # fmt: skip
        data, headers = None, {}
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if json_body is not None:
            data = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.base + path, data=data, headers=headers, method=method)
        try:
            with self.opener.open(req, timeout=30) as resp:
                return Response(resp.status, dict(resp.headers), resp.read().decode())
        except urllib.error.HTTPError as err:
            return Response(err.code, dict(err.headers), err.read().decode())

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def login(self, username: str, password: str, next_path: str = "/") -> Response:
        page = self.get("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page.body).group(1)
        form = {"csrf": token, "username": username, "password": password, "next": next_path}
        return self.request("POST", "/login", form=form)

    def callback(self, body: dict) -> Response:
        return self.request("POST", "/_dash-update-component", json_body=body)

    def cookie(self, name: str) -> http.cookiejar.Cookie | None:
        return next((c for c in self.jar if c.name == name), None)


def client_detail_body(client_id: str) -> dict:
    """The body Chromium sends for the client page's detail callback (captured from Dash)."""
    return {
        "output": "client-detail.children",
        "outputs": {"id": "client-detail", "property": "children"},
        "inputs": [{"id": "client-search", "property": "value", "value": client_id}],
        "changedPropIds": ["client-search.value"],
        "parsedChangedPropsIds": ["client-search.value"],
    }


def page_router_body(pathname: str, search: str = "") -> dict:
    """The body of Dash pages' router callback (renders a page's layout)."""
    return {
        "output": ".._pages_content.children..._pages_store.data..",
        "outputs": [{"id": "_pages_content", "property": "children"},
                    {"id": "_pages_store", "property": "data"}],
        "inputs": [{"id": "_pages_location", "property": "pathname", "value": pathname},
                   {"id": "_pages_location", "property": "search", "value": search}],
        "changedPropIds": ["_pages_location.pathname", "_pages_location.search"],
        "parsedChangedPropsIds": ["_pages_location.pathname", "_pages_location.search"],
    }  # fmt: skip


def real_values(con, warehouse: str = "wh") -> set[str]:
    """Every name, birth date, note, id and certificate number in the warehouse."""
    found: set[str] = set()
    for sql in (
        "SELECT name FROM {w}.main.clients",
        "SELECT CAST(birth_date AS VARCHAR) FROM {w}.main.clients",
        "SELECT client_id FROM {w}.main.clients",
        "SELECT name FROM {w}.main.therapists",
        "SELECT therapist_id FROM {w}.main.therapists",
        "SELECT qualification FROM {w}.main.therapists",
        "SELECT therapist_id FROM {w}.main.sessions",
        "SELECT notes FROM {w}.main.sessions",
        "SELECT session_id FROM {w}.main.sessions",
        "SELECT course_id FROM {w}.main.sessions",
        "SELECT declared_course_id FROM {w}.main.sessions",
        "SELECT course_id FROM {w}.main.courses",
    ):
        found |= {r[0] for r in con.execute(sql.format(w=warehouse)).fetchall() if r[0]}
    return found


def users_cli(env: dict[str, str], *args: str, password: str | None = None):
    """`outcomes users ARGS…` in a subprocess with extra environment; `password` on stdin."""
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "users", *args],
        input=None if password is None else password + "\n",
        capture_output=True, text=True, cwd=PROJECT_ROOT, env={**os.environ, **env}, timeout=120,
    )  # fmt: skip
