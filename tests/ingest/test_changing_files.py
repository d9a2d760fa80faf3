"""A file that changes while a load reads it is never recorded with a hash of other bytes.

A real `outcomes ingest` (CLI subprocess, real Prefect server) is paused at a named moment
(pipelines/crash_points.py, OUTCOMES_TEST_PAUSE_AT) while the test swaps the file: during
the read, it is rejected ("changed while it was read"); after the read, the bytes read are
loaded under their own hash. Either way the final file, delivered again, loads.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest

ROOT = Path(__file__).resolve().parents[2]


def _clients_xlsx(path: Path, ids: list[str]) -> bytes:
    wb = openpyxl.Workbook()
    wb.active.append(["client_id", "birth_date"])
    for client in ids:
        wb.active.append([client, "1990-01-01"])
    wb.save(path)
    return path.read_bytes()


def _paused_ingest(delivery: Path, db: Path, point: str, api: str, swap) -> str:
    """`outcomes ingest` paused at `point` while `swap()` runs; returns its output."""
    gate = delivery.parent / f"gate-{point}"
    gate.mkdir()
    env = {**os.environ, "PREFECT_API_URL": api, "OUTCOMES_TEST_PAUSE_AT": f"{point}:{gate}"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "ingest", str(delivery), "--db", str(db)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while not (gate / "reached").exists():
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[0]
        time.sleep(0.05)
    swap()
    (gate / "go").touch()
    out = proc.communicate(timeout=300)[0]
    assert proc.returncode == 0, out
    return out


def _log(query, db: Path, name: str) -> list[tuple]:
    return query(
        db,
        "SELECT load_seq, status, content_hash, message FROM meta_load_log "
        "WHERE source_file LIKE ? ORDER BY load_seq",
        [f"%/{name}"],
    )


@pytest.fixture
def delivery(tmp_path: Path, examples_dir: Path) -> Path:
    folder = tmp_path / "delivery"
    shutil.copytree(examples_dir, folder)
    return folder


def test_a_file_written_to_while_it_is_read_is_rejected_then_loads(
    delivery, tmp_path, prefect_api, module_cli, query
):
    db = tmp_path / "warehouse.duckdb"
    clients = delivery / "clients.csv"
    with clients.open("a") as fh:  # more than one chunk: the pause falls inside the read
        fh.writelines(f"X{i:07d},,1990-01-01,,,,,,\n" for i in range(80_000))

    def append() -> None:
        with clients.open("a") as fh:
            fh.write("C999,,1991-02-03,,,,,,\n")

    _paused_ingest(delivery, db, "reading", prefect_api, append)
    [(_, status, digest, message)] = _log(query, db, "clients.csv")
    assert status == "rejected" and digest is None
    assert "the file changed while it was read" in message
    assert query(db, "SELECT count(*) FROM clients") == [(0,)]
    module_cli("ingest", str(delivery), "--db", str(db), api_url=prefect_api)
    final = hashlib.sha256(clients.read_bytes()).hexdigest()
    assert _log(query, db, "clients.csv")[-1][1:3] == ("loaded", final)
    assert query(db, "SELECT count(*) FROM clients WHERE client_id = 'C999'") == [(1,)]


def test_a_workbook_swapped_after_its_read_is_loaded_under_the_hash_of_what_was_read(
    delivery, tmp_path, prefect_api, module_cli, query
):
    db = tmp_path / "warehouse.duckdb"
    (delivery / "clients.csv").unlink()
    book = delivery / "clients.xlsx"
    first = _clients_xlsx(book, ["C001", "C002", "C003"])
    replacement = tmp_path / "replacement.xlsx"
    second = _clients_xlsx(replacement, ["C001", "C002", "C003", "C777"])
    _paused_ingest(delivery, db, "after_read", prefect_api, lambda: os.replace(replacement, book))
    [(_, status, digest, _)] = _log(query, db, "clients.xlsx")
    assert (status, digest) == ("loaded", hashlib.sha256(first).hexdigest())
    assert query(db, "SELECT count(*) FROM clients WHERE client_id = 'C777'") == [(0,)]
    module_cli("ingest", str(delivery), "--db", str(db), api_url=prefect_api)
    assert _log(query, db, "clients.xlsx")[-1][1:3] == (
        "loaded",
        hashlib.sha256(second).hexdigest(),
    )
    assert query(db, "SELECT count(*) FROM clients WHERE client_id = 'C777'") == [(1,)]
