"""Only regular files are read: symbolic links, FIFOs, sockets and devices are refused
without being opened, and the product's own files (secret keys, the accounts database, the
warehouse and its companions) are never read as a delivery, even when a folder holding
them is given.

Unit level: `discover`, and a real `outcomes ingest` (CLI subprocess, real Prefect server)
for each case that reaches the user.
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

from pipelines.ingest.discover import discover
from pipelines.settings import load_settings

KEY = b"k3y-0f-the-pseudonyms-5ecret-bytes-do-not-leak"


@pytest.fixture
def delivery(tmp_path: Path, examples_dir: Path) -> Path:
    folder = tmp_path / "delivery"
    folder.mkdir()
    for example in examples_dir.iterdir():
        shutil.copyfile(example, folder / example.name)
    return folder


def _by_name(files) -> dict[str, str | None]:
    return {f.path.name: f.problem for f in files}


def test_links_fifos_sockets_and_devices_are_refused_by_discover(tmp_path, delivery):
    key = tmp_path / "secrets" / "pseudonym.key"
    key.parent.mkdir()
    key.write_bytes(KEY)
    (delivery / "clients_key.csv").symlink_to(key)
    (delivery / "scores_zero.csv").symlink_to("/dev/zero")
    (delivery / "sessions_dangling.csv").symlink_to(tmp_path / "nowhere.csv")
    os.mkfifo(delivery / "sessions_pipe.csv")
    other = tmp_path / "other"
    other.mkdir()
    shutil.copyfile(delivery / "clients.csv", other / "clients_elsewhere.csv")
    (delivery / "more").symlink_to(other, target_is_directory=True)
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(delivery / "therapists.sock.csv"))
        problems = _by_name(discover([delivery]))
    assert "clients_elsewhere.csv" not in problems  # the linked folder is not descended
    for name in ("clients_key.csv", "scores_zero.csv", "sessions_dangling.csv", "more"):
        assert "is a symbolic link" in problems[name], name
    assert "is a FIFO" in problems["sessions_pipe.csv"]
    assert "is a socket" in problems["therapists.sock.csv"]
    assert problems["clients.csv"] is None
    assert all(KEY.decode() not in (p or "") for p in problems.values())


def test_a_device_or_link_given_directly_is_refused_too(tmp_path):
    link = tmp_path / "clients_link.csv"
    link.symlink_to("/dev/zero")
    problems = _by_name(discover([Path("/dev/null"), link]))
    assert "is a character device" in problems["null"]
    assert "is a symbolic link" in problems["clients_link.csv"]


def test_the_product_s_own_files_are_refused_by_path_and_by_inode(tmp_path):
    data = tmp_path / "data"
    secrets = data / "secrets"
    secrets.mkdir(parents=True)
    env = {
        "OUTCOMES_PSEUDONYM_SECRET_FILE": str(secrets / "pseudonym.key"),
        "OUTCOMES_SESSION_SECRET_FILE": str(secrets / "session.key"),
        "OUTCOMES_SECRETS_DIR": str(secrets),
        "OUTCOMES_USERS_DB": str(data / "users.db"),
        "OUTCOMES_DB": str(data / "warehouse.duckdb"),
    }
    from pipelines.ingest.safe_files import own_files

    settings = load_settings(env, config_file=tmp_path / "none.toml")
    for name in ("secrets/pseudonym.key", "secrets/session.key", "secrets/clients_in_secrets.csv",
                 "users.db", "users.db-wal", "warehouse.duckdb", "warehouse.duckdb.next",
                 "warehouse.duckdb.lock", "warehouse.duckdb.analyst",
                 "warehouse.analyst.duckdb", "warehouse.analyst.duckdb.next"):  # fmt: skip
        (data / name).write_bytes(KEY)
    os.link(secrets / "pseudonym.key", data / "clients_hardlink.csv")
    (data / "clients.csv").write_text("client_id,birth_date\nC1,1990-01-01\n")
    problems = _by_name(discover([data], own_files(settings, settings.db_path)))
    assert problems.pop("clients.csv") is None
    assert len(problems) == 12
    for name, problem in problems.items():
        assert "is one of the product's own files" in problem, name


def _ingest(module_cli, prefect_api, *paths: Path, db: Path, **env: str):
    return module_cli("ingest", *map(str, paths), "--db", str(db), api_url=prefect_api,
                      check=False, COLUMNS="1000", **env)  # fmt: skip


def test_ingest_refuses_links_fifos_and_devices_and_loads_the_rest(
    tmp_path, delivery, prefect_api, module_cli, query
):
    key = tmp_path / "pseudonym.key"
    key.write_bytes(KEY)
    (delivery / "clients_key.csv").symlink_to(key)
    (delivery / "scores_zero.csv").symlink_to("/dev/zero")
    os.mkfifo(delivery / "sessions_pipe.csv")
    (delivery / "more").symlink_to(delivery, target_is_directory=True)
    db = tmp_path / "warehouse.duckdb"
    proc = _ingest(module_cli, prefect_api, delivery, db=db)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    log = {Path(f).name: (s, m, h) for f, s, m, h in query(
        db, "SELECT source_file, status, message, content_hash FROM load_log")}  # fmt: skip
    for name in ("clients_key.csv", "scores_zero.csv", "sessions_pipe.csv", "more"):
        status, message, digest = log[name]
        assert status == "rejected" and digest is None, name
        assert name in message and ("symbolic link" in message or "FIFO" in message), message
    assert query(db, "SELECT count(*) FROM clients") == [(3,)]
    assert KEY.decode() not in proc.stdout + proc.stderr
    assert "files: 4 loaded, 4 rejected" in proc.stdout


def test_a_fifo_given_as_the_argument_is_refused_without_blocking(
    tmp_path, prefect_api, module_cli, query
):
    fifo = tmp_path / "clients.csv"
    os.mkfifo(fifo)
    db = tmp_path / "warehouse.duckdb"
    proc = _ingest(module_cli, prefect_api, fifo, db=db)  # a blocked open would time out
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert query(db, "SELECT status, message FROM load_log") == [
        ("rejected", "clients.csv: is a FIFO (named pipe); only regular files are read")
    ]


def test_ingest_of_the_data_folder_never_reads_the_secrets(
    tmp_path, examples_dir, prefect_api, module_cli, query
):
    data = tmp_path / "data"
    env = {
        "OUTCOMES_PSEUDONYM_SECRET_FILE": str(data / "secrets" / "pseudonym.key"),
        "OUTCOMES_SESSION_SECRET_FILE": str(data / "secrets" / "session.key"),
        "OUTCOMES_SECRETS_DIR": str(data / "secrets"),
        "OUTCOMES_USERS_DB": str(data / "users.db"),
    }
    db = data / "warehouse.duckdb"
    first = _ingest(module_cli, prefect_api, examples_dir, db=db, **env)  # creates the key
    assert first.returncode == 0, first.stdout + first.stderr
    key = (data / "secrets" / "pseudonym.key").read_bytes()
    (data / "users.db").write_bytes(b"SQLite format 3\x00" + KEY)
    shutil.copytree(examples_dir, data / "inbox")
    proc = _ingest(module_cli, prefect_api, data, db=db, **env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = query(db, "SELECT source_file, status, message, content_hash FROM meta_load_log "
                     "WHERE load_seq = 2")  # fmt: skip
    own = {Path(f).name: (s, m, h) for f, s, m, h in rows if "own files" in (m or "")}
    assert {"pseudonym.key", "users.db", "warehouse.duckdb", "warehouse.duckdb.lock",
            "warehouse.analyst.duckdb"} <= set(own)  # fmt: skip
    assert all(s == "rejected" and h is None for s, _, h in own.values())
    everything = proc.stdout + proc.stderr + repr(rows)
    assert key.hex() not in everything and key.decode("latin-1") not in everything
