"""Fixtures shared by the whole suite.

Prefect: one real `prefect server start` for the session, whose URL is used by in-process
flows and given to CLI subprocesses (`outcomes ingest`, `outcomes serve`): every flow run in
the tests is a real one.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "tests" / "fixtures" / "examples"
"""A copy of shared/examples (the spec's sample files): CI runs in a clean clone of the
project alone, so the tests must not reach outside it."""

# Prefect must see these before it is imported anywhere in the test process.
_PREFECT_HOME = ROOT / "data" / "test-prefect"
_PREFECT_HOME.mkdir(parents=True, exist_ok=True)
os.environ.setdefault("PREFECT_HOME", str(_PREFECT_HOME))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

# Accounts and secrets of the test run stay out of the project's data/ (the demo test
# creates a demo owner, for one); tests/dashboard and tests/security set their own.
_SECRETS = Path(tempfile.mkdtemp(prefix="outcomes-test-secrets-"))
for _name in ("users_db", "session_secret_file", "pseudonym_secret_file"):
    os.environ.setdefault(f"OUTCOMES_{_name.upper()}", str(_SECRETS / _name))


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory) -> Iterator[str]:
    """A real local Prefect server for the session; yields its API URL."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from pipelines.prefect_env import LocalPrefectServer

    home = tmp_path_factory.mktemp("prefect-server")
    log = tmp_path_factory.getbasetemp() / "prefect-server.log"
    with (
        LocalPrefectServer(home, log) as server,
        temporary_settings(updates={PREFECT_API_URL: server.url}),
    ):
        yield server.url


@pytest.fixture(scope="session")
def examples_warehouse(tmp_path_factory, prefect_api) -> Path:
    """The spec's sample files loaded once per session by the real `outcomes ingest`.
    Read it as it is; copy it first to change it."""
    db = tmp_path_factory.mktemp("examples-warehouse") / "warehouse.duckdb"
    _run_cli("ingest", str(EXAMPLES), "--db", str(db), api_url=prefect_api)
    return db


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


@pytest.fixture
def examples() -> Path:
    return EXAMPLES


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    return EXAMPLES


def _run_cli(*args: str, api_url: str | None = None, check: bool = True, **env: str):
    """Run `outcomes ARGS…` in a subprocess, as a user would."""
    full_env = {**os.environ, **env}
    if api_url:
        full_env["PREFECT_API_URL"] = api_url
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=ROOT,
        timeout=600,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"outcomes {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="session")
def module_cli():
    """Like `cli`, for fixtures of wider scope."""
    return _run_cli


@pytest.fixture
def cli():
    """cli(*args, api_url=None, check=True) runs `outcomes ARGS…` in a subprocess."""
    return _run_cli


def _query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


@pytest.fixture
def query():
    """query(db, sql) -> list of tuples, on a short-lived read-only connection."""
    return _query


ANALYST_VIEWS = (
    "clients", "therapists", "sessions", "scores", "courses", "course_progress",
    "cohort_outcomes", "alerts", "quarantine", "load_log",
)  # fmt: skip
VOLATILE_COLUMNS = {"loaded_at", "first_seen_at"}  # wall-clock times differ between runs


def _snapshot(db: Path) -> dict[str, list[str]]:
    out = {}
    for view in ANALYST_VIEWS:
        cols = [r[0] for r in _query(db, f"DESCRIBE {view}") if r[0] not in VOLATILE_COLUMNS]
        out[view] = sorted(map(repr, _query(db, f"SELECT {', '.join(cols)} FROM {view}")))
    return out


@pytest.fixture
def snapshot():
    """snapshot(db) -> every analyst view's rows (sorted), without wall-clock columns."""
    return _snapshot


@pytest.fixture(scope="session")
def module_snapshot():
    return _snapshot


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright: use Debian's Chromium; nothing may download a browser here."""
    from dashboard.screenshots import CHROMIUM, CHROMIUM_ARGS

    return {**browser_type_launch_args, "executable_path": CHROMIUM, "headless": True,
            "args": CHROMIUM_ARGS}  # fmt: skip


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    from dashboard.screenshots import VIEWPORT

    return {**browser_context_args, "viewport": VIEWPORT}
