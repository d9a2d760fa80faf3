"""Real Prefect flow runs of `ingest` against a real DuckDB file and real GX validation."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from pipelines.settings import get_settings

ANALYST_VIEWS = (
    "clients", "therapists", "sessions", "scores", "courses", "course_progress",
    "cohort_outcomes", "alerts", "quarantine", "load_log",
)  # fmt: skip


@pytest.fixture
def ingest(prefect_api, db_path):
    from pipelines.flows import ingest_flow

    def _ingest(*paths: Path, db: Path = db_path):
        return ingest_flow([str(p) for p in paths], str(db))

    return _ingest


def snapshot(query, db: Path) -> dict[str, list[tuple]]:
    return {v: sorted(map(repr, query(db, f"SELECT * FROM {v}"))) for v in ANALYST_VIEWS}


def test_ingest_examples_builds_every_view_and_records_the_run(ingest, db_path, examples, query):
    summary = ingest(examples)
    assert summary.status == "succeeded" and summary.count("loaded") == 4
    for view in ANALYST_VIEWS:
        query(db_path, f"SELECT * FROM {view} LIMIT 1")  # exists and answers
    assert query(db_path, "SELECT count(*) FROM sessions") == [(4,)]
    assert query(db_path, "SELECT status, files_loaded FROM meta_runs") == [("succeeded", 4)]
    suites = {r[0] for r in query(db_path, "SELECT suite FROM meta_gx_results")}
    assert {"clients", "therapists", "sessions", "scores", "mart_courses"} <= suites
    assert (get_settings().path("gx_docs_dir") / "index.html").exists()


def test_repeated_delivery_changes_nothing(ingest, db_path, examples, query):
    ingest(examples)
    before = snapshot(query, db_path)
    again = ingest(examples)
    assert again.count("skipped") == 4 and again.count("loaded") == 0
    after = snapshot(query, db_path)
    assert after == before


def test_same_bytes_twice_in_one_delivery_load_once(ingest, db_path, examples, tmp_path, query):
    delivery = tmp_path / "delivery"
    shutil.copytree(examples, delivery)
    sessions = next(delivery.glob("sessions*"))
    shutil.copy(sessions, delivery / f"sessions_zz_copy{sessions.suffix}")
    summary = ingest(delivery)
    statuses = {Path(f.source_file).name: f.status for f in summary.files}
    assert statuses[f"sessions_zz_copy{sessions.suffix}"] == "skipped"
    assert summary.count("loaded") == 4 and summary.count("skipped") == 1
    assert query(db_path, "SELECT count(*) FROM sessions") == [(4,)]


def test_files_prepared_while_the_xlsx_worker_reads_load_in_order_and_once(
    ingest, db_path, examples, tmp_path, query
):
    # clients as XLSX go to the worker; the files after it may be prepared meanwhile (two
    # at most): the copy of the therapists file is prepared before the original has loaded
    # and must still be skipped at its turn
    delivery = tmp_path / "delivery"
    shutil.copytree(examples, delivery)
    clients_csv = delivery / "clients.csv"
    frame = pd.read_csv(clients_csv, dtype=str, keep_default_na=False)
    frame.to_excel(delivery / "clients.xlsx", index=False)
    clients_csv.unlink()
    shutil.copy(delivery / "therapists.csv", delivery / "therapists_copy.csv")
    summary = ingest(delivery)
    names = [Path(f.source_file).name for f in summary.files]
    assert names == ["clients.xlsx", "therapists.csv", "therapists_copy.csv",
                     "sessions.csv", "scores.jsonl"]  # fmt: skip
    assert [f.status for f in summary.files] == [
        "loaded", "loaded", "skipped", "loaded", "loaded"]  # fmt: skip
    assert query(db_path, "SELECT count(*) FROM clients") == [(len(frame),)]
    assert query(db_path, "SELECT count(*) FROM sessions") == [(4,)]
    logged = query(db_path, "SELECT file_seq, source_file FROM meta_load_log ORDER BY file_seq")
    expected = [(1, "clients.xlsx"), (2, "therapists.csv"), (4, "sessions.csv"),
                (5, "scores.jsonl")]  # fmt: skip
    assert [(n, Path(f).name) for n, f in logged] == expected


def test_bad_files_are_rejected_whole_and_the_rest_loads(
    ingest, db_path, examples, tmp_path, query
):
    delivery = tmp_path / "delivery"
    shutil.copytree(examples, delivery)
    (delivery / "visits.csv").write_text("a,b\n1,2\n")
    (delivery / "clients_extra.txt").write_text("client_id,birth_date\nC9,1990-01-01\n")
    (delivery / "therapists_more.csv").write_text("name\nNo Id\n")
    (delivery / "sessions_garbage.csv").write_bytes(b"\x00\xff\xfe garbage \x00" * 50)
    summary = ingest(delivery)
    rejected = {
        Path(f.source_file).name: f.message for f in summary.files if f.status == "rejected"
    }
    assert set(rejected) == {
        "visits.csv", "clients_extra.txt", "therapists_more.csv", "sessions_garbage.csv"
    }  # fmt: skip
    assert "missing required column(s) therapist_id" in rejected["therapists_more.csv"]
    assert "must start with one of" in rejected["visits.csv"]
    assert summary.count("loaded") == 4
    assert query(db_path, "SELECT count(*) FROM therapists") == [(2,)]
    log = query(db_path, "SELECT status, count(*) FROM load_log GROUP BY 1 ORDER BY 1")
    assert log == [("loaded", 4), ("rejected", 4)]


def test_reconciliation_holds_for_every_file(ingest, db_path, examples, query):
    ingest(examples)
    rows = query(
        db_path,
        "SELECT source_file FROM load_log "
        "WHERE rows_read <> rows_loaded + rows_quarantined + rows_duplicate",
    )
    assert rows == []


def test_cli_ingest_prints_a_summary_and_exits_zero(prefect_api, db_path, examples, cli):
    proc = cli("ingest", str(examples), "--db", str(db_path), api_url=prefect_api)
    assert "files: 4 loaded, 0 rejected, 0 skipped" in proc.stdout
    assert "alerts:" in proc.stdout


def test_cli_ingest_refuses_a_missing_path(tmp_path, cli):
    proc = cli("ingest", str(tmp_path / "nope"), check=False)
    assert proc.returncode == 2 and "no such file or folder" in proc.stdout


def test_watch_inbox_loads_dropped_files_and_archives_them(
    prefect_api, db_path, examples, tmp_path, query
):
    from pipelines.flows import watch_inbox_flow

    inbox, archive = tmp_path / "inbox", tmp_path / "archive"
    shutil.copytree(examples, inbox)
    summary = watch_inbox_flow(str(db_path), str(inbox), str(archive))
    assert summary.count("loaded") == 4
    assert list(inbox.rglob("*.*")) == []
    assert len(list(archive.rglob("*.*"))) == 4
    assert query(db_path, "SELECT count(*) FROM sessions") == [(4,)]
    assert watch_inbox_flow(str(db_path), str(inbox), str(archive)) is None  # nothing new


def test_serve_registers_a_deployment_that_picks_up_the_inbox(
    prefect_api, db_path, examples, tmp_path, query
):
    import os
    import signal
    import subprocess
    import sys
    import time

    inbox, archive = tmp_path / "inbox", tmp_path / "archive"
    inbox.mkdir()
    env = {**os.environ, "PREFECT_API_URL": prefect_api}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "serve", "--interval", "5", "--db", str(db_path),
         "--inbox", str(inbox), "--archive", str(archive)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        time.sleep(3)
        shutil.copy(examples / "clients.csv", inbox / "clients.csv")
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not list(archive.rglob("clients.csv")):
            time.sleep(1)
        assert list(archive.rglob("clients.csv")), "the served deployment did not pick the file up"
        assert query(db_path, "SELECT count(*) FROM clients") == [(3,)]
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
