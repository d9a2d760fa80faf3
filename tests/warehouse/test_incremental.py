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
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.generate import generate_export
from pipelines.schema import ENTITIES, ENTITY_ORDER
from pipelines.settings import Settings, get_settings
from pipelines.store.ddl import ensure_schema
from pipelines.store.loader import ROW_NUMBER, insert_history, register_typed
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
    refresh_derived,
)

SMALL = dataclasses.replace(
    Settings(), gap_days=10, course_min_sessions=3, course_max_sessions=4, dropout_days=12,
    full_rebuild_share=float("inf"),
)  # fmt: skip
"""Small courses and gaps, so that a handful of sessions reaches every rule; never a full
rebuild for wear (a few rows are always a large share)."""
START = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
CLIENTS = ("A", "A-1", "B", "C")  # client A's first inferred course is "A-1"
COURSES = (None, None, None, "A-1", "K1", "B-2")

_clients = st.fixed_dictionaries(
    {
        "client_id": st.sampled_from(CLIENTS),
        "birth_date": st.sampled_from([dt.date(1955, 3, 1), dt.date(1990, 6, 15)]),
        "height_cm": st.just(180.0),
        "weight_kg": st.sampled_from([70.0, 81.0, 95.0]),  # 81 kg at 180 cm: BMI exactly 25
        "athlete": st.booleans(),
        "contraindications": st.sampled_from([None, "diabetes"]),
    }
)
_therapists = st.fixed_dictionaries(
    {
        "therapist_id": st.sampled_from(["T1", "T2"]),
        "qualification": st.sampled_from(["Q1", None]),
        "qualified_until": st.sampled_from([None, dt.date(2026, 2, 1), dt.date(2027, 1, 1)]),
    }
)
_sessions = st.fixed_dictionaries(
    {
        "session_id": st.sampled_from([f"S{i}" for i in range(16)]),
        "client_id": st.sampled_from(CLIENTS),
        "therapist_id": st.sampled_from(["T1", "T2", "T9"]),  # T9 is never on record
        "course_id": st.sampled_from(COURSES),
        "started_at": st.integers(0, 70).map(lambda d: START + dt.timedelta(days=d)),
        "status": st.sampled_from(["completed", "completed", "completed", "cancelled"]),
        "duration_min": st.sampled_from([60.0, 90.0]),
        "warmup_min": st.sampled_from([7.0, 2.0]),
        "techniques": st.sampled_from(["rubbing;kneading", "rubbing"]),
        "spine_pressure": st.booleans(),
        "discomfort_reported": st.booleans(),
    }
)
_score_value = st.one_of(st.none(), st.integers(0, 10).map(float))
_scores = st.fixed_dictionaries(
    {
        "session_id": st.sampled_from([f"S{i}" for i in range(16)]),
        "timing": st.sampled_from(["pre", "post"]),
        "pain": _score_value,
        "muscle_tone": _score_value,
        "mobility": _score_value,
    }
)
_load = st.fixed_dictionaries(
    {
        "clients": st.lists(_clients, max_size=3),
        "therapists": st.lists(_therapists, max_size=2),
        "sessions": st.lists(_sessions, max_size=8),
        "scores": st.lists(_scores, max_size=8),
        "as_of": st.sampled_from([None, None, dt.date(2026, 1, 25), dt.date(2026, 3, 10)]),
    }
)


def _append(con: duckdb.DuckDBPyConnection, entity: str, rows: list[dict], load_seq: int) -> None:
    """One file of `entity` rows (the last row of a key wins, as the loader's plan keeps one)
    appended to the history by the loader's own functions."""
    key = ENTITIES[entity].key
    latest = {tuple(r[k] for k in key): r for r in rows}
    if not latest:
        return
    columns = ENTITIES[entity].column_names
    frame = pd.DataFrame([{c: r.get(c) for c in columns} for r in latest.values()], dtype=object)
    frame[ROW_NUMBER] = range(1, len(frame) + 1)
    register_typed(con, entity, frame)
    meta = f"{load_seq}, 1, {ROW_NUMBER}, 'test', CAST($at AS TIMESTAMPTZ)"
    insert_history(con, entity, meta, {"at": START})


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


def _load_and_refresh(con, load: dict, load_seq: int, s: Settings = SMALL):
    s = dataclasses.replace(s, as_of=load.get("as_of"))
    con.begin()
    for entity in ENTITY_ORDER:
        _append(con, entity, load.get(entity, []), load_seq)
    refresh = refresh_derived(con, s)
    con.commit()
    return refresh, s


def test_every_mart_has_one_way_to_be_refreshed():
    parts = [*CLIENT_MARTS, *COURSE_MARTS, "mart_alerts", *WHOLE_MARTS]
    assert sorted(parts) == sorted(MARTS) and len(parts) == len(set(parts))


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(loads=st.lists(_load, min_size=2, max_size=5))
def test_incremental_refresh_equals_a_full_rebuild(tmp_path_factory, loads):
    con = duckdb.connect(str(tmp_path_factory.mktemp("inc") / "warehouse.duckdb"))
    try:
        ensure_schema(con)
        for load_seq, load in enumerate(loads, 1):
            refresh, s = _load_and_refresh(con, load, load_seq)
            assert refresh.mode == "full" if load_seq == 1 else refresh.mode != "full"
            assert _differences_from_a_full_rebuild(con, s) == dict.fromkeys(MARTS, 0)
            assert con.execute("SELECT count(*) FROM meta_changed_keys").fetchone() == (0,)
    finally:
        con.close()


