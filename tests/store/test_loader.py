"""Loading rules of spec §3 at the warehouse level (history, quarantine, reconciliation)."""

import duckdb
import pytest

from pipelines.store import loader as loader_module

CLIENTS = "client_id,birth_date,weight_kg\n"
THERAPISTS = "therapist_id,qualification\nT1,Q1\n"
SESSIONS = "session_id,client_id,therapist_id,started_at\n"


def test_valid_rows_load_and_bad_rows_are_quarantined_with_every_reason(loader, write):
    path = write(
        "clients.csv",
        CLIENTS + "C1,1990-01-01,70\nC2,2999-01-01,20\nC3,1980-05-05,80\n,1990-01-01,70\n",
    )
    [result] = loader.load(path)
    assert (result.rows_read, result.rows_loaded, result.rows_quarantined) == (4, 2, 2)
    assert result.reconciles()
    q = dict(loader.rows("SELECT row_number, reasons FROM quarantine ORDER BY row_number"))
    assert set(q) == {3, 5}
    assert len(q[3]) == 2  # birth date in the future AND weight out of range
    assert any("weight_kg: 20 is outside 30–300" in r for r in q[3])
    record = loader.rows("SELECT record->>'birth_date' FROM quarantine WHERE row_number = 3")
    assert record == [("2999-01-01",)]  # the original value is kept
    assert loader.rows("SELECT count(*) FROM stg_clients") == [(2,)]


def test_reconciliation_counts_duplicates_and_is_logged(loader, write):
    path = write("clients.csv", CLIENTS + "C1,1990-01-01,70\nC1,1990-01-01,70\nC2,1990-01-01,x\n")
    [result] = loader.load(path)
    assert (result.rows_loaded, result.rows_quarantined, result.rows_duplicate) == (1, 1, 1)
    log = loader.rows(
        "SELECT rows_read, rows_loaded, rows_quarantined, rows_duplicate, status FROM load_log"
    )
    assert log == [(3, 1, 1, 1, "loaded")]


def test_a_later_delivery_corrects_a_row_and_history_keeps_the_old_version(loader, write):
    loader.load(write("clients.csv", CLIENTS + "C1,1990-01-01,70\n"))
    [second] = loader.load(write("clients_fix.csv", CLIENTS + "C1,1990-01-01,72\n"))
    assert second.rows_loaded == 1
    assert loader.rows("SELECT weight_kg FROM stg_clients") == [(72.0,)]
    assert loader.rows("SELECT weight_kg FROM raw_clients ORDER BY _load_seq") == [(70.0,), (72.0,)]


def test_a_resent_identical_row_is_a_duplicate_not_a_new_version(loader, write):
    loader.load(write("clients.csv", CLIENTS + "C1,1990-01-01,70\n"))
    [again] = loader.load(write("clients_again.csv", CLIENTS + "C1,1990-01-01,70.0\n"))
    assert (again.rows_loaded, again.rows_duplicate) == (0, 1)
    assert loader.rows("SELECT count(*) FROM raw_clients") == [(1,)]


def test_late_reference_is_retried_and_loads_once_its_client_exists(loader, write):
    loader.load(write("therapists.csv", THERAPISTS))
    [sessions] = loader.load(write("sessions.csv", SESSIONS + "S1,C9,T1,2026-11-01T10:00\n"))
    assert sessions.rows_quarantined == 1
    assert loader.rows("SELECT reference_only, reasons FROM quarantine") == [
        (True, ["unknown client_id 'C9' (no such client loaded)"])
    ]
    loader.load(write("clients.csv", CLIENTS + "C9,1990-01-01,70\n"))
    assert loader.rows("SELECT count(*) FROM quarantine") == [(0,)]
    assert loader.rows("SELECT session_id, _load_seq FROM raw_sessions") == [("S1", 2)]
    assert loader.rows("SELECT resolution FROM meta_quarantine") == [("loaded",)]


