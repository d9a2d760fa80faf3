"""The analysts' copy patched at each load equals the copy written from scratch
(pipelines/warehouse/analyst_copy.py), and it is written from scratch whenever a patch
could be wrong: the marts rebuilt in full, another pseudonym key, a published file that is
not the one the warehouse recorded."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest
from histories import (
    expected_course_loads,
    first_load,
    load_and_refresh,
    loads_strategy,
    session_row,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.store.ddl import ensure_schema
from pipelines.warehouse.analyst_columns import ANALYST_TABLES
from pipelines.warehouse.analyst_copy import refresh_analyst_copy, write_tables
from pipelines.warehouse.pseudonyms import sync_pseudonyms
from pipelines.warehouse.views import create_analyst_views, sql_literal

SECRET = b"the installation's pseudonym key"


def _write_copy(
    con, published: Path, refresh_mode: str, publish: bool = True, secret: bytes = SECRET
) -> str:
    """What a load does after its marts' refresh: views, pseudonyms, the copy (written as a
    working copy), then the publish."""
    create_analyst_views(con)
    sync_pseudonyms(con, secret, 16)
    work = published.with_name(published.name + ".next")
    mode = refresh_analyst_copy(con, published, work, refresh_mode)
    if publish:
        os.replace(work, published)
    return mode


def _differences_from_a_fresh_copy(con, published: Path) -> dict[str, int]:
    """Rows of each analyst table in only one of the published copy and a copy written from
    scratch now (exact comparison: both are made from the same marts)."""
    con.execute(f"ATTACH {sql_literal(str(published))} AS pub (READ_ONLY)")
    con.execute("ATTACH ':memory:' AS fresh")
    try:
        write_tables(con, "fresh")
        out = {}
        for table in ANALYST_TABLES:
            a, b = f"pub.main.{table}", f"fresh.main.{table}"
            out[table] = con.execute(
                f"SELECT (SELECT count(*) FROM (FROM {a} EXCEPT ALL FROM {b}))"
                f" + (SELECT count(*) FROM (FROM {b} EXCEPT ALL FROM {a}))"
            ).fetchone()[0]
        return out
    finally:
        con.execute("DETACH pub")
        con.execute("DETACH fresh")


@pytest.fixture
def warehouse(tmp_path: Path):
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    ensure_schema(con)
    yield con
    con.close()


def _with_references(loads: list[dict]) -> list[dict]:
    """The histories as the loader lets them in (spec §3): a session's client and a score's
    session are known by the end of the load (a client record is added for a new client; a
    score of a session never delivered waits in the quarantine, so it is left out)."""
    clients: set[str] = set()
    sessions: set[str] = set()
    out = []
    for load in loads:
        clients |= {c["client_id"] for c in load["clients"]}
        missing = sorted({s["client_id"] for s in load["sessions"]} - clients)
        clients |= set(missing)
        sessions |= {s["session_id"] for s in load["sessions"]}
        out.append({
            **load,
            "clients": load["clients"] + [{"client_id": c, "height_cm": 170.0} for c in missing],
            "scores": [s for s in load["scores"] if s["session_id"] in sessions],
        })  # fmt: skip
    return out


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(loads=st.lists(loads_strategy, min_size=2, max_size=5))
def test_a_patched_copy_equals_a_copy_written_from_scratch(tmp_path_factory, loads):
    root = tmp_path_factory.mktemp("copy")
    published = root / "warehouse.analyst.duckdb"
    con = duckdb.connect(str(root / "warehouse.duckdb"))
    try:
        ensure_schema(con)
        for load_seq, load in enumerate(_with_references(loads), 1):
            refresh, _ = load_and_refresh(con, load, load_seq)
            mode = _write_copy(con, published, refresh.mode)
            assert mode == ("full" if load_seq == 1 else "patched")
            assert _differences_from_a_fresh_copy(con, published) == dict.fromkeys(
                ANALYST_TABLES, 0
            )
    finally:
        con.close()


def _two_clients(con, published: Path) -> None:
    first_load(con, "AB", [session_row("S1", "A", 0), session_row("S2", "B", 1)])
    assert _write_copy(con, published, "full") == "full"


def test_a_copy_left_behind_by_a_crash_between_the_publishes_is_written_anew(warehouse, tmp_path):
    published = tmp_path / "warehouse.analyst.duckdb"
    _two_clients(warehouse, published)
    refresh, _ = load_and_refresh(warehouse, {"sessions": [session_row("S3", "A", 2)]}, 2)
    # the warehouse records the copy it wrote, but the process dies before publishing it
    assert _write_copy(warehouse, published, refresh.mode, publish=False) == "patched"
    refresh, _ = load_and_refresh(warehouse, {"sessions": [session_row("S4", "B", 3)]}, 3)
    assert refresh.mode == "incremental"
    assert _write_copy(warehouse, published, refresh.mode) == "full"
    assert _differences_from_a_fresh_copy(warehouse, published) == dict.fromkeys(ANALYST_TABLES, 0)
    sessions = duckdb.connect(str(published), read_only=True).execute(
        "SELECT count(*) FROM sessions"
    )
    assert sessions.fetchone() == (4,)  # S3 is there, though its load's copy never was


def test_a_new_pseudonym_key_or_a_full_rebuild_writes_the_copy_anew(warehouse, tmp_path):
    published = tmp_path / "warehouse.analyst.duckdb"
    _two_clients(warehouse, published)
    assert _write_copy(warehouse, published, "unchanged") == "patched"
    rotated = b"a rotated key"
    assert _write_copy(warehouse, published, "unchanged", secret=rotated) == "full"
    assert _write_copy(warehouse, published, "full", secret=rotated) == "full"
    assert _differences_from_a_fresh_copy(warehouse, published) == dict.fromkeys(ANALYST_TABLES, 0)


def test_a_load_that_changes_nothing_rewrites_only_the_small_tables(warehouse, tmp_path):
    published = tmp_path / "warehouse.analyst.duckdb"
    _two_clients(warehouse, published)
    before = duckdb.connect(str(published), read_only=True)
    sessions_before = before.execute("SELECT * FROM sessions ORDER BY 1").fetchall()
    before.close()
    refresh, _ = load_and_refresh(warehouse, {}, 2)
    assert refresh.mode == "unchanged"
    assert _write_copy(warehouse, published, refresh.mode) == "patched"
    after = duckdb.connect(str(published), read_only=True)
    assert after.execute("SELECT * FROM sessions ORDER BY 1").fetchall() == sessions_before
    after.close()


def test_a_course_whose_status_moves_with_as_of_is_patched_though_its_client_is_not(
    warehouse, tmp_path
):
    published = tmp_path / "warehouse.analyst.duckdb"
    _two_clients(warehouse, published)
    # B's session 20 days on moves as_of: A's course (12 dropout days) drops out untouched
    refresh, _ = load_and_refresh(warehouse, {"sessions": [session_row("S3", "B", 21)]}, 2)
    assert (refresh.mode, refresh.clients) == ("incremental", 1)
    assert _write_copy(warehouse, published, refresh.mode) == "patched"
    copy = duckdb.connect(str(published), read_only=True)
    statuses = copy.execute("SELECT status, as_of FROM courses ORDER BY first_session_date")
    assert [s for s, _ in statuses.fetchall()] == ["dropped_out", "dropped_out", "in_progress"]
    copy.close()
    assert _differences_from_a_fresh_copy(warehouse, published) == dict.fromkeys(ANALYST_TABLES, 0)


def test_every_course_of_the_copy_carries_the_new_as_of(warehouse, tmp_path):
    published = tmp_path / "warehouse.analyst.duckdb"
    completed = [session_row(f"S{d}", "A", d) for d in range(3)]  # 3 sessions: completed
    first_load(warehouse, "AB", [*completed, session_row("S9", "B", 3)])
    assert _write_copy(warehouse, published, "full") == "full"
    refresh, _ = load_and_refresh(warehouse, {"sessions": [session_row("S10", "B", 9)]}, 2)
    assert (refresh.mode, refresh.clients) == ("incremental", 1)
    assert _write_copy(warehouse, published, refresh.mode) == "patched"
    copy = duckdb.connect(str(published), read_only=True)
    assert copy.execute("SELECT DISTINCT CAST(as_of AS VARCHAR) FROM courses").fetchall() == [
        ("2026-01-14",)
    ]
    copy.close()
    assert _differences_from_a_fresh_copy(warehouse, published) == dict.fromkeys(ANALYST_TABLES, 0)


def test_an_off_track_alert_of_a_client_the_load_left_alone_is_patched(warehouse, tmp_path):
    published = tmp_path / "warehouse.analyst.duckdb"
    first, second = expected_course_loads()
    load_and_refresh(warehouse, first, 1)
    assert _write_copy(warehouse, published, "full") == "full"
    refresh, _ = load_and_refresh(warehouse, second, 2)  # C only: B's alert goes away
    assert _write_copy(warehouse, published, refresh.mode) == "patched"
    assert _differences_from_a_fresh_copy(warehouse, published) == dict.fromkeys(ANALYST_TABLES, 0)
    with duckdb.connect(str(published), read_only=True) as copy:
        assert copy.execute(
            "SELECT count(*) FROM alerts WHERE alert_type = 'off_track'"
        ).fetchone() == (0,)
