"""An incremental refresh gives exactly the marts of a full rebuild
(pipelines/warehouse/incremental.py).

History rows go in through the loader's own `register_typed` and `insert_history` (which
note the changed keys), on a real warehouse file. After every load, the refreshed marts are
compared row by row (pipelines.warehouse.compare) with a full rebuild computed beside them
as temp tables. Hypothesis writes the histories: few clients, sessions and courses, so that
corrections move sessions between clients, declared course ids are shared between clients
or collide with an inferred one ("A-1"), scores arrive for old sessions, therapists and
clients change, and as_of moves both ways.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest
from histories import (
    SMALL,
    expected_course_loads,
    first_load,
    load_and_refresh,
    loads_strategy,
    session_row,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.generate import generate_export
from pipelines.settings import Settings, get_settings
from pipelines.store.ddl import ensure_schema
from pipelines.warehouse.compare import differences, differing_rows
from pipelines.warehouse.derive import (
    MARTS,
    VIEW_MARTS,
    create_marts,
    rebuild_derived,
    sql_parameters,
)
from pipelines.warehouse.incremental import (
    CLIENT_MARTS,
    COURSE_MARTS,
    WHOLE_MARTS,
)


def _differences_from_a_full_rebuild(con: duckdb.DuckDBPyConnection, s: Settings) -> dict:
    """Every mart rebuilt in full as temp tables (each shadows the stored one for the next),
    compared with the stored marts."""
    database = con.execute("SELECT current_database()").fetchone()[0]
    create_marts(con, s, sql_parameters(con, s), MARTS, temp=True)
    try:
        return {m: differing_rows(con, m, f"temp.{m}", f'"{database}".main.{m}') for m in MARTS}
    finally:
        for mart in MARTS:
            con.execute(f"DROP {'VIEW' if mart in VIEW_MARTS else 'TABLE'} temp.{mart}")


@pytest.fixture
def warehouse(tmp_path: Path):
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    ensure_schema(con)
    yield con
    con.close()


def test_every_mart_has_one_way_to_be_refreshed():
    parts = [*CLIENT_MARTS, *COURSE_MARTS, "mart_alerts", *WHOLE_MARTS]
    assert sorted(parts) == sorted(MARTS) and len(parts) == len(set(parts))


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(loads=st.lists(loads_strategy, min_size=2, max_size=5))
def test_incremental_refresh_equals_a_full_rebuild(tmp_path_factory, loads):
    con = duckdb.connect(str(tmp_path_factory.mktemp("inc") / "warehouse.duckdb"))
    try:
        ensure_schema(con)
        for load_seq, load in enumerate(loads, 1):
            refresh, s = load_and_refresh(con, load, load_seq)
            assert refresh.mode == "full" if load_seq == 1 else refresh.mode != "full"
            assert _differences_from_a_full_rebuild(con, s) == dict.fromkeys(MARTS, 0)
            assert con.execute("SELECT count(*) FROM meta_changed_keys").fetchone() == (0,)
    finally:
        con.close()


def test_an_off_track_alert_follows_the_references_of_other_clients(warehouse):
    first, second = expected_course_loads()
    load_and_refresh(warehouse, first, 1)
    off_track = "SELECT course_id FROM mart_off_track_alerts"
    assert warehouse.execute(off_track).fetchall() == [("B-1",)]
    refresh, s = load_and_refresh(warehouse, second, 2)
    assert refresh.mode == "incremental"
    assert warehouse.execute(off_track).fetchall() == []
    assert _differences_from_a_full_rebuild(warehouse, s) == dict.fromkeys(MARTS, 0)


def _course_rows(con) -> list[tuple]:
    return con.execute(
        "SELECT course_id, client_id, sessions_completed, status FROM mart_courses ORDER BY 1"
    ).fetchall()


def test_a_session_moved_to_another_client_leaves_the_first_and_joins_the_second(warehouse):
    first_load(
        warehouse,
        "AB",
        [session_row("S1", "A", 0), session_row("S2", "A", 1), session_row("S3", "B", 2)],
    )
    assert _course_rows(warehouse) == [("A-1", "A", 2, "in_progress"),
                                       ("B-1", "B", 1, "in_progress")]  # fmt: skip
    refresh, s = load_and_refresh(warehouse, {"sessions": [session_row("S2", "B", 1)]}, 2)
    assert (refresh.mode, refresh.clients) == ("incremental", 2)
    assert _course_rows(warehouse) == [("A-1", "A", 1, "in_progress"),
                                       ("B-1", "B", 2, "in_progress")]  # fmt: skip
    assert _differences_from_a_full_rebuild(warehouse, s) == dict.fromkeys(MARTS, 0)


def test_a_course_shared_by_two_clients_is_renumbered_for_both(warehouse):
    first_load(
        warehouse,
        "ABC",
        [
            session_row("S1", "A", 5, course_id="K"),
            session_row("S2", "B", 6, course_id="K"),
            session_row("S3", "C", 7),
        ],
    )
    # an earlier session of B's in course K makes A's session number 2; C is untouched
    refresh, s = load_and_refresh(
        warehouse, {"sessions": [session_row("S0", "B", 1, course_id="K")]}, 2
    )
    assert (refresh.mode, refresh.clients) == ("incremental", 2)
    numbers = warehouse.execute(
        "SELECT session_id, client_id, session_number FROM mart_sessions ORDER BY 1"
    ).fetchall()
    assert numbers == [("S0", "B", 1), ("S1", "A", 2), ("S2", "B", 3), ("S3", "C", 1)]
    assert warehouse.execute(
        "SELECT client_id FROM mart_courses WHERE course_id = 'K'"
    ).fetchall() == [("B",)]
    assert _differences_from_a_full_rebuild(warehouse, s) == dict.fromkeys(MARTS, 0)


def test_a_later_as_of_drops_out_a_course_whose_client_sent_nothing(warehouse):
    first_load(warehouse, "AB", [session_row("S1", "A", 0), session_row("S2", "B", 0)])
    # B's sessions move as_of 20 days on: A's course (12 dropout days) drops out untouched
    later = {"sessions": [session_row("S3", "B", 20)]}
    refresh, s = load_and_refresh(warehouse, later, 2)
    assert (refresh.mode, refresh.clients) == ("incremental", 1)
    assert _course_rows(warehouse) == [("A-1", "A", 1, "dropped_out"),
                                       ("B-1", "B", 1, "dropped_out"),
                                       ("B-2", "B", 1, "in_progress")]  # fmt: skip
    assert warehouse.execute("SELECT DISTINCT as_of FROM mart_courses").fetchall() == [
        (dt.date(2026, 1, 25),)
    ]
    assert _differences_from_a_full_rebuild(warehouse, s) == dict.fromkeys(MARTS, 0)
    # nothing new and the same as_of: nothing to do
    assert load_and_refresh(warehouse, {}, 3)[0].mode == "unchanged"


def test_a_therapist_losing_a_qualification_raises_alerts_for_every_client(warehouse):
    first_load(warehouse, "AB", [session_row("S1", "A", 0), session_row("S2", "B", 1)])
    lapsed = {"therapists": [{"therapist_id": "T1", "qualification": "Q1",
                              "qualified_until": dt.date(2026, 1, 1)}]}  # fmt: skip
    refresh, s = load_and_refresh(warehouse, lapsed, 2)
    assert (refresh.mode, refresh.clients) == ("incremental", 2)
    alerts = "SELECT client_id FROM mart_alerts WHERE alert_type = 'unqualified_therapist'"
    assert sorted(warehouse.execute(alerts).fetchall()) == [("A",), ("B",)]
    assert _differences_from_a_full_rebuild(warehouse, s) == dict.fromkeys(MARTS, 0)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"gap_days": 5}, id="a setting"),
        pytest.param({"incremental_marts": False}, id="incremental refreshes turned off"),
        pytest.param({"full_rebuild_share": 0.5}, id="half the sessions rewritten"),
    ],
)
def test_a_full_rebuild_when_the_marts_cannot_be_patched(warehouse, change):
    first_load(warehouse, "AB", [session_row("S1", "A", 0), session_row("S2", "B", 0)])
    refresh, _ = load_and_refresh(warehouse, {"sessions": [session_row("S3", "A", 1)]}, 2)
    assert refresh.mode == "incremental"  # 2 of 3 session rows rewritten: 0.67 of them
    changed = dataclasses.replace(SMALL, **change)
    refresh, s = load_and_refresh(warehouse, {"sessions": [session_row("S4", "B", 2)]}, 3, changed)
    assert refresh.mode == "full"
    assert _differences_from_a_full_rebuild(warehouse, s) == dict.fromkeys(MARTS, 0)


def test_deliveries_loaded_by_the_flow_are_refreshed_incrementally_to_the_full_result(
    prefect_api, tmp_path
):
    """The real flow on a generated export with faults: delivery 2 corrects delivery 1's
    rows and resolves its late references (retried rows keep their first load's sequence,
    yet must reach the marts)."""
    from pipelines.flows import ingest_flow

    generate_export(tmp_path / "export", n_clients=60, seed=11, fault_rate=0.05, fmt="mixed")
    db = tmp_path / "warehouse.duckdb"
    for delivery, mode in (("delivery-1", "full"), ("delivery-2", "incremental")):
        ingest_flow([str(tmp_path / "export" / delivery)], str(db))
        with duckdb.connect(str(db), read_only=True) as con:
            full_built, refreshed = con.execute(
                "SELECT full_built_at, refreshed_at FROM meta_derived"
            ).fetchone()
            retried = con.execute(
                "SELECT count(*) FROM meta_quarantine WHERE resolution = 'loaded'"
            ).fetchone()[0]
        assert ("full" if full_built == refreshed else "incremental") == mode
        rebuilt = tmp_path / f"rebuilt-{delivery}.duckdb"
        shutil.copy(db, rebuilt)
        with duckdb.connect(str(rebuilt)) as con:
            con.begin()
            rebuild_derived(con, get_settings())
            con.commit()
        assert differences(db, rebuilt, MARTS) == dict.fromkeys(MARTS, 0)
    assert retried > 0, "the export should resolve late references in delivery 2"


def test_a_load_that_changes_nothing_touches_no_mart_even_when_a_rebuild_is_due(warehouse):
    """A re-sent delivery (every file skipped) must leave the marts exactly as they are: a
    full rebuild may sum floats in another order (last-bit differences)."""
    worn = dataclasses.replace(SMALL, full_rebuild_share=0.5)
    first_load(warehouse, "AB", [session_row("S1", "A", 0), session_row("S2", "B", 0)])
    assert load_and_refresh(warehouse, {"sessions": [session_row("S3", "A", 1)]}, 2, worn)[
        0
    ].mode == ("incremental")
    assert load_and_refresh(warehouse, {}, 3, worn)[0].mode == "unchanged"  # 2 of 3 rewritten
    assert load_and_refresh(warehouse, {"sessions": [session_row("S4", "B", 1)]}, 4, worn)[
        0
    ].mode == ("full")
