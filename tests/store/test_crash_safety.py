"""SIGKILL `outcomes ingest` at each crash point: nothing half-loaded, nothing lost.

After each kill the published warehouse is exactly as before the run, and the next run
produces the same warehouse as a run that was never interrupted.
"""

from __future__ import annotations

import shutil
import signal

import pytest

from pipelines.crash_points import KILL_AT_ENV, POINTS


@pytest.fixture(scope="module")
def deliveries(tmp_path_factory, examples_dir):
    root = tmp_path_factory.mktemp("deliveries")
    first, second = root / "d1", root / "d2"
    first.mkdir()
    second.mkdir()
    for name in ("clients.csv", "therapists.csv"):
        shutil.copy(examples_dir / name, first / name)
    for name in ("sessions.csv", "scores.jsonl"):
        shutil.copy(examples_dir / name, second / name)
    (second / "scores_bad.csv").write_text("session_id,timing,pain\nS0001,pre,11\nS9,pre,3\n")
    return first, second


@pytest.fixture(scope="module")
def after_first(tmp_path_factory, deliveries, prefect_api, module_cli):
    """A warehouse holding the first delivery (copied by each test)."""
    db = tmp_path_factory.mktemp("first") / "w.duckdb"
    module_cli("ingest", str(deliveries[0]), "--db", str(db), api_url=prefect_api)
    return db


@pytest.fixture(scope="module")
def reference(tmp_path_factory, deliveries, after_first, prefect_api, module_cli, module_snapshot):
    """The warehouse after both deliveries, loaded without interruption."""
    db = tmp_path_factory.mktemp("reference") / "w.duckdb"
    shutil.copy(after_first, db)
    module_cli("ingest", str(deliveries[1]), "--db", str(db), api_url=prefect_api)
    return module_snapshot(db)


@pytest.mark.parametrize("point", POINTS)
def test_a_killed_load_leaves_the_warehouse_as_before_and_the_rerun_completes(
    point, tmp_path, deliveries, after_first, prefect_api, cli, snapshot, reference
):
    db = tmp_path / "w.duckdb"
    shutil.copy(after_first, db)
    second = deliveries[1]
    before = snapshot(db)

    killed = cli("ingest", str(second), "--db", str(db), api_url=prefect_api, check=False,
                 **{KILL_AT_ENV: point})  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    assert snapshot(db) == before  # nothing of the killed run is visible

    cli("ingest", str(second), "--db", str(db), api_url=prefect_api)
    assert snapshot(db) == reference
