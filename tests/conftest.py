"""Fixtures shared by the whole suite.

Prefect: one real Prefect API for the session (`prefect_test_harness`), whose URL is
also given to CLI subprocesses, so every flow run in the tests is a real one.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT.parent / "shared" / "examples"

# Prefect must see these before it is imported anywhere in the test process.
_PREFECT_HOME = ROOT / "data" / "test-prefect"
_PREFECT_HOME.mkdir(parents=True, exist_ok=True)
os.environ.setdefault("PREFECT_HOME", str(_PREFECT_HOME))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[str]:
    """A real Prefect API for the session; yields its URL."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield PREFECT_API_URL.value()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


@pytest.fixture
def examples() -> Path:
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


@pytest.fixture
def cli():
    """cli(*args, api_url=None, check=True) runs `outcomes ARGS…` in a subprocess."""
    return _run_cli


@pytest.fixture
def query():
    """query(db, sql) -> list of tuples, on a short-lived read-only connection."""

    def _query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
        con = duckdb.connect(str(db), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()

    return _query
