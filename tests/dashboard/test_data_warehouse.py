"""dashboard.data.warehouse: read-only connections (short, or a shared database kept while
the file is the same) that see a replaced file, wait for a writer's lock and say clearly
when there is no warehouse."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading

import duckdb
import flask
import pytest

from dashboard import data
from dashboard.data import warehouse as warehouse_module
from pipelines.settings import get_settings


def test_reads_see_a_replaced_file(tmp_path, example_warehouse):
    """A load publishes with os.replace: the next read sees the new file, not the old one."""
    db = tmp_path / "w.duckdb"
    shutil.copy(example_warehouse, db)
    assert len(data.search_clients("c", db=db)) == 3
    _replace_without_c003(example_warehouse, db)
    assert len(data.search_clients("c", db=db)) == 2


def _replace_without_c003(example_warehouse, db) -> None:
    staged = db.with_name("staged.duckdb")
    shutil.copy(example_warehouse, staged)
    con = duckdb.connect(str(staged))
    con.execute("DELETE FROM mart_clients WHERE client_id = 'C003'")
    con.close()
    os.replace(staged, db)


def test_a_shared_warehouse_keeps_one_database_until_the_file_is_replaced(
    tmp_path, example_warehouse
):
    db = tmp_path / "w.duckdb"
    shutil.copy(example_warehouse, db)
    shared = data.Warehouse(db, shared=True)
    assert len(data.search_clients("c", db=shared)) == 3
    kept = warehouse_module._kept(db)
    first = kept.con
    assert len(data.search_clients("c", db=shared)) == 3 and kept.con is first  # reused
    limit = shared.read(
        lambda con: con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    )
    assert limit == "976.5 MiB"  # the setting's 1024 MB (DuckDB: 10⁶ bytes) in MiB
    _replace_without_c003(example_warehouse, db)
    assert len(data.search_clients("c", db=shared)) == 2  # the new file, a new database
    assert kept.con is not first and kept.readers == 0
    warehouse_module.close_kept(db)
    duckdb.connect(str(db)).close()  # closed: the file opens read-write in this process again


def test_a_read_on_the_old_file_finishes_before_the_new_file_is_opened(tmp_path, example_warehouse):
    db = tmp_path / "w.duckdb"
    shutil.copy(example_warehouse, db)
    shared = data.Warehouse(db, shared=True)
    seen: list[int] = []
    with shared.connection() as old:  # a read in progress when the load publishes
        _replace_without_c003(example_warehouse, db)
        later = threading.Thread(
            target=lambda: seen.append(len(data.search_clients("c", db=shared)))
        )
        later.start()
        later.join(timeout=0.5)
        assert later.is_alive()  # it waits for the read on the old file
        assert old.execute("SELECT count(*) FROM clients").fetchone() == (3,)  # still the old
    later.join(timeout=10)
    assert seen == [2]
    warehouse_module.close_kept(db)


def test_retry_while_a_writer_holds_the_lock(tmp_path, example_warehouse):
    """Another process holding the file read-write (which locks every other process out)
    for a moment: the read waits with jittered retries instead of failing."""
    db = tmp_path / "w.duckdb"
    shutil.copy(example_warehouse, db)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time\n"
         f"con = duckdb.connect({str(db)!r})\n"
         "print('locked', flush=True)\n"
         "time.sleep(0.3)\n"
         "con.close()\n"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert len(data.load_log(db)) == 4
    finally:
        holder.wait(timeout=30)


def test_missing_warehouse_is_a_clear_error(tmp_path):
    with pytest.raises(data.WarehouseUnavailable, match="outcomes ingest"):
        data.overview(tmp_path / "missing.duckdb")


def test_pages_read_the_warehouse_attached_to_their_app(tmp_path):
    """create_app attaches its Warehouse to the Flask app: inside that app's context
    `current()` is that one; elsewhere (another app, no app) it is settings.db."""
    attached = data.Warehouse(tmp_path / "clinic.duckdb")
    server, other = flask.Flask("clinic"), flask.Flask("other")
    data.attach(server, attached)
    with server.app_context():
        assert data.current() is attached
    default = data.Warehouse(get_settings().db_path)
    with other.app_context():
        assert data.current() == default
    assert data.current() == default
