"""Histories of loads for the warehouse tests: hypothesis strategies that write small,
tangled histories (corrections move sessions between clients, declared course ids are
shared or collide with inferred ones, scores arrive for old sessions, as_of moves both
ways), and helpers that append them through the loader's own functions and refresh the
marts as a load does."""

from __future__ import annotations

import dataclasses
import datetime as dt

import duckdb
import pandas as pd
from hypothesis import strategies as st

from pipelines.schema import ENTITIES, ENTITY_ORDER, ROW_NUMBER
from pipelines.settings import Settings
from pipelines.store.loader import insert_history, register_typed
from pipelines.warehouse.incremental import refresh_derived

SMALL = dataclasses.replace(
    Settings(), gap_days=10, course_min_sessions=3, course_max_sessions=4, dropout_days=12,
    full_rebuild_share=float("inf"), expected_min_references=1, expected_baseline_window=10.0,
    off_track_from_session=2,
)  # fmt: skip
"""Small courses and gaps, so that a handful of sessions reaches every rule (an expected
band from one reference, off track at session 2); never a full rebuild for wear (a few rows
are always a large share)."""
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
_points = st.integers(0, 10).map(float)
_score_value = st.one_of(st.none(), _points, _points)  # two in three given
_scores = st.fixed_dictionaries(
    {
        "session_id": st.sampled_from([f"S{i}" for i in range(16)]),
        "timing": st.sampled_from(["pre", "pre", "post"]),  # pre values make expected courses
        "pain": _score_value,
        "muscle_tone": _score_value,
        "mobility": _score_value,
    }
)
loads_strategy = st.fixed_dictionaries(
    {
        "clients": st.lists(_clients, max_size=3),
        "therapists": st.lists(_therapists, max_size=2),
        "sessions": st.lists(_sessions, max_size=8),
        "scores": st.lists(_scores, max_size=12),
        "as_of": st.sampled_from([None, None, dt.date(2026, 1, 25), dt.date(2026, 3, 10)]),
    }
)


def append_rows(
    con: duckdb.DuckDBPyConnection, entity: str, rows: list[dict], load_seq: int
) -> None:
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


def load_and_refresh(con, load: dict, load_seq: int, s: Settings = SMALL):
    s = dataclasses.replace(s, as_of=load.get("as_of"))
    con.begin()
    for entity in ENTITY_ORDER:
        append_rows(con, entity, load.get(entity, []), load_seq)
    refresh = refresh_derived(con, s)
    con.commit()
    return refresh, s


def session_row(session_id: str, client_id: str, day: int, **row) -> dict:
    return {"session_id": session_id, "client_id": client_id, "therapist_id": "T1",
            "started_at": START + dt.timedelta(days=day), "status": "completed",
            "duration_min": 60.0, "warmup_min": 7.0, "techniques": "rubbing;kneading",
            "spine_pressure": False, "discomfort_reported": False, **row}  # fmt: skip


def first_load(con, clients: str, sessions: list[dict]) -> None:
    """Clients (one letter each, BMI 21.6), qualified therapist T1 and `sessions`: a full build."""
    first = {
        "clients": [{"client_id": c, "height_cm": 180.0, "weight_kg": 70.0} for c in clients],
        "therapists": [{"therapist_id": "T1", "qualification": "Q1"}],
        "sessions": sessions,
    }
    assert load_and_refresh(con, first, 1)[0].mode == "full"


def _course_rows(client_id: str, first_day: int, pains: list[float]) -> dict:
    """Sessions a day apart from `first_day`, each with its pre pain."""
    ids = [f"{client_id}{first_day + k}" for k in range(len(pains))]
    return {
        "sessions": [session_row(s, client_id, first_day + k) for k, s in enumerate(ids)],
        "scores": [
            {"session_id": s, "timing": "pre", "pain": p} for s, p in zip(ids, pains, strict=True)
        ],
    }


def expected_course_loads() -> list[dict]:
    """Two loads under SMALL in which an off_track alert goes away though its client sends
    nothing: load 1 gives A a completed course (change 2 at session 2) and B one in progress
    (change 0 at session 2: below the band's p10 of 2, off track); load 2 gives C a completed
    course with change −1 at session 2, which moves p10 to −0.7, below B's 0."""
    a, b, c = (
        _course_rows("A", 0, [6, 4, 2]),
        _course_rows("B", 10, [6, 6]),
        _course_rows("C", 12, [5, 6, 6]),
    )
    clients = [{"client_id": x, "height_cm": 180.0, "weight_kg": 70.0} for x in "ABC"]
    first = {
        "clients": clients[:2],
        "therapists": [{"therapist_id": "T1", "qualification": "Q1"}],
        "sessions": a["sessions"] + b["sessions"],
        "scores": a["scores"] + b["scores"],
    }
    return [first, {"clients": clients[2:], **c}]
