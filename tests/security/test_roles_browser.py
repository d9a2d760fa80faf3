"""Each role signs in through the real form in headless Chromium and sees what it may,
and only that (docs/security.md). Pages must render with the Content-Security-Policy in
force: any console error (a CSP violation is one) fails the test."""

from __future__ import annotations

import json

import pytest
from browser_support import Problems, run_refused_sql
from security_support import ACCOUNTS, client_detail_body

from dashboard import ids
from dashboard.screenshots import sign_in, wait_for_dash
from pipelines.users import pseudonym, read_or_create_secret

pytestmark = pytest.mark.browser

NAMES = ("Anna K.", "Boris M.", "Chen L.", "Dana R.", "Eli S.")


def _sign_in(page, url: str, name: str, next_path: str = "/") -> None:
    sign_in(page, url, name, ACCOUNTS[name][0], next_path)


def _open(page, url: str, path: str) -> str:
    page.goto(url + path)
    wait_for_dash(page)
    return page.inner_text(f"#{ids.PAGE_CONTENT}")


def _nav(page) -> list[str]:
    return page.locator(f"#{ids.NAVBAR} a").all_inner_texts()


def test_signed_out_browser_lands_on_sign_in_then_on_the_page(sec_url, page):
    problems = Problems(page)
    page.goto(sec_url + "/cohorts")
    assert "/login?next=/cohorts" in page.url
    assert page.inner_text("h1") == "Sign in"
    page.fill("#login-username", "olga")
    page.fill("#login-password", "wrong-password-x")
    page.click("#login-submit")
    assert "Wrong user name or password." in page.inner_text("#login-message")
    # that answer is a 401 (Chromium also logs it): nothing else may have failed
    problems.items = [p for p in problems.items if "401" not in p]
    page.fill("#login-username", "olga")
    page.fill("#login-password", ACCOUNTS["olga"][0])
    page.click("#login-submit")
    wait_for_dash(page)
    assert page.url == sec_url + "/cohorts" and page.inner_text("h1") == "Cohorts"
    assert problems.items == []


def test_owner_sees_everything_and_the_audit(sec_url, page):
    problems = Problems(page)
    _sign_in(page, sec_url, "olga")
    assert _nav(page) == ["Overview", "Cohorts", "Client", "Therapists", "Data quality", "SQL",
                          "Audit"]  # fmt: skip
    assert "olga (owner)" in page.inner_text(f"#{ids.NAV_USER}")
    assert "Anna K." in _open(page, sec_url, "/client?client_id=C001")
    assert "C002" in _open(page, sec_url, "/client?client_id=C002")
    assert "Quarantine" in _open(page, sec_url, "/quality")
    page.goto(sec_url + "/sql")
    wait_for_dash(page)
    page.fill(f"#{ids.SQL_INPUT}", "SELECT name FROM clients ORDER BY client_id")
    page.click(f"#{ids.SQL_RUN}")
    page.wait_for_selector(f"#{ids.SQL_GRID} .ag-row", timeout=20_000)
    assert "Anna K." in page.inner_text(f"#{ids.SQL_GRID}")  # owners: the full §6 views
    audit = _open(page, sec_url, "/audit")
    page.wait_for_selector(f"#{ids.AUDIT_GRID} .ag-row")
    audit = page.inner_text(f"#{ids.AUDIT_GRID}")
    for event in ("login_ok", "client_opened", "sql_run"):
        assert event in audit
    assert "SELECT name FROM clients" in audit
    assert problems.items == []


