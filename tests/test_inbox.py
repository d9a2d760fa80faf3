"""The `watch-inbox` flow: a delivery dropped into the inbox is loaded and archived (real
Prefect flow runs, real DuckDB files). `outcomes serve`, which runs it, is tested in
tests/test_flows.py."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from pipelines.settings import get_settings


def test_watch_inbox_loads_dropped_files_and_archives_them(
    prefect_api, db_path, examples, tmp_path, query
):
    from pipelines.inbox import watch_inbox_flow

    inbox, archive = tmp_path / "inbox", tmp_path / "archive"
    shutil.copytree(examples, inbox / "delivery" / "day-1")  # a delivery folder, moved in whole
    (inbox / "delivery" / ".notes.partial").write_text("still being written")
    before = time.time()
    summary = watch_inbox_flow(str(db_path), str(inbox), str(archive))
    assert summary.count("loaded") == 4
    # the emptied delivery folder goes; one still holding a file being written stays
    assert [p.relative_to(inbox) for p in inbox.rglob("*")] == [
        Path("delivery"),
        Path("delivery/.notes.partial"),
    ]
    assert len(list(archive.rglob("*.*"))) == 4
    docs = get_settings().path("gx_docs_dir") / "index.html"
    assert docs.stat().st_mtime >= before  # Data Docs rebuilt after the files were archived
    assert query(db_path, "SELECT count(*) FROM sessions") == [(4,)]
    assert watch_inbox_flow(str(db_path), str(inbox), str(archive)) is None  # nothing new


def test_inbox_files_are_the_files_at_any_depth_except_hidden_ones(tmp_path):
    from pipelines.inbox import inbox_files

    for name in ("b.csv", "day/a.csv", "day/.a.csv.partial", ".hidden.csv"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    (tmp_path / "empty").mkdir()
    assert inbox_files(tmp_path) == [tmp_path / "b.csv", tmp_path / "day" / "a.csv"]
