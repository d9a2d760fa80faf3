"""Sign-in and sign-out against the real app process, as an attacker would try them: parallel
guesses against the rate limit, a form without its CSRF token, a cookie replayed after
sign-out (docs/security.md, "Accounts and sign-in")."""

from __future__ import annotations

import multiprocessing
import re
import threading
from concurrent.futures import ThreadPoolExecutor

from security_support import Client, page_router_body
from sign_in_race import one_attempt

from dashboard.auth import SESSION_COOKIE
from pipelines.settings import Settings
from pipelines.users import UserStore

PARALLEL_GUESSES = 20


def _csrf(client: Client) -> str:
    page = client.get("/login")
    return re.search(r'name="csrf" value="([^"]+)"', page.body).group(1)


def test_parallel_wrong_passwords_cannot_beat_the_rate_limit(sec_url, sec_store):
    """20 wrong passwords sent at the same instant, each with its own valid CSRF token: at
    most login_max_failures of them are even checked (401), the rest are refused (429)."""
    limit = Settings().login_max_failures
    sec_store.add("racer", "racer-password-1", "owner")
    clients = [Client(sec_url) for _ in range(PARALLEL_GUESSES)]
    tokens = [_csrf(c) for c in clients]
    start = threading.Barrier(PARALLEL_GUESSES)

    def guess(i: int) -> int:
        form = {"csrf": tokens[i], "username": "racer", "password": f"wrong-{i}", "next": "/"}
        start.wait()
        return clients[i].request("POST", "/login", form=form).status

    with ThreadPoolExecutor(PARALLEL_GUESSES) as pool:
        statuses = list(pool.map(guess, range(PARALLEL_GUESSES)))
    assert set(statuses) <= {401, 429}, statuses
    assert statuses.count(401) <= limit, statuses
    assert statuses.count(429) >= PARALLEL_GUESSES - limit
    right = Client(sec_url).login("racer", "racer-password-1")
    assert right.status == 429  # within the window even the right password is refused
    events = [e["event"] for e in sec_store.audit_events(500) if e["username"] == "racer"]
    assert events.count("login_failed") == statuses.count(401)
    assert "login_ok" not in events


def test_login_without_any_csrf_token_is_refused(sec_url):
    """No cookie (so no token in the session) and no csrf field: both sides are empty, which
    must not count as a match."""
    bare = Client(sec_url)
    resp = bare.request("POST", "/login", form={"username": "olga", "password": "olga-password-1"})
    assert resp.status == 400 and "form expired" in resp.body
    assert bare.cookie(SESSION_COOKIE) is None or bare.get("/").status == 302
    for token in ("", " "):
        form = {"csrf": token, "username": "olga", "password": "olga-password-1"}
        assert Client(sec_url).request("POST", "/login", form=form).status == 400


def _replay(sec_url: str, value: str) -> Client:
    """A fresh client carrying only the saved cookie value."""
    thief = Client(sec_url)
    thief.opener.addheaders = [("Cookie", f"{SESSION_COOKIE}={value}")]
    return thief


def test_cookie_saved_before_sign_out_is_dead_after_it(client_for, sec_url):
    c = client_for("olga")
    saved = c.cookie(SESSION_COOKIE).value
    assert _replay(sec_url, saved).get("/").status == 200  # the copy works while signed in
    assert c.request("POST", "/logout", form={}).status == 302
    replay = _replay(sec_url, saved)
    page = replay.get("/cohorts")
    assert page.status == 302 and page.headers["Location"].startswith("/login")
    callback = replay.callback(page_router_body("/"))
    assert callback.status == 401
    assert "Anna" not in callback.body


def test_sign_out_ends_only_that_browser(client_for):
    laptop, phone = client_for("tess"), client_for("tess")
    assert laptop.get("/").status == phone.get("/").status == 200
    assert laptop.request("POST", "/logout", form={}).status == 302
    assert laptop.get("/").status == 302
    assert phone.get("/").status == 200  # her other device stays signed in


def test_rate_limit_is_atomic_across_processes(tmp_path):
    db = tmp_path / "users.db"
    store = UserStore(db, Settings(users_db=db))
    store.add("proc", "proc-password-1", "analyst")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        barrier = manager.Barrier(PARALLEL_GUESSES)
        with ctx.Pool(PARALLEL_GUESSES) as pool:
            admitted = pool.starmap(one_attempt, [(str(db), barrier)] * PARALLEL_GUESSES)
    assert sum(admitted) == 5
    events = [e["event"] for e in store.audit_events()]
    assert events.count("login_failed") == 5 and events.count("login_refused") == 15
    assert "login_checking" not in events
