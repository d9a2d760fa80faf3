"""Helpers of the real-browser tests (tests/dashboard, tests/security): collect what a page
does wrong, run a refused query in the SQL console. Signing in is
dashboard.screenshots.sign_in, which the screenshots use too."""

from __future__ import annotations

from dashboard import ids


class Problems:
    """Console errors, uncaught page errors and failed requests of one page."""

    def __init__(self, page) -> None:
        self.items: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.items.append(f"console: {m.text}"))
        page.on("pageerror", lambda e: self.items.append(f"pageerror: {e}"))
        page.on(
            "response",
            lambda r: r.status >= 400 and self.items.append(f"HTTP {r.status} {r.url}"),
        )


def run_refused_sql(page, sql: str) -> str:
    """Run `sql` in the SQL console, wait for its error message and return it."""
    page.fill(f"#{ids.SQL_INPUT}", sql)
    page.click(f"#{ids.SQL_RUN}")
    page.wait_for_function(
        f"() => document.getElementById('{ids.SQL_MESSAGE}').className.includes('error')",
        timeout=20_000,
    )
    return page.inner_text(f"#{ids.SQL_MESSAGE}")
