"""The audit trail names the query that ran, however it is padded: comments of any length
before, inside or after the statement cannot push it out of the record (docs/security.md,
"Audit trail"). Queries go through the SQL console's real callback, as the browser sends it."""

from __future__ import annotations

import hashlib
import json
import random

import pytest
from security_support import page_router_body

from dashboard import ids
from dashboard.sql_console import strip_comments
from pipelines.settings import Settings


def sql_run_body(sql: object) -> dict:
    """The body Chromium sends when Run is clicked in the SQL console."""
    return {
        "output": f"..{ids.SQL_GRID}.rowData...{ids.SQL_GRID}.columnDefs..."
        f"{ids.SQL_MESSAGE}.children...{ids.SQL_MESSAGE}.className..",
        "outputs": [{"id": ids.SQL_GRID, "property": "rowData"},
                    {"id": ids.SQL_GRID, "property": "columnDefs"},
                    {"id": ids.SQL_MESSAGE, "property": "children"},
                    {"id": ids.SQL_MESSAGE, "property": "className"}],
        "inputs": [{"id": ids.SQL_RUN, "property": "n_clicks", "value": 1}],
        "changedPropIds": [f"{ids.SQL_RUN}.n_clicks"],
        "state": [{"id": ids.SQL_INPUT, "property": "value", "value": sql}],
    }  # fmt: skip


def _padding(n: int, seed: int) -> str:
    """`n` characters of comments that look like SQL (a reader skimming would be fooled)."""
    rnd = random.Random(seed)
    words = ["SELECT", "1", "FROM", "therapists", "--", "ok", "where", "x", "*/", "/*"]
    text = " ".join(rnd.choice(words) for _ in range(n // 3)).replace("*/", "* /")
    return ("/* " + text)[: n - 3] + " */"


def _last_sql_event(store, user: str) -> dict:
    return next(e for e in store.audit_events(50) if e["username"] == user and
                e["event"] == "sql_run")  # fmt: skip


CASES = [
    ("10k comment before", lambda p: p + "\nSELECT name FROM clients"),
    ("line comments before", lambda p: "-- " + p.replace("*/", "") + "\nSELECT name FROM clients"),
    ("inside the statement", lambda p: "SELECT name " + p + " FROM clients"),
    ("after the statement", lambda p: "SELECT name FROM clients " + p),
]


@pytest.mark.parametrize(("label", "make"), CASES, ids=[c[0] for c in CASES])
def test_padded_query_is_recorded_whole(client_for, sec_store, label, make):
    sql = make(_padding(10_000, seed=len(label)))
    olga = client_for("olga")
    resp = olga.callback(sql_run_body(sql))
    assert resp.status == 200 and "Anna K." in resp.body  # it ran and returned names
    detail = _last_sql_event(sec_store, "olga")["detail"]
    assert hashlib.sha256(sql.encode()).hexdigest() in detail  # the exact text sent
    ran = strip_comments(sql)
    assert ran in detail  # the statement as it ran, whole
    assert " ".join(ran.split()) == "SELECT name FROM clients"


def test_a_megabyte_of_comments_still_names_the_query(client_for, sec_store):
    sql = _padding(1_000_000, seed=7) + "\nSELECT birth_date FROM clients WHERE name LIKE 'A%'"
    resp = client_for("olga").callback(sql_run_body(sql))
    assert resp.status == 200
    detail = _last_sql_event(sec_store, "olga")["detail"]
    assert "SELECT birth_date FROM clients WHERE name LIKE 'A%'" in detail
    assert hashlib.sha256(sql.encode()).hexdigest() in detail
    assert len(detail) < 1_000  # the comments themselves are not kept


def test_refused_query_is_recorded_too(client_for, sec_store):
    sql = _padding(10_000, seed=3) + "\nSELECT * FROM read_csv('/etc/passwd')"
    assert client_for("anya").callback(sql_run_body(sql)).status == 200
    event = next(e for e in sec_store.audit_events(50) if e["username"] == "anya")
    assert "refused" in event["detail"] and "read_csv('/etc/passwd')" in event["detail"]


def test_audit_page_shows_a_short_view_of_long_details(client_for, sec_store):
    sql = "SELECT name FROM clients WHERE name <> '" + "x" * 20_000 + "'"
    olga = client_for("olga")
    assert olga.callback(sql_run_body(sql)).status == 200
    assert len(_last_sql_event(sec_store, "olga")["detail"]) > 20_000  # kept whole
    page = olga.callback(page_router_body("/audit"))
    assert page.status == 200
    rows = json.dumps(page.json())
    assert "SELECT name FROM clients WHERE name" in rows
    limit = Settings().audit_page_detail_chars
    assert "x" * (limit + 1) not in rows  # the page shows a short view