def test_a_retried_row_never_overwrites_a_newer_version_of_its_key(loader, write):
    loader.load(write("therapists.csv", THERAPISTS))
    loader.load(write("sessions.csv", SESSIONS + "S1,C9,T1,2026-11-01T10:00\n"))  # waits
    loader.load(write("clients.csv", CLIENTS + "C1,1990-01-01,70\n"))
    loader.load(write("sessions.csv", SESSIONS + "S1,C1,T1,2026-11-02T10:00\n"))  # newer S1
    loader.load(write("clients.csv", CLIENTS + "C9,1990-01-01,70\n"))  # S1 (old) can load now
    assert loader.rows("SELECT client_id FROM stg_sessions") == [("C1",)]
    assert loader.rows("SELECT count(*) FROM raw_sessions") == [(2,)]
    assert loader.rows("SELECT count(*) FROM quarantine") == [(0,)]


def test_client_mismatch_is_quarantined_and_not_retried(loader, write):
    loader.load(
        write("clients.csv", CLIENTS + "C1,1990-01-01,70\nC2,1990-01-01,70\n"),
        write("therapists.csv", THERAPISTS),
        write("sessions.csv", SESSIONS + "S1,C1,T1,2026-11-01T10:00\n"),
    )
    [scores] = loader.load(
        write(
            "scores.csv", "session_id,client_id,timing,pain\nS1,C2,pre,5\nS1,C1,post,3\nS9,,pre,4\n"
        )
    )
    assert (scores.rows_loaded, scores.rows_quarantined) == (1, 2)
    reasons = dict(loader.rows("SELECT row_number, reasons FROM quarantine"))
    assert reasons[2] == ["client_id 'C2' does not match the session's client 'C1'"]
    assert loader.rows("SELECT reference_only FROM quarantine WHERE row_number = 4") == [(True,)]
    assert loader.rows("SELECT reference_only FROM quarantine WHERE row_number = 2") == [(False,)]


def test_a_score_is_checked_against_the_current_client_of_its_session(loader, write):
    # S1 moved from C1 to C2 by a later delivery: C2 is its client now, not C1
    loader.load(
        write("clients.csv", CLIENTS + "C1,1990-01-01,70\nC2,1990-01-01,70\n"),
        write("therapists.csv", THERAPISTS),
        write("sessions.csv", SESSIONS + "S1,C1,T1,2026-11-01T10:00\n"),
    )
    loader.load(write("sessions_fix.csv", SESSIONS + "S1,C2,T1,2026-11-01T10:00\n"))
    [scores] = loader.load(
        write("scores.csv", "session_id,client_id,timing,pain\nS1,C1,pre,5\nS1,C2,post,3\n")
    )
    assert (scores.rows_loaded, scores.rows_quarantined) == (1, 1)
    assert loader.rows("SELECT row_number, reasons FROM quarantine") == [
        (2, ["client_id 'C1' does not match the session's client 'C2'"])
    ]


def test_a_file_loads_wholly_or_not_at_all(loader, write, monkeypatch):
    path = write("clients.csv", CLIENTS + "C1,1990-01-01,70\nC2,1990-01-01,x\n")

    def crash(*args, **kwargs):
        raise RuntimeError("disk gone")

    monkeypatch.setattr(loader_module, "log_file", crash)  # fails after rows were inserted
    with pytest.raises(RuntimeError):
        loader.load(path)
    for table in ("raw_clients", "meta_quarantine", "meta_load_log"):
        assert loader.rows(f"SELECT count(*) FROM {table}") == [(0,)], table


def test_warehouse_types_are_kept(loader, write):
    loader.load(
        write(
            "clients.csv",
            "client_id,birth_date,contraindications,athlete\n007,1950-02-03,Pregnancy;,Y\n",
        )
    )
    con: duckdb.DuckDBPyConnection = loader.con
    row = con.execute(
        "SELECT client_id, birth_date, contraindications, athlete FROM stg_clients"
    ).fetchone()
    assert row[0] == "007" and str(row[1]) == "1950-02-03"
    assert row[2] == ["pregnancy"] and row[3] is True
