"""dashboard.data.warehouse: short read-only connections that see a replaced file, wait
for a writer's lock and say clearly when there is no warehouse."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import duckdb
import flask
import pytest

from dashboard import data
from pipelines.settings import get_settings


def test_reads_see_a_replaced_file(tmp_path, example_warehouse):
    """A load publishes with os.replace: the next read sees the new file, not the old one."""
    db = tmp_path / "w.duckdb"
    shutil.copy(example_warehouse, db)
    assert len(data.search_clients("c", db=db)) == 3
    staged = tmp_path / "staged.duckdb"
    shutil.copy(example_warehouse, staged)
    con = duckdb.connect(str(staged))
    con.execute("DELETE FROM mart_clients WHERE client_id = 'C003'")
    con.close()
    os.replace(staged, db)
    assert len(data.search_clients("c", db=db)) == 2


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
