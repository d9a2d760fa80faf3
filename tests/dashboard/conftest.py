"""Fixtures of the dashboard tests: one warehouse built by the real pipeline from
shared/examples (via `outcomes ingest` against the session's Prefect server)."""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip


@pytest.fixture(scope="session")
def example_warehouse(tmp_path_factory, module_cli, prefect_api, examples_dir) -> Path:
    db = tmp_path_factory.mktemp("dashboard") / "warehouse.duckdb"
    module_cli("ingest", str(examples_dir), "--db", str(db), api_url=prefect_api)
    assert db.exists()
    return db


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright: use Debian's Chromium; nothing may download a browser here."""
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "headless": True,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}}
