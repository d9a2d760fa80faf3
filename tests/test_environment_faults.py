"""Environment faults during `outcomes ingest`: a clear message, a non-zero exit, no damage.

Every case runs the real CLI in a subprocess against a real Prefect server and a real
warehouse built by a first ingest of the examples; "no damage" means every analyst view
reads the same before and after (the `snapshot` fixture) and no working copy is left.

The tests may run as root, for whom chmod does not block writes. So the read-only case
drops, in the child, the capabilities that let root ignore permission bits, and the
full-disk case uses RLIMIT_FSIZE (writes past the limit fail with EFBIG; SIGXFSZ is
ignored in the child so the write returns an error instead of killing the process) —
faults root cannot bypass.
"""

from __future__ import annotations

import ctypes
import os
import resource
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pipelines.settings import PROJECT_ROOT

CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER = 1, 2, 3
PR_CAPBSET_DROP = 24


def without_root_file_powers() -> None:
    """In the child, before exec: if root, drop the capabilities that bypass permission
    bits from the bounding set, so the exec'd process is root without them."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def run_cli(
    *args: str, api_url: str, preexec_fn: Callable[[], None] | None = None, **env: str
) -> subprocess.CompletedProcess:
    """`outcomes ARGS…` in a subprocess, like the `cli` fixture, with an optional preexec."""
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PREFECT_API_URL": api_url, "COLUMNS": "200", **env},
        cwd=PROJECT_ROOT,
        timeout=300,
        preexec_fn=preexec_fn,
    )
    proc.output = " ".join((proc.stdout + proc.stderr).split())  # rich wraps long lines
    return proc


@pytest.fixture
def world() -> Iterator[Path]:
    """A folder every user can read and write (tmp_path is private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="outcomes-faults-", dir="/tmp"))
    folder.chmod(0o777)
    yield folder
    for path in [folder, *folder.rglob("*")]:  # undo read-only bits, then remove
        if path.is_dir():
            path.chmod(0o777)
    shutil.rmtree(folder)


@pytest.fixture
def delivery(world) -> Path:
    """A new, valid delivery that would change the warehouse if it loaded."""
    folder = world / "delivery"
    folder.mkdir()
    rows = "".join(f"N{i:05d},1980-01-01,{70 + i % 50}\n" for i in range(20_000))
    (folder / "clients_new.csv").write_text("client_id,birth_date,weight_kg\n" + rows)
    for path in (folder, *folder.iterdir()):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return folder


