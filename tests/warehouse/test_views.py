"""The analysts' views of spec §6: names, columns (spec order first), types and comments."""

from __future__ import annotations

import dataclasses
import datetime as dt

import duckdb
import pytest

from pipelines.contracts import model_contracts
from pipelines.settings import Settings
from pipelines.store.ddl import ensure_schema
from pipelines.warehouse.catalog import VIEWS
from pipelines.warehouse.derive import rebuild_derived
from pipelines.warehouse.views import WAREHOUSE_VIEWS, comment_on, create_analyst_views

# spec §6, "columns at least", in the spec's order
SPEC_COLUMNS: dict[str, list[str]] = {
    "clients": "client_id birth_date sex height_cm weight_kg bmi athlete cohort contraindications",
    "therapists": "therapist_id qualification qualified_until body_weight_kg",
    "sessions": "session_id client_id therapist_id course_id session_number started_at status "
    "duration_min warmup_min feet direction techniques spine_pressure discomfort_reported",
    "scores": "session_id client_id timing pain muscle_tone mobility",
    "courses": "course_id client_id cohort sessions_completed first_session_at last_session_at "
    "status contraindicated",
    "course_progress": "course_id client_id cohort metric status sessions_completed baseline "
    "latest improvement pct_improvement improvement_per_session immediate_effect responder "
    "worsened rci reliable_improvement",
    "cohort_outcomes": "cohort metric courses_completed mean_improvement ci95_low ci95_high "
    "median_improvement responder_rate dropout_rate",
    "alerts": "alert_type client_id course_id session_id therapist_id occurred_at detail",
    "quarantine": "entity source_file row_number record reasons",
    "load_log": "source_file content_hash entity loaded_at rows_read rows_loaded "
    "rows_quarantined rows_duplicate status message",
    # spec §7.3 and §7.4
    "cohort_outcomes_adjusted": "cohort metric courses raw_mean_improvement "
    "adjusted_mean_improvement adjusted_ci95_low adjusted_ci95_high difference_vs_other "
    "difference_ci95_low difference_ci95_high difference_p_value model_courses "
    "model_r_squared model_residual_sd",
    "therapist_outcomes": "therapist_id metric courses observed_mean expected_mean difference "
    "adjusted_mean ci95_low ci95_high z funnel_band",
    "course_expectations": "course_id client_id metric session_number value change "
    "reference_courses reference_scope expected_p10 expected_p25 expected_median expected_p75 "
    "off_track",
}
SPEC_COLUMNS = {k: v.split() for k, v in SPEC_COLUMNS.items()}  # type: ignore[misc]


def columns(con, view: str) -> list[tuple[str, str, str | None]]:
    rows = con.execute(
        "SELECT column_name, data_type, comment FROM duckdb_columns() "
        "WHERE table_name = ? ORDER BY column_index",
        [view],
    ).fetchall()
    return [(n, t.replace("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"), c) for n, t, c in rows]


@pytest.fixture
def real(tmp_path):
    """A warehouse with the loading layer's real schema (raw_* tables, stg_* views)."""
    con = duckdb.connect(str(tmp_path / "real.duckdb"))
    ensure_schema(con)
    meta = "1, 1, 2, 'f.csv', TIMESTAMPTZ '2026-01-01 00:00:00+00'"
    con.execute(
        "INSERT INTO raw_clients (client_id, birth_date, weight_kg, height_cm, _load_seq, "
        f"_file_seq, _row_number, _source_file, _loaded_at) VALUES ('C1', '1950-01-01', 90, 180, "
        f"{meta})"
    )
    con.execute(
        "INSERT INTO raw_therapists (therapist_id, _load_seq, _file_seq, _row_number, "
        f"_source_file, _loaded_at) VALUES ('T1', {meta})"
    )
    con.execute(
        "INSERT INTO raw_sessions (session_id, client_id, therapist_id, started_at, warmup_min, "
        "_load_seq, _file_seq, _row_number, _source_file, _loaded_at) "
        f"VALUES ('S1', 'C1', 'T1', '2026-01-05 10:00:00+00', 2, {meta})"
    )
    con.execute(
        "INSERT INTO raw_scores (session_id, timing, pain, _load_seq, _file_seq, _row_number, "
        f"_source_file, _loaded_at) VALUES ('S1', 'pre', 5, {meta})"
    )
    yield con
    con.close()


def build(con, **overrides) -> None:
    con.begin()
    rebuild_derived(con, dataclasses.replace(Settings(), **overrides))
    create_analyst_views(con)
    con.commit()


def test_views_have_the_spec_columns_first_types_and_comments(wh):
    wh.rebuild()
    for view in WAREHOUSE_VIEWS:
        got = columns(wh.con, view)
        names = [n for n, _, _ in got]
        spec = SPEC_COLUMNS[view]
        assert names[: len(spec)] == spec, view
        assert [(n, t) for n, t, _ in got] == [(c.name, c.type) for c in VIEWS[view].columns]
        assert all(comment for _, _, comment in got), view
        assert wh.one("SELECT comment FROM duckdb_views() WHERE view_name = ?", [view])


