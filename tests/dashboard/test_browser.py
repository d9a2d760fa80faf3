"""The real app (subprocess) in real headless Chromium, on a warehouse built by the
real pipeline. Fails on any browser console error or failed Dash callback.
The browser is signed in as an owner (conftest); roles are tested in tests/security."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from browser_support import Problems, run_refused_sql

from dashboard import ids
from dashboard.screenshots import wait_for_dash

pytestmark = pytest.mark.browser

PAGES = [
    ("/", "Overview"),
    ("/cohorts", "Cohorts"),
    ("/client", "Client"),
    ("/client?client_id=C001", "Client"),
    ("/therapists", "Therapists"),
    ("/quality", "Data quality"),
    ("/sql", "SQL console"),
]


@pytest.fixture(scope="module")
def app_url(dashboard_url):
    return dashboard_url


@pytest.fixture
def watched(page):
    problems = Problems(page)
    yield page, problems
    assert problems.items == []


@pytest.mark.parametrize(("path", "heading"), PAGES)
def test_page_renders_without_errors(app_url, watched, path, heading):
    page, problems = watched
    page.goto(app_url + path)
    wait_for_dash(page)
    assert page.inner_text("h1") == heading
    assert page.locator(f"#{ids.NAVBAR} a").count() == 7  # the owner's: with Audit
    assert "Traceback" not in page.content()
    assert problems.items == []


def test_overview_shows_kpis(app_url, watched):
    page, _ = watched
    page.goto(app_url + "/")
    wait_for_dash(page)
    kpis = page.inner_text(f"#{ids.OVERVIEW_KPIS}")
    assert "Active clients\n2" in kpis
    assert "Open safety alerts\n2" in kpis
    assert "succeeded" in page.inner_text(f"#{ids.OVERVIEW_LAST_LOAD}")


def test_client_search_finds_c001_and_shows_trend(app_url, watched):
    page, _ = watched
    page.goto(app_url + "/client")
    wait_for_dash(page)
    page.click(f"#{ids.CLIENT_SEARCH}")
    page.fill("input.dash-dropdown-search", "C00")
    option = page.locator(".dash-dropdown-option", has_text="C001 · Anna K.")
    option.wait_for(timeout=20_000)
    assert page.locator(".dash-dropdown-option").count() == 3  # C001, C002, C003
    option.click()
    page.wait_for_selector(f"#{ids.client_trend('pain')} .js-plotly-plot", timeout=20_000)
    wait_for_dash(page)
    banner = page.inner_text(f"#{ids.CLIENT_BANNER}")
    assert "Discomfort reported at the last session" in banner and "calf tender" in banner
    # alerts come before the outcome graphs
    order = page.evaluate(
        f"""() => {{
            const a = document.getElementById('{ids.CLIENT_ALERTS}').getBoundingClientRect().top;
            const g = document.getElementById('{ids.client_trend("pain")}')
                .getBoundingClientRect().top;
            return a < g; }}"""
    )
    assert order
    y = page.evaluate(
        f"() => Array.from(document.querySelector('#{ids.client_trend('pain')} .js-plotly-plot')"
        "._fullData.find(t => t.name === 'before session').y)"
    )
    assert y == [7, 6]
    assert "C001-1: session 2 of 10–15" in page.inner_text(f"#{ids.CLIENT_DETAIL}")


def _trajectory_data(page) -> str:
    return page.evaluate(
        f"() => JSON.stringify(document.querySelector('#{ids.COHORT_TRAJECTORY} .js-plotly-plot')"
        "._fullData.map(t => [t.name, Array.from(t.y)]))"
    )


def test_cohort_filter_changes_figure(app_url, watched):
    page, _ = watched
    page.goto(app_url + "/cohorts")
    wait_for_dash(page)
    page.wait_for_selector(f"#{ids.COHORT_TRAJECTORY} .js-plotly-plot")
    before = _trajectory_data(page)
    assert ["athlete (n=1, small n)", [7, 6]] in json.loads(before)
    page.click(f"#{ids.COHORT_METRIC}")
    page.locator(".dash-dropdown-option", has_text="mobility").click()
    page.wait_for_function(
        f"""(before) => {{
            const el = document.querySelector('#{ids.COHORT_TRAJECTORY} .js-plotly-plot');
            return el && JSON.stringify(el._fullData.map(t => [t.name, Array.from(t.y)]))
                !== before; }}""",
        arg=before,
        timeout=20_000,
    )
    wait_for_dash(page)
    after = json.loads(_trajectory_data(page))
    athlete = next(y for name, y in after if name.startswith("athlete"))
    assert athlete == [4]  # mobility pre of S0001; S0002 has none
    assert "Mean mobility" in page.inner_text(f"#{ids.COHORT_TRAJECTORY}")


def test_sql_console_runs_and_refuses(app_url, watched):
    page, _ = watched
    page.goto(app_url + "/sql")
    wait_for_dash(page)
    assert "course_progress" in page.inner_text(f"#{ids.SQL_VIEW_BROWSER}")
    page.fill(f"#{ids.SQL_INPUT}", "SELECT client_id, cohort FROM clients ORDER BY client_id")
    page.click(f"#{ids.SQL_RUN}")
    page.wait_for_selector(f"#{ids.SQL_GRID} .ag-row", timeout=20_000)
    assert page.locator(f"#{ids.SQL_GRID} .ag-center-cols-container .ag-row").count() == 3
    assert "C001" in page.inner_text(f"#{ids.SQL_GRID}")
    assert "3 rows" in page.inner_text(f"#{ids.SQL_MESSAGE}")

    with page.expect_download() as download:
        page.click(f"#{ids.SQL_DOWNLOAD_BUTTON}")
    assert download.value.suggested_filename == "query.csv"
    assert "C001,athlete" in Path(download.value.path()).read_text(encoding="utf-8")

    refused = run_refused_sql(page, "COPY clients TO '/tmp/x.csv'")
    assert "must start with SELECT or WITH" in refused
    assert page.locator(f"#{ids.SQL_GRID} .ag-center-cols-container .ag-row").count() == 0


def test_gx_data_docs_are_served(app_url, page):
    """The quality page links to the Data Docs, served by the app from gx_docs_dir (built
    by the ingest that made the test warehouse); nothing outside that folder is served."""
    problems = Problems(page)
    page.goto(app_url + "/quality")
    wait_for_dash(page)
    link = page.locator(f"#{ids.QUALITY_DOCS_LINK}")
    assert link.get_attribute("href") == "/gx-docs/"
    assert problems.items == []
    # (GX's own pages pull fonts/CSS from CDNs, unreachable offline: not our console)
    response = page.goto(app_url + "/gx-docs/")
    assert response.status == 200 and "<html" in response.text().lower()
    outside = page.request.get(app_url + "/gx-docs/..%2f..%2fpyproject.toml")  # signed in
    assert outside.status == 404
