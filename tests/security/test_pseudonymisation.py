"""The analysts' copy: no names, birth dates, notes or real ids anywhere; ids are keyed
hashes that need the installation's secret (which is in neither file); joins still work."""

from __future__ import annotations

import hashlib
import hmac
import stat

import duckdb
import pytest
from security_support import real_values

from pipelines.settings import analyst_copy_path
from pipelines.users import pseudonym, read_or_create_secret
from pipelines.warehouse.analyst_columns import ANALYST_TABLES
from pipelines.warehouse.pseudonyms import sync_pseudonyms


@pytest.fixture(scope="module")
def con(sec_warehouse):
    """The analysts' copy, with the warehouse attached as `wh` to compare against."""
    c = duckdb.connect(str(analyst_copy_path(sec_warehouse)), read_only=True)
    c.execute(f"ATTACH '{sec_warehouse}' AS wh (READ_ONLY)")
    yield c
    c.close()


@pytest.fixture(scope="module")
def secret(sec_paths, sec_warehouse) -> bytes:
    return read_or_create_secret(sec_paths.pseudonym_secret_file)


def _text_cells(con, table: str) -> list[str]:
    """Every value of the copy's `table` as text (lists and JSON included)."""
    cols = [r[0] for r in con.execute(f"DESCRIBE main.{table}").fetchall()]
    rows = con.execute(
        f"SELECT {', '.join(f'CAST({c} AS VARCHAR)' for c in cols)} FROM main.{table}"
    ).fetchall()
    return [v for row in rows for v in row if v is not None]


def test_the_copy_holds_the_analyst_tables_and_nothing_else(con):
    tables = con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables()"
        " WHERE database_name = current_database() ORDER BY table_name"
    ).fetchall()
    assert sorted(tables) == sorted(("main", t) for t in ANALYST_TABLES)
    views = con.execute(
        "SELECT count(*) FROM duckdb_views()"
        " WHERE database_name = current_database() AND NOT internal"
    ).fetchone()[0]
    assert views == 0


def test_every_view_has_its_pseudonymised_table_with_the_same_rows(con):
    for table in ANALYST_TABLES:
        main = con.execute(f"SELECT count(*) FROM wh.main.{table}").fetchone()[0]
        analyst = con.execute(f"SELECT count(*) FROM main.{table}").fetchone()[0]
        assert main == analyst, table


def test_no_personal_column_is_copied(con):
    columns = {
        (t, c)
        for t, c in con.execute(
            "SELECT table_name, column_name FROM duckdb_columns()"
            " WHERE database_name = current_database()"
        ).fetchall()
    }
    for banned in ("name", "birth_date", "notes", "record", "reasons", "alert_id",
                   "qualification"):  # fmt: skip
        assert not [tc for tc in columns if tc[1] == banned], banned
    assert ("clients", "birth_year") in columns
    assert ("therapists", "has_qualification") in columns


def test_no_name_birth_date_note_certificate_or_real_id_appears_in_any_cell(con):
    secrets_ = real_values(con)
    assert {"Anna K.", "1994-03-12", "C001", "calf tender", "Dana R.", "K-17", "T01",
            "FM-2231", "S0001", "C001-1"} <= secrets_  # fmt: skip
    for table in ANALYST_TABLES:
        for cell in _text_cells(con, table):
            leaks = [s for s in secrets_ if s in cell]
            assert not leaks, (table, cell, leaks)


def test_an_unqualified_therapist_alert_names_the_therapist_by_pseudonym(con, secret):
    details = [
        r[0]
        for r in con.execute(
            "SELECT detail FROM main.alerts WHERE alert_type = 'unqualified_therapist'"
        ).fetchall()
    ]
    assert details == [f"therapist {pseudonym(secret, 'therapist', 'T02')} has no qualification"]


def test_ids_are_keyed_hashes_of_the_installation_secret(con, secret):
    expected = hmac.new(secret, b"client:C001", hashlib.sha256).hexdigest()[:16]
    assert pseudonym(secret, "client", "C001") == expected
    ids = {r[0] for r in con.execute("SELECT client_id FROM main.clients").fetchall()}
    assert expected in ids
    # without the key, the obvious guesses do not reproduce it
    assert hashlib.sha256(b"C001").hexdigest()[:16] not in ids
    assert hashlib.sha256(b"client:C001").hexdigest()[:16] not in ids
    assert pseudonym(b"another installation's key", "client", "C001") != expected
    # one id, different kinds: different pseudonyms (a course is not linkable to a client)
    assert pseudonym(secret, "course", "C001") != expected
    therapists = {r[0] for r in con.execute("SELECT therapist_id FROM main.therapists").fetchall()}
    assert therapists == {pseudonym(secret, "therapist", t) for t in ("T01", "T02")}


