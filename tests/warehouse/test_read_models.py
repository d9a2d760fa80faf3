"""The dashboard's read models (small marts built with every load) hold exactly the rows the
dashboard used to compute from the analyst views at each request.

Checked on a generated export with faults (corrections in delivery 2, late references,
quarantined rows), loaded by the real steps of the flow (without Prefect).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from pipelines.generate import generate_export
from pipelines.ingest import read_and_validate
from pipelines.ingest.discover import discover
from pipelines.settings import METRICS, get_settings
from pipelines.store.connection import open_writer
from pipelines.store.loader import load_plan
from pipelines.store.retry import retry_late_references
from pipelines.warehouse.derive import rebuild_derived
from pipelines.warehouse.views import create_analyst_views


def _load(con: duckdb.DuckDBPyConnection, delivery: Path, load_seq: int) -> None:
    settings = get_settings()
    now = dt.datetime.now(dt.UTC)
    for file_seq, f in enumerate(discover([delivery]), start=1):
        if f.problem:
            continue
        snap = read_and_validate.snapshot(f, settings.max_line_bytes)
        plan, _ = read_and_validate.validate_file(
            read_and_validate.read_file(f, snap), f.entity, settings, now
        )
        load_plan(con, plan, run_id=f"r{load_seq}", load_seq=load_seq, file_seq=file_seq,
                  source_file=str(f.path), content_hash=snap.digest, loaded_at=now,
                  message="")  # fmt: skip
    retry_late_references(con, load_seq=load_seq, now=now, clinic_timezone=settings.clinic_timezone)
    con.begin()
    rebuild_derived(con, settings)
    create_analyst_views(con)
    con.commit()


@pytest.fixture(scope="module")
def loaded(tmp_path_factory) -> duckdb.DuckDBPyConnection:
    root = tmp_path_factory.mktemp("read_models")
    generate_export(root / "export", n_clients=60, seed=7, fault_rate=0.05, fmt="mixed")
    con = open_writer(root / "warehouse.duckdb")
    _load(con, root / "export" / "delivery-1", 1)
    _load(con, root / "export" / "delivery-2", 2)
    yield con
    con.close()


def _rows(con, sql: str) -> list[tuple]:
    return sorted(con.execute(sql).fetchall(), key=repr)


def test_the_export_exercises_corrections_and_quarantine(loaded):
    assert loaded.execute("SELECT count(*) FROM meta_quarantine").fetchone()[0] > 0
    assert loaded.execute("SELECT count(*) FROM mart_course_sessions").fetchone()[0] > 100


def test_course_sessions_are_the_course_sessions_with_their_pre_and_post_scores(loaded):
    pivot = ", ".join(f"pre.{m}, post.{m}" for m in METRICS)
    live = f"""
        SELECT s.session_id, s.client_id, s.therapist_id, s.course_id, s.session_number,
               s.started_at, s.session_date, s.discomfort_reported, s.spine_pressure, s.notes,
               {pivot}
        FROM sessions AS s
        LEFT JOIN scores AS pre ON pre.session_id = s.session_id AND pre.timing = 'pre'
        LEFT JOIN scores AS post ON post.session_id = s.session_id AND post.timing = 'post'
        WHERE s.course_id IS NOT NULL
    """
    stored = f"""
        SELECT session_id, client_id, therapist_id, course_id, session_number, started_at,
               session_date, discomfort_reported, spine_pressure, notes,
               {", ".join(f"pre_{m}, post_{m}" for m in METRICS)}
        FROM mart_course_sessions
    """
    assert _rows(loaded, stored) == _rows(loaded, live)


def test_course_sessions_are_stored_in_course_order(loaded):
    stored = loaded.execute("SELECT course_id, session_number FROM mart_course_sessions").fetchall()
    assert stored == sorted(stored)


def test_cohort_trajectories_are_the_unfiltered_trajectory_aggregates(loaded):
    for metric in METRICS:
        live = loaded.execute(
            f"""
            SELECT c.cohort, sc.session_number, count(*), avg(sc.{metric}),
                   stddev_samp(sc.{metric})
            FROM scores AS sc JOIN courses AS c ON c.course_id = sc.course_id
            WHERE sc.timing = 'pre' AND sc.session_status = 'completed'
              AND sc.{metric} IS NOT NULL AND sc.session_number BETWEEN 1 AND 15
            GROUP BY ALL ORDER BY 1, 2
            """
        ).fetchall()
        stored = loaded.execute(
            "SELECT cohort, session_number, n, mean, sd FROM mart_cohort_trajectories "
            "WHERE metric = ? ORDER BY 1, 2",
            [metric],
        ).fetchall()
        assert [r[:3] for r in stored] == [r[:3] for r in live]
        for got, want in zip(stored, live, strict=True):
            for g, w in zip(got[3:], want[3:], strict=True):  # mean, sd (None when n = 1)
                assert g == w if w is None else g == pytest.approx(w, rel=1e-12)


def test_therapist_marts_count_what_the_views_count(loaded):
    assert _rows(loaded, "SELECT * FROM mart_therapist_activity") == _rows(
        loaded,
        "SELECT therapist_id, count(*) FILTER (WHERE status = 'completed'), "
        "count(DISTINCT course_id) FROM sessions GROUP BY therapist_id",
    )
    assert _rows(loaded, "SELECT * FROM mart_therapist_alerts") == _rows(
        loaded,
        "SELECT therapist_id, alert_type, count(*) FROM alerts"
        " WHERE alert_type <> 'off_track' GROUP BY ALL",  # an outcome signal, not a safety event
    )
