"""Reads during loads: a real dashboard process and `outcomes sql` keep answering while a
real `outcomes ingest` writes, and each answer shows the warehouse before or after the
load, never in between (the load publishes a finished copy with one os.replace)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest

from dashboard import ids
from dashboard.screenshots import running_app, wait_for_dash
from pipelines.generate import generate_export
from pipelines.settings import PROJECT_ROOT

pytestmark = pytest.mark.browser

COUNTS = "SELECT (SELECT count(*) FROM sessions) || '/' || (SELECT count(*) FROM scores) AS n"


@pytest.fixture(scope="module")
def loaded_once(tmp_path_factory, module_cli, prefect_api):
    """A warehouse holding delivery 1 of a generated export; delivery 2 still to come."""
    root = tmp_path_factory.mktemp("reads")
    generate_export(root / "export", n_clients=400, seed=21, fault_rate=0.02, fmt="csv")
    db = root / "warehouse.duckdb"
    module_cli("ingest", str(root / "export" / "delivery-1"), "--db", str(db),
               api_url=prefect_api)  # fmt: skip
    return root, db


def _overview(page, url: str) -> str:
    page.goto(url + "/")
    wait_for_dash(page)
    kpis = page.inner_text(f"#{ids.OVERVIEW_KPIS}")
    last = page.inner_text(f"#{ids.OVERVIEW_LAST_LOAD}")
    return f"{kpis}\n{last}"


def test_dashboard_and_sql_answer_during_a_load_with_before_or_after(
    loaded_once, page, prefect_api, cli
):
    root, db = loaded_once

    def _sql(db, query: str):
        return cli("sql", query, "--db", str(db), check=False)

    console_errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and console_errors.append(m.text))
    page.on("response", lambda r: r.status >= 400 and console_errors.append(f"{r.status} {r.url}"))
    with running_app(db) as url:
        before = _overview(page, url)
        sql_before = _sql(db, COUNTS)
        assert sql_before.returncode == 0, sql_before.stderr

        env = {**os.environ, "PREFECT_API_URL": prefect_api}
        load = subprocess.Popen(
            [sys.executable, "-m", "pipelines.cli", "ingest", str(root / "export" / "delivery-2"),
             "--db", str(db)],
            cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        seen, sql_seen, during = [], [], 0

        def sql_reader() -> None:
            while load.poll() is None:
                sql_seen.append(_sql(db, COUNTS))

        reader = threading.Thread(target=sql_reader)
        reader.start()
        while load.poll() is None:
            seen.append(_overview(page, url))
            during += load.poll() is None
        reader.join()
        out = load.stdout.read()
        assert load.returncode == 0, out
        time.sleep(0.2)
        after = _overview(page, url)
        sql_after = _sql(db, COUNTS)

    assert before != after  # the load changed what the overview shows
    assert during >= 2, "the load was too short to overlap any read"
    assert set(seen) <= {before, after}
    assert all(r.returncode == 0 for r in sql_seen), [r.stderr for r in sql_seen]
    counts = {r.stdout.split("\n")[1].strip() for r in sql_seen}
    expected = {sql_before.stdout.split("\n")[1].strip(), sql_after.stdout.split("\n")[1].strip()}
    assert sql_seen and counts <= expected
    assert console_errors == []