def test_views_over_the_loading_layers_real_staging(real):
    build(real)
    # the session has no status (blank = completed) and a 2-minute warm-up, by a therapist
    # without qualification; the client is 76 at course start
    assert real.execute("SELECT course_id, session_number FROM sessions").fetchall() == [
        ("C1-1", 1)
    ]
    assert real.execute("SELECT client_id, cohort FROM clients").fetchall() == [
        ("C1", "overweight")  # 90 / 1.8² = 27.8
    ]
    types = sorted(real.execute("SELECT alert_type FROM alerts").fetchall())
    assert types == [("contraindication",), ("protocol_deviation",), ("unqualified_therapist",)]
    assert real.execute("SELECT client_id FROM scores").fetchall() == [("C1",)]
    for view in ("quarantine", "load_log"):  # the loading layer's views, documented here
        got = columns(real, view)
        assert [n for n, _, _ in got][: len(SPEC_COLUMNS[view])] == SPEC_COLUMNS[view]
        assert [(n, t) for n, t, _ in got] == [(c.name, c.type) for c in VIEWS[view].columns]
        assert all(comment for _, _, comment in got), view


def test_comment_on_for_the_loading_layer(real):
    ensure_schema(real)  # CREATE OR REPLACE: the comments are gone
    assert columns(real, "load_log")[0][2] is None
    comment_on(real, "load_log")
    assert columns(real, "load_log")[0][2] == VIEWS["load_log"].column("source_file").doc
    real.execute("CREATE OR REPLACE VIEW load_log AS SELECT 1 AS surprise")
    with pytest.raises(ValueError, match="undocumented: \\['surprise'\\]"):
        comment_on(real, "load_log")


def test_comments_are_escaped(wh, monkeypatch):
    wh.rebuild()
    doc = VIEWS["therapists"]
    quirky = dataclasses.replace(doc.columns[0], doc="the therapist's key; '; DROP TABLE x; --")
    patched = dataclasses.replace(doc, columns=(quirky, *doc.columns[1:]))
    monkeypatch.setitem(VIEWS, "therapists", patched)
    comment_on(wh.con, "therapists")
    assert columns(wh.con, "therapists")[0][2] == quirky.doc


def test_scores_view_takes_the_client_from_the_session_when_not_given(wh):
    wh.client("C1")
    wh.client("C2")
    wh.therapist()
    wh.session("S1", dt.datetime(2026, 1, 5, 10, tzinfo=dt.UTC))
    wh.session("S2", dt.datetime(2026, 1, 6, 10, tzinfo=dt.UTC), client_id="C2")
    wh.score("S1", "pre", pain=5.0)  # no client_id
    wh.score("S2", "pre", pain=4.0, client_id="C2")
    wh.rebuild()
    rows = wh.rows("SELECT session_id, client_id, course_id, session_status FROM scores ORDER BY 1")
    assert rows == [("S1", "C1", "C1-1", "completed"), ("S2", "C2", "C2-1", "completed")]


def test_views_follow_a_rebuild(wh):
    wh.client()
    wh.therapist()
    wh.sessions(10)
    wh.rebuild()
    assert wh.one("SELECT status FROM courses") == "completed"
    wh.rebuild(course_min_sessions=11, as_of=dt.date(2026, 6, 1))
    assert wh.one("SELECT status FROM courses") == "dropped_out"
    assert wh.one("SELECT count(*) FROM course_progress") == 3


def undocumented(con) -> list[str]:
    """What the warehouse's models lack against their YAML contracts: a view or table
    without one (history raw_* and bookkeeping meta_* tables are not models), or, where the
    contract lists columns, a column name or type it does not state."""
    problems = []
    contracts = model_contracts()
    names = con.execute(
        "SELECT table_name FROM duckdb_columns() WHERE NOT internal AND schema_name = 'main' "
        "AND database_name = current_database() AND table_name NOT LIKE 'raw\\_%' ESCAPE '\\' "
        "AND table_name NOT LIKE 'meta\\_%' ESCAPE '\\' GROUP BY 1 ORDER BY 1"
    ).fetchall()
    for (name,) in names:
        if name not in contracts:
            problems.append(f"{name}: no contract")
        elif contracts[name].columns and [(n, t) for n, t, _ in columns(con, name)] != [
            (c.name, c.type) for c in contracts[name].columns
        ]:
            problems.append(f"{name}: columns differ from {contracts[name].contract_path}")
    return problems


def test_every_model_has_a_contract_and_a_view_its_documented_columns(real):
    build(real)
    assert undocumented(real) == []
    real.execute("CREATE VIEW surprise AS SELECT 1 AS x")
    real.execute("CREATE TABLE mart_surprise AS SELECT 1 AS x")
    real.execute("CREATE OR REPLACE VIEW therapists AS SELECT therapist_id FROM stg_therapists")
    assert undocumented(real) == [
        "mart_surprise: no contract",
        "surprise: no contract",
        "therapists: columns differ from pipelines/warehouse/models/therapists.yml",
    ]