def _course_rows(con) -> list[tuple]:
    return con.execute(
        "SELECT course_id, client_id, sessions_completed, status FROM mart_courses ORDER BY 1"
    ).fetchall()


def _session(session_id: str, client_id: str, day: int, **row) -> dict:
    return {"session_id": session_id, "client_id": client_id, "therapist_id": "T1",
            "started_at": START + dt.timedelta(days=day), "status": "completed",
            "duration_min": 60.0, "warmup_min": 7.0, "techniques": "rubbing;kneading",
            "spine_pressure": False, "discomfort_reported": False, **row}  # fmt: skip


def _first_load(con, clients: str, sessions: list[dict]) -> None:
    """Clients (one letter each, BMI 21.6), qualified therapist T1 and `sessions`: a full build."""
    first = {
        "clients": [{"client_id": c, "height_cm": 180.0, "weight_kg": 70.0} for c in clients],
        "therapists": [{"therapist_id": "T1", "qualification": "Q1"}],
        "sessions": sessions,
    }
    assert _load_and_refresh(con, first, 1)[0].mode == "full"


def test_a_session_moved_to_another_client_leaves_the_first_and_joins_the_second(warehouse):
    _first_load(
        warehouse, "AB", [_session("S1", "A", 0), _session("S2", "A", 1), _session("S3", "B", 2)]
    )
    assert _course_rows(warehouse) == [("A-1", "A", 2, "in_progress"),
                                       ("B-1", "B", 1, "in_progress")]  # fmt: skip
    refresh, s = _load_and_refresh(warehouse, {"sessions": [_session("S2", "B", 1)]}, 2)
    assert (refresh.mode, refresh.clients) == ("incremental", 2)
    assert _course_rows(warehouse) == [("A-1", "A", 1, "in_progress"),
                                       ("B-1", "B", 2, "in_progress")]  # fmt: skip
    assert _differences_from_a_full_rebuild(warehouse, s) == dict.fromkeys(MARTS, 0)


def test_a_course_shared_by_two_clients_is_renumbered_for_both(warehouse):
    _first_load(
        warehouse,
        "ABC",
        [
            _session("S1", "A", 5, course_id="K"),
            _session("S2", "B", 6, course_id="K"),
            _session("S3", "C", 7),
        ],
    )
    # an earlier session of B's in course K makes A's session number 2; C is untouched
    refresh, s = _load_and_refresh(
        warehouse, {"sessions": [_session("S0", "B", 1, course_id="K")]}, 2
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
    _first_load(warehouse, "AB", [_session("S1", "A", 0), _session("S2", "B", 0)])
    # B's sessions move as_of 20 days on: A's course (12 dropout days) drops out untouched
    later = {"sessions": [_session("S3", "B", 20)]}
    refresh, s = _load_and_refresh(warehouse, later, 2)
    assert (refresh.mode, refresh.clients) == ("incremental", 1)
    assert _course_rows(warehouse) == [("A-1", "A", 1, "dropped_out"),
                                       ("B-1", "B", 1, "dropped_out"),
                                       ("B-2", "B", 1, "in_progress")]  # fmt: skip
    assert warehouse.execute("SELECT DISTINCT as_of FROM mart_courses").fetchall() == [
        (dt.date(2026, 1, 25),)
    ]
    assert _differences_from_a_full_rebuild(warehouse, s) == dict.fromkeys(MARTS, 0)
    # nothing new and the same as_of: nothing to do
    assert _load_and_refresh(warehouse, {}, 3)[0].mode == "unchanged"


def test_a_therapist_losing_a_qualification_raises_alerts_for_every_client(warehouse):
    _first_load(warehouse, "AB", [_session("S1", "A", 0), _session("S2", "B", 1)])
    lapsed = {"therapists": [{"therapist_id": "T1", "qualification": "Q1",
                              "qualified_until": dt.date(2026, 1, 1)}]}  # fmt: skip
    refresh, s = _load_and_refresh(warehouse, lapsed, 2)
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
    _first_load(warehouse, "AB", [_session("S1", "A", 0), _session("S2", "B", 0)])
    refresh, _ = _load_and_refresh(warehouse, {"sessions": [_session("S3", "A", 1)]}, 2)
    assert refresh.mode == "incremental"  # 2 of 3 session rows rewritten: 0.67 of them
    changed = dataclasses.replace(SMALL, **change)
    refresh, s = _load_and_refresh(warehouse, {"sessions": [_session("S4", "B", 2)]}, 3, changed)
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
    _first_load(warehouse, "AB", [_session("S1", "A", 0), _session("S2", "B", 0)])
    assert _load_and_refresh(warehouse, {"sessions": [_session("S3", "A", 1)]}, 2, worn)[
        0
    ].mode == ("incremental")
    assert _load_and_refresh(warehouse, {}, 3, worn)[0].mode == "unchanged"  # 2 of 3 rewritten
    assert _load_and_refresh(warehouse, {"sessions": [_session("S4", "B", 1)]}, 4, worn)[
        0
    ].mode == ("full")