def copy_warehouse(source: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "warehouse.duckdb"
    shutil.copyfile(source, db)
    db.chmod(0o644)
    return db


def assert_untouched(db: Path, before: dict, snapshot) -> None:
    assert snapshot(db) == before
    assert not db.with_name(db.name + ".next").exists()
    assert not db.with_name(db.name + ".next.wal").exists()


def test_a_read_only_data_directory(examples_warehouse, delivery, world, prefect_api, snapshot):
    data = world / "data"
    db = copy_warehouse(examples_warehouse, data)
    (data / "warehouse.duckdb.lock").touch()  # a lock file left by an earlier run
    before = snapshot(db)
    data.chmod(0o555)

    proc = run_cli(
        "ingest", str(delivery), "--db", str(db), api_url=prefect_api,
        preexec_fn=without_root_file_powers,
    )  # fmt: skip
    assert proc.returncode != 0, proc.output
    assert f"cannot write to {data}" in proc.output, proc.output
    assert "Permission denied" in proc.output, proc.output
    assert "The warehouse is unchanged." in proc.output, proc.output
    data.chmod(0o755)
    assert_untouched(db, before, snapshot)


def test_a_data_path_whose_folder_is_a_file(delivery, world, prefect_api):
    blocker = world / "data"
    blocker.write_bytes(b"not a folder\n")
    proc = run_cli(
        "ingest", str(delivery), "--db", str(blocker / "warehouse.duckdb"), api_url=prefect_api
    )
    assert proc.returncode != 0, proc.output
    assert f"cannot write to {blocker}" in proc.output, proc.output
    assert blocker.read_bytes() == b"not a folder\n"


def test_a_full_disk(examples_warehouse, delivery, world, prefect_api, snapshot):
    db = copy_warehouse(examples_warehouse, world / "data")
    before = snapshot(db)
    limit = db.stat().st_size + 64 * 1024  # the working copy fits; the new rows do not

    def small_disk() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    proc = run_cli("ingest", str(delivery), "--db", str(db), api_url=prefect_api,
                   preexec_fn=small_disk)  # fmt: skip
    assert proc.returncode != 0, proc.output
    assert f"not enough space to write the warehouse in {db.parent}" in proc.output, proc.output
    assert "The warehouse is unchanged." in proc.output, proc.output
    assert_untouched(db, before, snapshot)


@pytest.mark.parametrize("content", [os.urandom(64 * 1024), b"hello", b""], ids=len)
def test_a_warehouse_file_that_is_not_duckdb(content, delivery, world, prefect_api):
    db = world / "data" / "warehouse.duckdb"
    db.parent.mkdir()
    db.write_bytes(content)
    mode = stat.S_IMODE(db.stat().st_mode)
    proc = run_cli("ingest", str(delivery), "--db", str(db), api_url=prefect_api)
    assert proc.returncode == 1, proc.output
    assert f"{db} is not a DuckDB database" in proc.output, proc.output
    assert "--db" in proc.output  # how to fix
    assert db.read_bytes() == content and stat.S_IMODE(db.stat().st_mode) == mode
    assert not db.with_name(db.name + ".next").exists()


def test_a_missing_prefect_server(examples_warehouse, delivery, world, snapshot):
    db = copy_warehouse(examples_warehouse, world / "data")
    before = snapshot(db)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/api"
    proc = run_cli("ingest", str(delivery), "--db", str(db), api_url=url)
    assert proc.returncode != 0, proc.output
    assert f"cannot reach the Prefect API at {url}" in proc.output, proc.output
    assert "PREFECT_API_URL" in proc.output and "prefect server start" in proc.output
    assert "The warehouse is unchanged." in proc.output, proc.output
    assert_untouched(db, before, snapshot)


def test_a_second_load_while_one_holds_the_lock(examples_warehouse, delivery, world, prefect_api,
                                                 snapshot):  # fmt: skip
    from pipelines.store.connection import load_lock

    db = copy_warehouse(examples_warehouse, world / "data")
    before = snapshot(db)
    with load_lock(db):  # a running load, as far as the CLI can tell
        proc = run_cli("ingest", str(delivery), "--db", str(db), api_url=prefect_api)
    assert proc.returncode == 3, proc.output
    assert f"another `outcomes ingest` is loading into {db}" in proc.output, proc.output
    # only the clear message: no Prefect traceback before it
    assert "Traceback" not in proc.output and len(proc.output.strip().splitlines()) <= 3, (
        proc.output
    )
    assert_untouched(db, before, snapshot)


def test_a_symlinked_warehouse_is_loaded_into_the_file_it_points_at(
    examples_warehouse, delivery, world, prefect_api
):
    """The link stays a link and the real file gets the load: locking and publishing the
    link's name would leave the real file stale and let two loads run through two names."""
    real = copy_warehouse(examples_warehouse, world / "store")
    link = world / "data" / "warehouse.duckdb"
    link.parent.mkdir()
    link.symlink_to(real)
    before = real.stat().st_ino
    proc = run_cli("ingest", str(delivery), "--db", str(link), api_url=prefect_api)
    assert proc.returncode == 0, proc.output
    assert link.is_symlink() and link.resolve() == real
    assert real.stat().st_ino != before  # the load published a new file under the real name
    assert (real.parent / "warehouse.duckdb.lock").exists()
    assert not (link.parent / "warehouse.duckdb.lock").exists()


@pytest.mark.parametrize("kind", ["folder", "fifo"])
def test_a_warehouse_path_that_is_no_file_gets_a_message(kind, delivery, world, prefect_api):
    db = world / "warehouse.duckdb"
    db.mkdir() if kind == "folder" else os.mkfifo(db)
    proc = run_cli("ingest", str(delivery), "--db", str(db), api_url=prefect_api)
    assert proc.returncode == 1, proc.output
    why = "is a folder, not a warehouse file" if kind == "folder" else "not a regular file"
    assert why in proc.output and "Traceback" not in proc.output, proc.output
