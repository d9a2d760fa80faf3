"""The fair comparisons' charts (spec §7) in real headless Chromium, on a generated clinic
large enough to fit every model: the cohorts' table, forest plot and sentences, the
therapists' funnel plot and band column, and the client page's expected band, off-track
badge and earlier courses. Every figure is compared with the warehouse's own views."""

from __future__ import annotations

import duckdb
import pytest
from browser_support import Problems

from dashboard import ids
from dashboard.screenshots import VIEWPORT, wait_for_dash

pytestmark = pytest.mark.browser


@pytest.fixture
def watched(page):
    page.set_viewport_size(VIEWPORT)
    problems = Problems(page)
    yield page
    assert problems.items == []


def _query(db, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def _traces(page, graph_id: str) -> list[dict]:
    page.wait_for_selector(f"#{graph_id} .js-plotly-plot", timeout=20_000)
    return page.evaluate(
        f"() => document.querySelector('#{graph_id} .js-plotly-plot')._fullData.map("
        "t => ({name: t.name, x: Array.from(t.x || []), y: Array.from(t.y || []),"
        " text: t.text ? Array.from(t.text) : null}))"
    )


def test_the_cohorts_page_compares_fairly(fair_dashboard_url, fair_warehouse, watched):
    page = watched
    page.goto(fair_dashboard_url + "/cohorts")
    wait_for_dash(page)
    adjusted = next(t for t in _traces(page, ids.COHORT_FOREST) if t["name"].startswith("adjusted"))
    stored = dict(
        _query(
            fair_warehouse,
            "SELECT cohort, difference_vs_other FROM cohort_outcomes_adjusted"
            " WHERE metric = 'pain' AND cohort <> 'other'",
        )
    )
    got = {label.split(" ")[0]: x for label, x in zip(adjusted["y"], adjusted["x"], strict=True)}
    assert got == pytest.approx(stored)
    sentences = page.inner_text(f"#{ids.COHORT_FAIR_SENTENCES}")
    assert sentences.count("After adjusting for baseline, age, sex and contraindications") == 2
    table = page.inner_text(f"#{ids.COHORT_FAIR_TABLE}")
    for heading in ("completers n", "ITT n", "ITT mean", "no outcome", "adjusted mean (95% CI)"):
        assert heading in table
    itt = _query(fair_warehouse, "SELECT itt_courses FROM cohort_outcomes WHERE metric = 'pain'"
                 " AND cohort = 'athlete'")[0][0]  # fmt: skip
    assert "athlete\t" in table and f"\t{itt}\t" in table
    # another metric redraws the forest plot and the sentences
    page.click(f"#{ids.COHORT_METRIC}")
    page.locator(".dash-dropdown-option", has_text="mobility").click()
    page.wait_for_function(
        f"() => document.getElementById('{ids.COHORT_FAIR_SENTENCES}').innerText"
        ".includes('in mobility')", timeout=20_000,
    )  # fmt: skip


def test_the_therapists_page_shows_a_funnel_and_no_ranking(
    fair_dashboard_url, fair_warehouse, watched
):
    page = watched
    page.goto(fair_dashboard_url + "/therapists")
    wait_for_dash(page)
    traces = _traces(page, ids.THERAPIST_FUNNEL)
    names = [t["name"] for t in traces]
    assert {"95 % limits", "99.8 % limits", "clinic mean"} <= set(names)
    points = {label: (x, y) for t in traces if t["text"]
              for label, x, y in zip(t["text"], t["x"], t["y"], strict=True)}  # fmt: skip
    stored = _query(fair_warehouse, "SELECT therapist_id, courses, adjusted_mean FROM "
                    "therapist_outcomes WHERE metric = 'pain'")  # fmt: skip
    assert points == {t: (n, pytest.approx(mean)) for t, n, mean in stored}
    # the grid: sorted by therapist, with the band; outcome columns in view at 1280 px
    headers = page.locator(f"#{ids.THERAPIST_GRID} .ag-header-cell-text").all_inner_texts()
    assert headers[:8] == ["therapist", "name", "n (outcome)", "mean improvement",
                           "95% CI", "courses led", "adjusted mean", "band"]  # fmt: skip
    right_edge = page.evaluate(
        f"""() => {{
            const grid = document.getElementById('{ids.THERAPIST_GRID}').getBoundingClientRect();
            const band = [...document.querySelectorAll('#{ids.THERAPIST_GRID} .ag-header-cell')]
                .find(c => c.innerText.trim() === 'band').getBoundingClientRect();
            return [band.right, grid.right]; }}"""
    )
    assert right_edge[0] <= right_edge[1]
    rows = page.locator(f"#{ids.THERAPIST_GRID} .ag-row .ag-cell[col-id='therapist']")
    shown = rows.all_inner_texts()
    assert shown == sorted(shown)


def test_the_client_page_shows_the_expected_course(fair_dashboard_url, fair_warehouse, watched):
    page = watched
    [(client, course, since)] = _query(
        fair_warehouse,
        "SELECT client_id, course_id, detail FROM alerts WHERE alert_type = 'off_track'"
        " ORDER BY client_id LIMIT 1",
    )
    page.goto(f"{fair_dashboard_url}/client?client_id={client}")
    wait_for_dash(page)
    badge = page.inner_text(f"#{ids.CLIENT_OFF_TRACK}")
    first = min(int(part.split("session ")[1]) for part in since.split(": ")[1].split(", "))
    assert badge.startswith(f"Not on track since session {first}")
    # the badge sits at the top of the safety section, above the charts
    assert page.evaluate(
        f"() => document.getElementById('{ids.CLIENT_OFF_TRACK}').getBoundingClientRect().top"
        f" < document.getElementById('{ids.client_trend('pain')}').getBoundingClientRect().top"
    )
    metric = since.split(": ")[1].split(" since")[0].replace(" ", "_")
    traces = {t["name"]: t for t in _traces(page, ids.client_trend(metric))}
    assert {"expected (middle half)", "expected median", "off-track line (p10)"} <= set(traces)
    [(baseline,)] = _query(fair_warehouse, f"SELECT baseline FROM course_progress WHERE "
                           f"course_id = '{course}' AND metric = '{metric}'")  # fmt: skip
    rows = _query(fair_warehouse, f"SELECT session_number, expected_p10 FROM course_expectations"
                  f" WHERE course_id = '{course}' AND metric = '{metric}'"
                  " AND expected_p10 IS NOT NULL ORDER BY 1")  # fmt: skip
    sign = 1 if metric == "mobility" else -1
    p10 = traces["off-track line (p10)"]
    assert p10["x"] == [k for k, _ in rows]
    assert p10["y"] == pytest.approx([baseline + sign * v for _, v in rows])


def test_earlier_completed_courses_are_one_line_each(fair_dashboard_url, fair_warehouse, watched):
    page = watched
    [(client, n)] = _query(
        fair_warehouse,
        "WITH c AS (SELECT client_id, course_id, status, row_number() OVER (PARTITION BY"
        " client_id ORDER BY first_session_at DESC, course_id DESC) AS i FROM courses)"
        " SELECT client_id, count(*) FROM c WHERE i > 1 AND status = 'completed'"
        " GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1",
    )
    page.goto(f"{fair_dashboard_url}/client?client_id={client}")
    wait_for_dash(page)
    lines = page.locator(f"#{ids.CLIENT_COURSES} li").all_inner_texts()
    assert len(lines) == n
    assert all(" sessions · improvement pain " in line and "mobility" in line for line in lines)


def test_an_analyst_sees_the_funnel_by_pseudonym(
    fair_dashboard_url, fair_warehouse, security_env, browser
):
    from dashboard.screenshots import sign_in
    from pipelines.users import UserStore, pseudonym, read_or_create_secret

    UserStore(security_env["users_db"]).add("analyst-fair", "analyst-fair-password", "analyst")
    context = browser.new_context(viewport=VIEWPORT)
    try:
        page = context.new_page()
        problems = Problems(page)
        sign_in(page, fair_dashboard_url, "analyst-fair", "analyst-fair-password", "/therapists")
        page.goto(fair_dashboard_url + "/therapists")
        wait_for_dash(page)
        labels = {label for t in _traces(page, ids.THERAPIST_FUNNEL) if t["text"]
                  for label in t["text"]}  # fmt: skip
        secret = read_or_create_secret(security_env["pseudonym_secret_file"])
        real = [t for (t,) in _query(fair_warehouse, "SELECT therapist_id FROM therapist_outcomes"
                                     " WHERE metric = 'pain'")]  # fmt: skip
        assert labels == {pseudonym(secret, "therapist", t) for t in real}
        seen = page.content()
        assert not [t for t in real if f">{t}<" in seen or f'"{t}"' in seen]
        assert problems.items == []
    finally:
        context.close()
