"""Sign-in, sessions, headers and server-side role checks, over plain HTTP against the real
app process (the requests are those a browser sends; docs/security.md)."""

from __future__ import annotations

import json

import pytest
from security_support import client_detail_body, page_router_body

from dashboard.auth import SESSION_COOKIE

SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _check_headers(resp) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert resp.headers.get(name) == value, (name, resp.headers)
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "'unsafe-eval'" not in csp and "script-src 'self' 'sha256-" in csp


@pytest.mark.parametrize("path", ["/", "/cohorts", "/client?client_id=C001", "/sql", "/audit",
                                  "/gx-docs/"])  # fmt: skip
def test_signed_out_pages_redirect_to_sign_in(client_for, path):
    resp = client_for().get(path)
    assert resp.status == 302
    assert resp.headers["Location"].startswith("/login?next=")
    _check_headers(resp)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/_dash-layout", None),
        ("GET", "/_dash-dependencies", None),
        ("POST", "/_dash-update-component", client_detail_body("C001")),
        ("POST", "/_dash-update-component", page_router_body("/")),
    ],
)
def test_signed_out_dash_endpoints_answer_401(client_for, method, path, body):
    resp = client_for().request(method, path, json_body=body)
    assert resp.status == 401
    assert "Anna" not in resp.body and "C001" not in resp.body
    _check_headers(resp)


def test_static_files_are_public_and_carry_headers(client_for, sec_url):
    c = client_for()
    login = c.get("/login")
    assert login.status == 200 and 'id="login-form"' in login.body
    _check_headers(login)
    css = c.get("/assets/style.css")
    assert css.status == 200
    _check_headers(css)


def test_session_cookie_is_httponly_samesite_and_signed(client_for):
    c = client_for("olga")
    cookie = c.cookie(SESSION_COOKIE)
    assert cookie is not None
    assert cookie.has_nonstandard_attr("HttpOnly")
    assert cookie.get_nonstandard_attr("SameSite") == "Lax"
    assert c.get("/").status == 200
    # a tampered cookie is not a session (itsdangerous signature)
    cookie = c.cookie(SESSION_COOKIE)  # (re-sent by the server on every request)
    cookie.value = cookie.value[:-2] + ("AA" if not cookie.value.endswith("AA") else "BB")
    assert c.get("/").status == 302


def test_wrong_password_and_unknown_user_are_refused_alike(client_for):
    c = client_for()
    wrong = c.login("olga", "not-her-password")
    nobody = c.login("nobody-here", "whatever-password")
    assert wrong.status == nobody.status == 401
    assert "Wrong user name or password." in wrong.body
    assert "Wrong user name or password." in nobody.body
    assert c.get("/").status == 302  # still signed out


def test_login_form_needs_its_csrf_token(client_for):
    c = client_for()
    c.get("/login")
    resp = c.request("POST", "/login", form={"username": "olga", "password": "olga-password-1"})
    assert resp.status == 400 and "form expired" in resp.body
    assert c.get("/").status == 302


def test_next_is_local_only(client_for):
    c = client_for()
    resp = c.login("olga", "olga-password-1", next_path="//evil.example/x")
    assert resp.status == 302 and resp.headers["Location"] == "/"
    resp = client_for().login("olga", "olga-password-1", next_path="/cohorts?metric=pain")
    assert resp.headers["Location"] == "/cohorts?metric=pain"


def test_login_rate_limit_per_user_and_address(client_for, sec_store):
    c = client_for()
    for _ in range(5):  # settings login_max_failures=5 within login_window_s=300
        assert c.login("rita", "wrong-password").status == 401
    refused = c.login("rita", "rita-password-1")  # even the right password now
    assert refused.status == 429
    assert "Too many failed sign-ins" in refused.body and "wait 5 minutes" in refused.body
    assert c.get("/").status == 302
    assert client_for().login("olga", "olga-password-1").status == 302  # others unaffected
    events = [e for e in sec_store.audit_events(200) if e["username"] == "rita"]
    assert [e["event"] for e in events].count("login_failed") == 5
    assert events[0]["event"] == "login_refused" and events[0]["ip"] == "127.0.0.1"


def test_sign_out_ends_the_session(client_for):
    c = client_for("olga")
    assert c.get("/").status == 200
    assert c.request("POST", "/logout", form={}).status == 302
    assert c.get("/").status == 302


