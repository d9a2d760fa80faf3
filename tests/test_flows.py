"""Real Prefect flow runs of `ingest` against a real DuckDB file and real GX validation."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
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


class Served:
    """`outcomes serve --interval 1` running as a subprocess; its output lines are collected
    by a thread so that the test can wait for one."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.proc, self.lines = proc, []
        threading.Thread(target=lambda: self.lines.extend(proc.stdout), daemon=True).start()

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for(self, text: str, timeout_s: float = 120) -> None:
        deadline = time.monotonic() + timeout_s
        while text not in self.output:
            assert self.proc.poll() is None, f"serve exited {self.proc.returncode}:\n{self.output}"
            assert time.monotonic() < deadline, f"no {text!r} in:\n{self.output}"
            time.sleep(0.1)

    def stop(self, signum: int = signal.SIGTERM) -> int:
        self.proc.send_signal(signum)
        return self.proc.wait(timeout=60)


@pytest.fixture
def serve(prefect_api, db_path, tmp_path):
    """serve(**env) starts `outcomes serve --interval 1` on tmp_path/inbox, once warm."""
    started: list[Served] = []

    def _serve(**env: str) -> Served:
        command = [sys.executable, "-m", "pipelines.cli", "serve", "--interval", "1",
                   "--db", str(db_path), "--inbox", str(tmp_path / "inbox"),
                   "--archive", str(tmp_path / "archive")]  # fmt: skip
        proc = subprocess.Popen(
            command, env={**os.environ, "PREFECT_API_URL": prefect_api, **env},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        started.append(Served(proc))
        started[-1].wait_for("watching")
        return started[-1]

    yield _serve
    for served in started:
        if served.proc.poll() is None:
            served.proc.kill()
            served.proc.wait()


def deliver(files: list[Path], inbox: Path, name: str) -> None:
    """A delivery moved into the inbox whole: copied beside it, then renamed in."""
    staging = inbox.parent / f"staging-{name}"
    staging.mkdir()
    for f in files:
        shutil.copy(f, staging / f.name)
    staging.rename(inbox / name)


def test_serve_loads_each_delivery_in_one_warm_process(serve, db_path, examples, tmp_path, query):
    from pipelines.inbox import inbox_files

    inbox, archive = tmp_path / "inbox", tmp_path / "archive"
    worker = serve()
    deliver([examples / "clients.csv", examples / "therapists.csv"], inbox, "day-1")
    worker.wait_for("loaded 2 file(s)")
    garbage = tmp_path / "sessions_garbage.csv"
    garbage.write_bytes(b"\x00\xff\xfe garbage \x00" * 50)
    deliver([examples / "sessions.csv", examples / "scores.jsonl", garbage], inbox, "day-2")
    worker.wait_for("loaded 3 file(s)")
    assert worker.stop(signal.SIGTERM) == 0
    assert inbox_files(inbox) == []
    assert sorted(p.name for p in inbox_files(archive)) == [
        "clients.csv", "scores.jsonl", "sessions.csv", "sessions_garbage.csv", "therapists.csv"
    ]  # fmt: skip
    runs = query(db_path, "SELECT files_loaded, files_rejected FROM meta_runs ORDER BY load_seq")
    assert runs == [(2, 0), (2, 1)]  # the garbage file rejected, the worker went on
    assert query(db_path, "SELECT count(*) FROM sessions") == [(4,)]
    # one process warmed up once and loaded both deliveries, then stopped cleanly
    assert worker.output.count("watching") == 1 and worker.output.count("loading") == 2
    assert worker.output.rstrip().endswith("stopped")


def test_serve_keeps_serving_after_a_failed_load_and_tries_again(
    serve, db_path, examples, tmp_path, query
):
    from pipelines.inbox import inbox_files
    from pipelines.store.connection import load_lock

    inbox = tmp_path / "inbox"
    worker = serve(OUTCOMES_INBOX_RETRY_SECONDS="2")
    with load_lock(db_path):  # another load holds the warehouse
        deliver([examples / "clients.csv"], inbox, "day-1")
        worker.wait_for("load failed: WarehouseBusy: another `outcomes ingest` is loading")
        assert "next try in 2 s" in worker.output
        assert inbox_files(inbox) == [inbox / "day-1" / "clients.csv"]
        assert not db_path.exists()
    worker.wait_for("loaded 1 file(s)")
    assert inbox_files(inbox) == []
    assert query(db_path, "SELECT count(*) FROM clients") == [(3,)]
    assert worker.stop(signal.SIGINT) == 0  # Ctrl-C between runs stops it cleanly too


def test_serve_stopped_during_a_load_leaves_the_warehouse_and_the_inbox_as_they_were(
    serve, db_path, examples, tmp_path
):
    from pipelines.inbox import inbox_files
    from pipelines.store.connection import load_lock

    inbox = tmp_path / "inbox"
    worker = serve(OUTCOMES_LOAD_LOCK_WAIT_S="60")  # the run waits inside for the lock
    with load_lock(db_path):
        deliver([examples / "clients.csv"], inbox, "day-1")
        worker.wait_for("loading 1 file(s)")
        time.sleep(1)
        assert worker.stop(signal.SIGTERM) != 0  # the run was interrupted, not finished
    assert inbox_files(inbox) == [inbox / "day-1" / "clients.csv"]
    assert not db_path.exists() and "loaded" not in worker.output


def test_serve_refuses_links_and_fifos_and_keeps_a_file_changed_after_its_read(
    serve, db_path, examples, tmp_path, query
):
    from pipelines.inbox import inbox_files

    inbox, gate = tmp_path / "inbox", tmp_path / "gate"
    gate.mkdir()
    worker = serve(OUTCOMES_TEST_PAUSE_AT=f"after_read:{gate}")
    staging = tmp_path / "staging"
    staging.mkdir()
    for name in ("clients.csv", "therapists.csv"):
        shutil.copy(examples / name, staging / name)
    os.mkfifo(staging / "sessions_pipe.csv")
    (staging / "scores_link.jsonl").symlink_to(examples / "scores.jsonl")
    staging.rename(inbox / "day-1")
    deadline = time.monotonic() + 120
    while not (gate / "reached").exists():  # the worker has read clients.csv: change it
        assert time.monotonic() < deadline, worker.output
        time.sleep(0.05)
    clients = inbox / "day-1" / "clients.csv"
    clients.write_text(clients.read_text() + "C777,,1990-05-06,,,,,,\n")
    (gate / "go").touch()
    worker.wait_for("loaded 4 file(s)")
    worker.wait_for("loaded 1 file(s)")  # the changed file, at the next look
    assert worker.stop(signal.SIGTERM) == 0
    assert inbox_files(inbox) == []
    archived = sorted(p.name for p in inbox_files(tmp_path / "archive"))
    # clients.csv stayed in the inbox after the first load and was archived after the second
    assert archived == ["clients.csv", "scores_link.jsonl", "sessions_pipe.csv", "therapists.csv"]
    log = query(db_path, "SELECT source_file, status, content_hash FROM load_log")
    rejected = {Path(f).name for f, status, _ in log if status == "rejected"}
    assert rejected == {"scores_link.jsonl", "sessions_pipe.csv"}
    hashes = {h for f, status, h in log if f.endswith("clients.csv") and status == "loaded"}
    assert len(hashes) == 2
    assert query(db_path, "SELECT count(*) FROM clients WHERE client_id = 'C777'") == [(1,)]
