"""End to end: one real `outcomes ingest` of a delivery of hostile files (every cell marked)
and of files whose names hold control characters, next to the valid example files.

No message of the run — load_log, meta_runs, the printed summary — quotes a marked cell, and
every file name is printed and stored with its control characters escaped.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hostile_corpus import BUILDERS, build_all

MARKER = "Zq5e1f0c2a Marek O. 1980-08-20"
TAG = "zq5e1f0c2a"
ODD_NAMES = {
    "clients\x1b[31mred.csv": "clients\\x1b[31mred.csv",
    "therapists\rback.csv": "therapists\\rback.csv",
    "sessions\nnew line.csv": "sessions\\nnew line.csv",
    "scores\u202eright.csv": "scores\\u202eright.csv",
    "[bold red]scores markup.csv": "[bold red]scores markup.csv",
}


@pytest.fixture(scope="module")
def run(prefect_api, module_cli, examples_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile-delivery")
    delivery = root / "delivery"
    build_all(delivery, MARKER)
    for example in examples_dir.iterdir():
        shutil.copyfile(example, delivery / example.name)
    for name in ODD_NAMES:
        (delivery / name).write_text("not,a,header\n")
    db = root / "warehouse.duckdb"
    proc = module_cli("ingest", str(delivery), "--db", str(db), api_url=prefect_api, check=False,
                      COLUMNS="1000")  # fmt: skip
    return proc, db


def test_the_run_succeeds_and_loads_the_valid_files(run, query):
    proc, db = run
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert query(db, "SELECT count(*) FROM clients") == [(3,)]
    assert ("T77",) in query(db, "SELECT therapist_id FROM therapists")


def test_no_message_quotes_a_marked_cell(run, query):
    proc, db = run
    log = query(db, "SELECT source_file, status, message FROM load_log")
    assert len(log) == len(BUILDERS) + len(ODD_NAMES) + 4
    rejected = [m for _, status, m in log if status == "rejected"]
    assert len(rejected) == len(BUILDERS) - 1 + len(ODD_NAMES)  # the extra-columns file loads
    for _, _, message in log:
        assert TAG not in (message or "").lower(), message
    runs = query(db, "SELECT message FROM meta_runs")
    assert runs and all(TAG not in (m or "").lower() for (m,) in runs)
    assert TAG not in (proc.stdout + proc.stderr).lower()


def test_file_names_are_printed_and_stored_escaped(run, query):
    proc, db = run
    stored = {Path(f).name for (f,) in query(db, "SELECT source_file FROM load_log")}
    printed = proc.stdout
    for raw, shown in ODD_NAMES.items():
        assert raw not in stored or raw == shown
        assert shown in stored, shown
        assert shown in printed, shown
    assert not any(c in proc.stdout for c in "\x1b\r\u202e")