def test_password_change_and_removal_end_existing_sessions(client_for, sec_store):
    sec_store.add("paul", "paul-password-1", "owner")
    sec_store.add("gone", "gone-password-1", "owner")
    paul, gone = client_for(), client_for()
    assert paul.login("paul", "paul-password-1").status == 302
    assert gone.login("gone", "gone-password-1").status == 302
    assert paul.get("/").status == 200 and gone.get("/").status == 200
    sec_store.set_password("paul", "paul-password-2")
    sec_store.remove("gone")
    assert paul.get("/").status == 302
    assert gone.callback(page_router_body("/")).status == 401


# --- roles, enforced on the server --------------------------------------------------------


def _children_text(resp) -> str:
    return json.dumps(resp.json()["response"])


def test_therapist_crafted_callback_for_another_therapists_client_is_refused(client_for):
    tess = client_for("tess")  # T01: C001 is hers, C002 is T02's
    own = tess.callback(client_detail_body("C001"))
    assert own.status == 200 and "Anna K." in _children_text(own)
    other = tess.callback(client_detail_body("C002"))
    assert other.status == 200
    text = _children_text(other)
    assert "Not allowed" in text
    for leak in ("Boris", "1981", "K-17", "S0003", "overweight"):
        assert leak not in text
    no_session = tess.callback(client_detail_body("C003"))  # a client without sessions
    assert "Not allowed" in _children_text(no_session)


def test_therapist_suggestions_are_own_clients_only(client_for):
    body = {
        "output": "client-search.options",
        "outputs": {"id": "client-search", "property": "options"},
        "inputs": [{"id": "client-search", "property": "search_value", "value": "C00"}],
        "changedPropIds": ["client-search.search_value"],
        "state": [{"id": "client-search", "property": "value", "value": None},
                  {"id": "client-search", "property": "options", "value": []}],
    }  # fmt: skip
    tess = client_for("tess").callback(body)
    values = [o["value"] for o in tess.json()["response"]["client-search"]["options"]]
    assert values == ["C001"]
    olga = client_for("olga").callback(body)
    values = [o["value"] for o in olga.json()["response"]["client-search"]["options"]]
    assert values == ["C001", "C002", "C003"]


@pytest.mark.parametrize(
    ("user", "path", "allowed"),
    [
        ("tess", "/quality", False), ("tess", "/sql", False), ("tess", "/audit", False),
        ("tess", "/therapists", True), ("tess", "/cohorts", True),
        ("anya", "/client", False), ("anya", "/quality", False), ("anya", "/audit", False),
        ("anya", "/sql", True), ("olga", "/audit", True), ("olga", "/quality", True),
    ],
)  # fmt: skip
def test_crafted_page_requests_follow_the_role(client_for, user, path, allowed):
    resp = client_for(user).callback(page_router_body(path))
    assert resp.status == 200
    text = _children_text(resp)
    assert ("Not allowed" in text) is (not allowed)
    if not allowed:
        assert "quarantine" not in text.lower() and "login_ok" not in text


@pytest.mark.parametrize(
    ("user", "body"),
    [
        ("anya", client_detail_body("C001")),  # analysts: no client page at all
        ("tess", {"output": "..sql-grid.rowData...sql-grid.columnDefs...sql-message.children"
                            "...sql-message.className..",
                  "outputs": [{"id": "sql-grid", "property": "rowData"},
                              {"id": "sql-grid", "property": "columnDefs"},
                              {"id": "sql-message", "property": "children"},
                              {"id": "sql-message", "property": "className"}],
                  "inputs": [{"id": "sql-run", "property": "n_clicks", "value": 1}],
                  "changedPropIds": ["sql-run.n_clicks"],
                  "state": [{"id": "sql-input", "property": "value",
                             "value": "SELECT * FROM clients"}]}),
        ("tess", {"output": "quality-quarantine.rowData",
                  "outputs": {"id": "quality-quarantine", "property": "rowData"},
                  "inputs": [{"id": "quality-quarantine-entity", "property": "value",
                              "value": "clients"},
                             {"id": "quality-quarantine-reason", "property": "value",
                              "value": None}],
                  "changedPropIds": ["quality-quarantine-entity.value"]}),
    ],
)  # fmt: skip
def test_crafted_callbacks_outside_the_role_get_403(client_for, user, body):
    resp = client_for(user).callback(body)
    assert resp.status == 403
    assert "Anna" not in resp.body and "C001" not in resp.body


def test_gx_docs_are_owner_only(client_for):
    assert client_for("tess").get("/gx-docs/").status == 403
    assert client_for("anya").get("/gx-docs/").status == 403
    assert client_for("olga").get("/gx-docs/").status in (200, 404)  # 404: no docs built
