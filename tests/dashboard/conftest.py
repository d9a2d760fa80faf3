"""Fixtures of the dashboard tests: one warehouse built by the real pipeline from
shared/examples (via `outcomes ingest` against the session's Prefect server), with its
pseudonymised analysts' copy, and a signed-in owner for every browser test.

Sign-in (docs/security.md): the app needs a signed-in user for everything. For this whole
directory, the environment points the settings users_db / session_secret_file /
pseudonym_secret_file at a temporary folder, so every app process started here (also by
`running_app`) shares one accounts file and one cookie key; an owner signs in once through
the real form, and the browser contexts of all tests start with that session cookie
(cookies are per host, not per port, so it is valid for every app on 127.0.0.1).

Hand-checked facts of the examples (the test_data_* files rely on them): C001 (athlete) has
S0001 and S0002 (blank status = completed, discomfort, notes "calf tender") in inferred
course C001-1; C002 (BMI 29.6, overweight) has completed S0003 in K-17 and a no-show S0004;
C003 has no sessions. as_of = 2026-09-05, both courses in progress. Pain pre scores: C001
7 → 6, C002 4.5. T02 has no qualification (alert on S0003).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard.screenshots import running_app, sign_in
from pipelines.users import UserStore

OWNER, OWNER_PASSWORD = "owner-test", "owner-test-password"


@pytest.fixture(scope="session", autouse=True)
def security_env(tmp_path_factory) -> Iterator[dict[str, Path]]:
    """Accounts and secrets of this test session (inherited by every app subprocess)."""
    root = tmp_path_factory.mktemp("security")
    paths = {
        "users_db": root / "users.db",
        "session_secret_file": root / "session.key",
        "pseudonym_secret_file": root / "pseudonym.key",
    }
    with pytest.MonkeyPatch.context() as mp:
        for name, path in paths.items():
            mp.setenv(f"OUTCOMES_{name.upper()}", str(path))
        UserStore(paths["users_db"]).add(OWNER, OWNER_PASSWORD, "owner")
        yield paths


@pytest.fixture(scope="session")
def example_warehouse(tmp_path_factory, module_cli, prefect_api, examples_dir, security_env):
    db = tmp_path_factory.mktemp("dashboard") / "warehouse.duckdb"
    module_cli("ingest", str(examples_dir), "--db", str(db), api_url=prefect_api)
    assert db.exists()
    return db


@pytest.fixture(scope="session")
def dashboard_url(example_warehouse) -> Iterator[str]:
    """The real app on the example warehouse, for the whole session."""
    with running_app(example_warehouse) as url:
        yield url


@pytest.fixture(scope="session")
def owner_storage_state(browser, browser_context_args, dashboard_url) -> dict:
    """Cookies of an owner signed in once through the form."""
    context = browser.new_context(**browser_context_args)
    try:
        page = context.new_page()
        sign_in(page, dashboard_url, OWNER, OWNER_PASSWORD)
        assert page.url.rstrip("/") == dashboard_url, page.url
        return context.storage_state()
    finally:
        context.close()


@pytest.fixture
def context(new_context, owner_storage_state):
    """pytest-playwright's context, signed in as the owner."""
    return new_context(storage_state=owner_storage_state)


@pytest.fixture(scope="session")
def fair_warehouse(tmp_path_factory, module_cli, prefect_api, security_env) -> Path:
    """A generated clinic (500 clients, both deliveries) large enough for every §7 figure:
    case-mix models, a therapist funnel, expected bands and off-track courses."""
    from pipelines.generate import generate_export

    root = tmp_path_factory.mktemp("fair")
    generate_export(root / "export", n_clients=500, seed=3)
    db = root / "warehouse.duckdb"
    for delivery in ("delivery-1", "delivery-2"):
        module_cli("ingest", str(root / "export" / delivery), "--db", str(db), api_url=prefect_api)
    return db


@pytest.fixture(scope="session")
def fair_dashboard_url(fair_warehouse) -> Iterator[str]:
    with running_app(fair_warehouse) as url:
        yield url
