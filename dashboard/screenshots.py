"""Save one PNG per dashboard page with headless Chromium.

    python -m dashboard.screenshots --db data/warehouse.duckdb --out docs/screenshots

Starts the real app in a subprocess on a free port, opens every page at 1280x900 and
waits until Dash has no callback in flight before taking the picture. Uses the system
Chromium (/usr/bin/chromium); nothing downloads a browser.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dashboard import ids
from pipelines.local_process import free_port, serving
from pipelines.settings import PROJECT_ROOT

CHROMIUM = os.environ.get("OUTCOMES_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
VIEWPORT = {"width": 1280, "height": 900}


SCROLL_TO = {"cohorts-fair": ids.COHORT_FOREST}
"""Screenshots of a part below the fold: the id scrolled into view first (dashboard.ids)."""


def pages(client_id: str = "C001") -> list[tuple[str, str]]:
    return [
        ("overview", "/"),
        ("cohorts", "/cohorts"),
        ("cohorts-fair", "/cohorts"),
        ("client", f"/client?client_id={client_id}"),
        ("therapists", "/therapists"),
        ("quality", "/quality"),
        ("sql", "/sql"),
        ("audit", "/audit"),
    ]


@contextmanager
def running_app(db: Path, port: int | None = None, timeout_s: float = 90) -> Iterator[str]:
    """Start `outcomes dashboard` and yield its base URL once it answers 200."""
    port = port or free_port()
    log_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"dashboard-{port}.log"
    command = [sys.executable, "-m", "pipelines.cli", "dashboard",
               "--db", str(db), "--port", str(port)]  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    with serving(command, url + "/", log_path, timeout_s, cwd=PROJECT_ROOT):
        yield url


def wait_for_dash(page, timeout_ms: float = 30_000) -> None:
    """Wait until the page is rendered and no Dash callback is pending."""
    page.wait_for_selector("#react-entry-point ._dash-undo-redo, #react-entry-point > *",
                           timeout=timeout_ms)  # fmt: skip
    page.wait_for_load_state("networkidle", timeout=timeout_ms)
    page.wait_for_function(
        "() => !document.querySelector('[data-dash-is-loading=\"true\"], ._dash-loading')",
        timeout=timeout_ms,
    )


@contextmanager
def screenshot_owner() -> Iterator[tuple[str, str]]:
    """A throwaway owner account in a throwaway accounts file (the app subprocess reads it
    from the environment): screenshots never touch the clinic's real accounts."""
    import secrets
    import tempfile

    from pipelines.users import UserStore

    with tempfile.TemporaryDirectory(prefix="screenshots-") as tmp:
        saved = {
            k: os.environ.get(k) for k in ("OUTCOMES_USERS_DB", "OUTCOMES_SESSION_SECRET_FILE")
        }
        os.environ["OUTCOMES_USERS_DB"] = str(Path(tmp) / "users.db")
        os.environ["OUTCOMES_SESSION_SECRET_FILE"] = str(Path(tmp) / "session.key")
        password = secrets.token_urlsafe(16)
        try:
            UserStore(Path(tmp) / "users.db").add("screenshots", password, "owner")
            yield "screenshots", password
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def take(db: Path, out: Path, client_id: str = "C001", browser=None) -> list[Path]:
    """Screenshot every page into `out`. `browser`: a Playwright browser to use (tests pass
    pytest-playwright's, since one process can run only one sync Playwright); else one of
    our own is launched."""
    out.mkdir(parents=True, exist_ok=True)
    with screenshot_owner() as (user, password), running_app(db) as url:
        if browser is not None:
            return _shoot(browser, url, user, password, out, client_id)
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            own = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                return _shoot(own, url, user, password, out, client_id)
            finally:
                own.close()


def sign_in(page, url: str, username: str, password: str, next_path: str = "/") -> None:
    """Sign in through the app's real form, landing on `next_path` (also used by the browser
    tests)."""
    page.goto(f"{url}/login?next={next_path}")
    page.fill("#login-username", username)
    page.fill("#login-password", password)
    page.click("#login-submit")
    wait_for_dash(page)


def _shoot(browser, url: str, user: str, password: str, out: Path, client_id: str) -> list[Path]:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    sign_in(page, url, user, password)
    saved = []
    try:
        for name, path in pages(client_id):
            page.goto(url + path)
            wait_for_dash(page)
            if name == "sql":
                page.click("#sql-run")
                page.wait_for_selector("#sql-grid .ag-row", timeout=30_000)
                wait_for_dash(page)
            if name in SCROLL_TO:
                page.locator(f"#{SCROLL_TO[name]}").scroll_into_view_if_needed()
            page.wait_for_timeout(600)  # let plotly finish its transitions
            target = out / f"{name}.png"
            page.screenshot(path=str(target), full_page=False)
            saved.append(target)
    finally:
        context.close()
    return saved


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Screenshot every dashboard page.")
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "docs" / "screenshots")
    parser.add_argument("--client", default="C001", help="client shown on the client page")
    args = parser.parse_args(argv)
    for path in take(args.db, args.out, args.client):
        print(f"{path} ({path.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
