"""The GX Data Docs under /gx-docs/: every asset served locally, under a policy written for
them, in real headless Chromium (docs/security.md, "Data Docs").

The docs are the ones the session's example load built (sec_warehouse runs `outcomes ingest`,
which writes them to the setting gx_docs_dir that the app serves). One more validation, with
row values that are markup, shows that a script made of data does not run."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import importlib.util
import re
from pathlib import Path

import pandas as pd
import pytest
from browser_support import Problems
from security_support import ACCOUNTS

from dashboard.gx_docs import docs_policy, inline_code
from dashboard.gx_docs_vendor import ASSETS, ASSETS_DIR, EXTRA_FILES, LOGO_BUCKET, folder
from dashboard.screenshots import sign_in

TEMPLATES = (
    Path(next(iter(importlib.util.find_spec("great_expectations").submodule_search_locations)))
    / "render"
    / "view"
    / "templates"
)
TABLE_ROWS = "#Validation-Results table tbody tr[data-index]"


def _template_assets() -> dict[str, str | None]:
    """Every URL outside the site that a GX page template loads (script, style, image),
    with the Subresource-Integrity hash the template gives it, if any."""
    found: dict[str, str | None] = {}
    for template in TEMPLATES.glob("*.j2"):
        text = template.read_text(encoding="utf-8")
        for tag in re.findall(r"<(?:script|link|img)\b[^>]*>", text, flags=re.S):
            url = re.search(r'(?:src|href)="(https?://[^"]+)"', tag)
            if url:
                sri = re.search(r'integrity="([^"]+)"', tag)
                found[url.group(1)] = sri.group(1) if sri else None
    images = re.findall(r'static_images_dir = "(https?://[^"]+)"', (TEMPLATES / "top_navbar.j2")
                        .read_text(encoding="utf-8"))  # fmt: skip
    found.update(dict.fromkeys(images))
    return found


def test_every_cdn_asset_of_the_templates_is_shipped():
    found = _template_assets()
    assert len(found) >= 15  # GX 1.24.1: 16 assets and the logo bucket
    assert set(found) - {LOGO_BUCKET} == set(ASSETS)
    for url, sri in found.items():
        if url == LOGO_BUCKET:
            continue
        package, file = ASSETS[url]
        local = ASSETS_DIR / folder(package) / file
        assert local.is_file() and local.stat().st_size > 0, url
        if sri:  # the very file the template vouches for
            algorithm, digest = sri.split("-", 1)
            mine = base64.b64encode(hashlib.new(algorithm, local.read_bytes()).digest())
            assert mine.decode() == digest, url
    for package, files in EXTRA_FILES.items():
        assert all((ASSETS_DIR / folder(package) / f).is_file() for f in files)


@pytest.fixture
def owner_page(sec_url, sec_warehouse, page):
    sign_in(page, sec_url, "olga", ACCOUNTS["olga"][0])
    return page


def _watch(page, base: str) -> tuple[Problems, list[str]]:
    problems, outside = Problems(page), []
    page.on("request", lambda r: r.url.startswith(base) or outside.append(r.url))
    return problems, outside


def test_owner_sees_the_validation_results_with_no_console_error(owner_page, sec_url):
    page = owner_page
    problems, outside = _watch(page, sec_url)
    response = page.goto(sec_url + "/gx-docs/index.html", wait_until="networkidle")
    assert response.status == 200
    policy = dict(d.strip().split(" ", 1) for d in response.headers["content-security-policy"]
                  .split(";"))  # fmt: skip
    assert policy["default-src"] == "'self'" and "'sha256-" in policy["script-src"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    page.wait_for_selector(TABLE_ROWS, timeout=20_000)
    rows = page.locator(TABLE_ROWS)
    assert rows.count() >= 8  # one per suite of the example load, at least
    listed = page.inner_text("#Validation-Results")
    for suite in ("clients", "sessions", "therapists"):
        assert suite in listed
    assert problems.items == [] and outside == []

    rows.first.click()  # a row opens its validation page (bootstrap-table's click handler)
    page.wait_for_url(re.compile(r".*/gx-docs/validations/.*\.html"), timeout=20_000)
    page.wait_for_load_state("networkidle")
    assert page.locator("table").count() > 0
    page.click("label:has-text('Failed Only')")  # inline onclick handlers, allowed by hash
    page.click("label:has-text('Show All')")
    assert problems.items == [] and outside == []


MARKUP = [
    "</script><script>window.__pwned = 1</script>",
    "<img src=x onerror='window.__pwned = 2'>",
    "<svg onload='window.__pwned = 3'></svg>",
    '"><script>window.__pwned = 4</script>',
    '<a href="javascript:window.__pwned = 5" id=js-link>x</a>',
]


def test_markup_in_row_values_does_not_run(owner_page, sec_url, examples_dir):
    from pipelines.settings import get_settings
    from pipelines.validation.gx_context import build_docs, run_validation
    from pipelines.validation.rows import suite_parameters

    clients = pd.read_csv(examples_dir / "clients.csv", parse_dates=["birth_date"]).head(1)
    frame = pd.concat([clients] * len(MARKUP), ignore_index=True).assign(sex=MARKUP)
    parameters = suite_parameters(get_settings(), dt.datetime.now(dt.UTC))
    result = run_validation("clients", frame, parameters)
    assert not result.success  # the sex values are quoted as unexpected
    build_docs()
    docs = _docs_dir()
    newest = max(
        (docs / "validations" / "clients").rglob("*.html"), key=lambda p: p.parent.name
    )  # the run time (pages are all re-rendered)
    relative = newest.relative_to(docs).as_posix()
    html = newest.read_text(encoding="utf-8")
    assert "<script>window.__pwned = 1</script>" in html  # GX writes the value as markup
    policy = docs_policy(relative, html)
    injected = [s for s in inline_code(html).scripts if "__pwned" in s]
    assert injected and not any(_hash(s) in policy for s in injected)

    page = owner_page
    problems, outside = _watch(page, sec_url)
    page.goto(f"{sec_url}/gx-docs/{relative}", wait_until="networkidle")
    if page.locator("#js-link").count():
        page.locator("#js-link").first.click(force=True)
    assert page.evaluate("window.__pwned") is None
    assert outside == []
    # what may show: the policy refusing the injected code, and the 404 of <img src=x>
    x_url = f"{sec_url}/gx-docs/{relative.rsplit('/', 1)[0]}/x"
    refusals = [p for p in problems.items if "Content Security Policy" in p]
    others = [p for p in problems.items if p not in refusals and p != f"HTTP 404 {x_url}"
              and "status of 404" not in p]  # fmt: skip
    assert len(refusals) >= 4 and others == [], problems.items


def _docs_dir() -> Path:
    from pipelines.settings import get_settings

    return get_settings().path("gx_docs_dir")


def _hash(code: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(code.encode()).digest()).decode()
