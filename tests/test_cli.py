"""The `outcomes` commands a user types: demo end to end, and sql with its guards."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def demo(tmp_path_factory, module_cli, prefect_api):
    """`outcomes demo` on a small export, without serving the dashboard."""
    root = tmp_path_factory.mktemp("demo")
    db = root / "warehouse.duckdb"
    done = module_cli("demo", "--clients", "25", "--out", str(root / "export"), "--db", str(db),
                      "--no-dashboard", api_url=prefect_api)  # fmt: skip
    return done, db, root


def test_demo_generates_loads_both_deliveries_and_says_how_to_open_the_dashboard(demo, query):
    done, db, root = demo
    assert (root / "export" / "manifest.jsonl").exists()
    assert "outcomes dashboard" in done.stdout
    runs = query(db, "SELECT status FROM meta_runs ORDER BY load_seq")
    assert [r[0] for r in runs] == ["succeeded", "succeeded"]
    assert query(db, "SELECT count(*) FROM courses")[0][0] > 0
    cohorts = {r[0] for r in query(db, "SELECT cohort FROM cohort_outcomes")}
    assert cohorts <= {"athlete", "overweight", "other"} and cohorts


def test_sql_prints_rows_and_writes_a_neutralised_csv(demo, cli, tmp_path):
    _, db, _ = demo
    out = tmp_path / "rows.csv"
    done = cli("sql", "SELECT count(*) AS n_courses, '=HYPERLINK(1)' AS trap FROM courses",
               "--db", str(db), "--csv", str(out))  # fmt: skip
    assert "n_courses" in done.stdout and "1 row" in done.stdout
    assert "'=HYPERLINK(1)" in out.read_text()


@pytest.mark.parametrize(
    "statement",
    ["COPY courses TO '/tmp/leak.csv'", "SELECT * FROM read_csv('/etc/passwd')",
     "SELECT * FROM meta_runs", "SELECT 1; SELECT 2"],
)  # fmt: skip
def test_sql_refuses_what_is_not_a_read_of_the_views(demo, cli, statement):
    _, db, _ = demo
    done = cli("sql", statement, "--db", str(db), check=False)
    assert done.returncode == 1
    assert "refused" in done.stderr


def _flow_run_events(
    api_url: str, flow_run_id: str, names: list[str], until: str, wait_s: float = 30
) -> set[str]:
    """Which of the event `names` the Prefect API holds for a flow run, once `until` is among
    them (the run's process sends its events over a socket; the server stores them a moment
    later)."""
    import time

    from prefect.client.orchestration import get_client
    from prefect.events.filters import EventFilter, EventNameFilter, EventResourceFilter
    from prefect.settings import PREFECT_API_URL, temporary_settings

    wanted = EventFilter(
        resource=EventResourceFilter(id=[f"prefect.flow-run.{flow_run_id}"]),
        event=EventNameFilter(name=names),
    )
    deadline = time.monotonic() + wait_s
    with temporary_settings(updates={PREFECT_API_URL: api_url}), get_client(sync_client=True) as c:
        while True:
            found = {e.event for e in c.read_events(filter=wanted, limit=50).events}
            if until in found or time.monotonic() > deadline:
                return found


def test_ingest_sends_no_flow_run_heartbeats(cli, prefect_api, examples, tmp_path):
    """A run waits up to 1 s at its end for its heartbeat thread; heartbeats only feed
    crashed-run automations, which we do not configure (docs/reliability.md)."""
    import re

    done = cli("ingest", str(examples), "--db", str(tmp_path / "warehouse.duckdb"),
               api_url=prefect_api, PREFECT_LOGGING_LEVEL="INFO")  # fmt: skip
    flow_run_id = re.search(r"/runs/flow-run/([0-9a-f-]{36})", done.stdout + done.stderr)[1]
    completed, heartbeat = "prefect.flow-run.Completed", "prefect.flow-run.heartbeat"
    names = _flow_run_events(prefect_api, flow_run_id, [completed, heartbeat], until=completed)
    assert completed in names  # the events of this run did arrive
    assert heartbeat not in names


def test_write_suites_restores_the_suites_the_contract_builds(cli, tmp_path):
    """The maintenance command (hidden from --help) rewrites every suite under the
    expectations folder it is given: a missing one and one out of date come back exactly as
    committed (the committed ones match the contract: tests/validation/test_suites.py)."""
    import json
    import shutil

    from pipelines.settings import PROJECT_ROOT
    from pipelines.validation.suites import all_suites

    def rules(path):  # the expectations without their generated ids
        found = json.loads(path.read_text())["expectations"]
        return sorted(json.dumps([e["type"], e["kwargs"]], sort_keys=True) for e in found)

    committed = PROJECT_ROOT / "expectations"
    copy = tmp_path / "expectations"
    shutil.copytree(committed, copy, ignore=shutil.ignore_patterns("uncommitted"))
    suites, committed_suites = copy / "gx" / "expectations", committed / "gx" / "expectations"
    (suites / "scores.json").unlink()
    stale = json.loads((suites / "clients.json").read_text())
    stale["expectations"] = stale["expectations"][:1]
    (suites / "clients.json").write_text(json.dumps(stale))
    before = {p: p.read_bytes() for p in committed.rglob("*.json")}

    done = cli("write-suites", OUTCOMES_EXPECTATIONS_DIR=str(copy),
               OUTCOMES_GX_DOCS_DIR=str(tmp_path / "gx_docs"))  # fmt: skip

    assert done.stdout.splitlines() == [f"wrote suite {name}" for name in all_suites()]
    for name in all_suites():
        assert rules(suites / f"{name}.json") == rules(committed_suites / f"{name}.json")
    assert {p: p.read_bytes() for p in committed.rglob("*.json")} == before
    assert "write-suites" not in cli("--help").stdout