def test_joins_work_on_pseudonyms(con):
    main = con.execute(
        "SELECT c.cohort, count(*) FROM wh.main.sessions s JOIN wh.main.clients c"
        " USING (client_id) JOIN wh.main.scores sc USING (session_id) GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    analyst = con.execute(
        "SELECT c.cohort, count(*) FROM main.sessions s JOIN main.clients c"
        " USING (client_id) JOIN main.scores sc USING (session_id) GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    assert main == analyst and main


def test_birth_year_is_the_year_only(con, secret):
    rows = con.execute("SELECT client_id, birth_year FROM main.clients").fetchall()
    by_id = {pseudonym(secret, "client", c): y for c, y in [("C001", 1994), ("C002", 1981)]}
    assert {k: v for k, v in rows if k in by_id} == by_id


def test_secret_is_a_0600_file_and_in_neither_file(sec_paths, sec_warehouse, secret):
    mode = stat.S_IMODE(sec_paths.pseudonym_secret_file.stat().st_mode)
    assert mode == 0o600
    for path in (sec_warehouse, analyst_copy_path(sec_warehouse)):
        blob = path.read_bytes()
        assert secret not in blob and secret.hex().encode() not in blob, path


def test_the_copy_holds_no_real_value_even_in_its_bytes(sec_warehouse, con):
    """Not only no cell: no string of the warehouse's personal data anywhere in the file
    (free pages, dictionaries, comments)."""
    blob = analyst_copy_path(sec_warehouse).read_bytes()
    for value in real_values(con):
        if len(value) >= 4:  # shorter ids ("T01") also occur by chance in binary data
            assert value.encode() not in blob, value


# --- the pseudonym lookups (kept between loads; only new ids are hashed) -------------------


def _pseudonyms(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    return dict(con.execute("SELECT value, pseudonym FROM pseudonym.client").fetchall())


@pytest.fixture
def scratch(sec_warehouse, tmp_path) -> duckdb.DuckDBPyConnection:
    """A writable copy of the security warehouse."""
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(sec_warehouse.read_bytes())
    c = duckdb.connect(str(copy))
    yield c
    c.close()


def test_lookups_hold_exactly_the_ids_present_with_their_keyed_hash(sec_warehouse, secret):
    c = duckdb.connect(str(sec_warehouse), read_only=True)
    try:
        for kind, source in [("client", "main.clients"), ("session", "main.sessions"),
                             ("therapist", "main.therapists")]:  # fmt: skip
            column = f"{kind}_id"
            stored = dict(c.execute(f"SELECT value, pseudonym FROM pseudonym.{kind}").fetchall())
            ids = {r[0] for r in c.execute(f"SELECT DISTINCT {column} FROM {source}").fetchall()}
            assert set(stored) == ids and ids
            assert all(p == pseudonym(secret, kind, v) for v, p in stored.items())
    finally:
        c.close()


def test_a_new_id_is_hashed_and_a_removed_one_dropped_the_rest_kept(scratch, secret):
    before = _pseudonyms(scratch)
    # a client appears, another disappears (in the mart behind main.clients)
    scratch.execute("INSERT INTO mart_clients (client_id, name) VALUES ('C900', 'New One')")
    scratch.execute("DELETE FROM mart_clients WHERE client_id = 'C003'")
    scratch.execute("UPDATE pseudonym.client SET pseudonym = 'kept' WHERE value = 'C001'")
    sync_pseudonyms(scratch, secret, 16)
    after = _pseudonyms(scratch)
    assert after["C900"] == pseudonym(secret, "client", "C900")
    assert "C003" in before and "C003" not in after
    assert after["C001"] == "kept"  # not recomputed: only new ids are hashed


def test_another_key_or_length_recomputes_every_pseudonym(scratch, secret):
    other = b"another installation's key"
    sync_pseudonyms(scratch, other, 16)
    assert all(p == pseudonym(other, "client", v) for v, p in _pseudonyms(scratch).items())
    sync_pseudonyms(scratch, other, 24)
    assert all(p == pseudonym(other, "client", v, 24) for v, p in _pseudonyms(scratch).items())
    stored = scratch.execute("SELECT key_check FROM pseudonym.key_check").fetchall()
    assert len(stored) == 1 and other.hex() not in stored[0][0]