def test_therapist_sees_aggregates_and_own_clients_only(sec_url, page):
    problems = Problems(page)
    _sign_in(page, sec_url, "tess")  # T01; C001 is hers, C002 is T02's
    assert _nav(page) == ["Overview", "Cohorts", "Client", "Therapists"]
    assert "Active clients" in _open(page, sec_url, "/")
    assert "Rates per cohort" in _open(page, sec_url, "/cohorts")
    for path in ("/quality", "/sql", "/audit"):
        assert "Not allowed" in _open(page, sec_url, path)

    # the typeahead offers her own clients only
    page.goto(sec_url + "/client")
    wait_for_dash(page)
    page.click(f"#{ids.CLIENT_SEARCH}")
    page.fill("input.dash-dropdown-search", "C00")
    page.locator(".dash-dropdown-option", has_text="C001 · Anna K.").wait_for(timeout=20_000)
    assert page.locator(".dash-dropdown-option").count() == 1

    # her client opens; another therapist's client, asked for by URL, shows nothing of it
    captured: list[dict] = []
    page.on(
        "request",
        lambda r: (
            "_dash-update-component" in r.url
            and "client-detail.children" in (r.post_data or "")
            and captured.append(json.loads(r.post_data))
        ),
    )
    assert "Anna K." in _open(page, sec_url, "/client?client_id=C001")
    text = _open(page, sec_url, "/client?client_id=C002")
    assert "Not allowed" in text and "Boris" not in text and "1981" not in text
    assert problems.items == []

    # replay the browser's own callback request with her cookie, for the other client
    body = captured[0]
    assert body["inputs"][0]["value"] == "C001"
    assert body["output"] == client_detail_body("C001")["output"]
    body["inputs"][0]["value"] = "C002"
    resp = page.request.post(sec_url + "/_dash-update-component", data=json.dumps(body),
                             headers={"Content-Type": "application/json"})  # fmt: skip
    assert resp.status == 200
    assert "Not allowed" in resp.text() and "Boris" not in resp.text()


def test_analyst_sees_no_names_and_queries_pseudonyms(sec_url, sec_paths, page):
    problems = Problems(page)
    _sign_in(page, sec_url, "anya")
    assert _nav(page) == ["Overview", "Cohorts", "Therapists", "SQL"]
    seen = _open(page, sec_url, "/") + _open(page, sec_url, "/therapists")
    seen += _open(page, sec_url, "/cohorts")
    page.click(f"#{ids.COHORT_THERAPIST}")  # therapist filter: pseudonyms, as in their SQL
    secret = read_or_create_secret(sec_paths.pseudonym_secret_file)
    t01 = pseudonym(secret, "therapist", "T01")
    page.locator(".dash-dropdown-option", has_text=t01).wait_for(timeout=20_000)
    options = page.locator(".dash-dropdown-option").all_inner_texts()
    assert t01 in options and pseudonym(secret, "therapist", "T02") in options
    page.locator(".dash-dropdown-option", has_text=t01).click()  # the filter still works
    page.wait_for_selector(f"#{ids.COHORT_RATES} table", timeout=20_000)
    seen += " ".join(options) + page.inner_text(f"#{ids.COHORT_RATES}")
    page.keyboard.press("Escape")
    for path in ("/client?client_id=C001", "/quality", "/audit"):
        text = _open(page, sec_url, path)
        assert "Not allowed" in text
        seen += text
    page.goto(sec_url + "/sql")
    wait_for_dash(page)
    schema = page.inner_text(f"#{ids.SQL_VIEW_BROWSER}")
    assert "Pseudonymised views" in schema and "birth_year" not in schema  # collapsed
    page.fill(f"#{ids.SQL_INPUT}", "SELECT * FROM clients ORDER BY birth_year")
    page.click(f"#{ids.SQL_RUN}")
    page.wait_for_selector(f"#{ids.SQL_GRID} .ag-row", timeout=20_000)
    grid = page.inner_text(f"#{ids.SQL_GRID}")
    assert "birth_year" in grid and "1958" in grid and "C001" not in grid
    seen += grid + page.content()
    refused = run_refused_sql(page, "SELECT name FROM main.clients")
    assert "not one of the pseudonymised analyst views" in refused
    for name in NAMES:
        assert name not in seen
    for real in ("1994-03-12", "T01", "T02", "FM-2231", "C001", "S0001"):
        assert real not in seen, real
    assert problems.items == []
