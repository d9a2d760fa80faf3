"""The `analyst` schema: no names, birth dates or notes anywhere; ids are keyed hashes that
need the installation's secret (which is not in the warehouse); joins still work."""

from __future__ import annotations

import hashlib
import hmac
import stat

import duckdb
import pytest

from pipelines.users import pseudonym, read_or_create_secret
from pipelines.warehouse.analyst_schema import ANALYST_TABLES, create_analyst_schema


@pytest.fixture(scope="module")
def con(sec_warehouse):
    c = duckdb.connect(str(sec_warehouse), read_only=True)
    yield c
    c.close()


@pytest.fixture(scope="module")
def secret(sec_paths, sec_warehouse) -> bytes:
    return read_or_create_secret(sec_paths.pseudonym_secret_file)


def _text_cells(con, table: str) -> list[str]:
    """Every value of `table` as text (lists and JSON included)."""
    cols = [r[0] for r in con.execute(f"DESCRIBE analyst.{table}").fetchall()]
    rows = con.execute(
        f"SELECT {', '.join(f'CAST({c} AS VARCHAR)' for c in cols)} FROM analyst.{table}"
    ).fetchall()
    return [v for row in rows for v in row if v is not None]


def test_every_view_has_its_pseudonymised_table_with_the_same_rows(con):
    for table in ANALYST_TABLES:
        main = con.execute(f"SELECT count(*) FROM main.{table}").fetchone()[0]
        analyst = con.execute(f"SELECT count(*) FROM analyst.{table}").fetchone()[0]
        assert main == analyst, table


def test_no_personal_column_is_copied(con):
    columns = {
        (t, c)
        for t, c in con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() WHERE schema_name = 'analyst'"
        ).fetchall()
    }
    for banned in ("name", "birth_date", "notes", "record", "reasons", "alert_id"):
        assert not [tc for tc in columns if tc[1] == banned], banned
    assert ("clients", "birth_year") in columns


def test_no_name_birth_date_note_or_raw_id_appears_in_any_cell(con):
    secrets_ = set()
    clients = con.execute("SELECT name, birth_date, client_id FROM main.clients").fetchall()
    for name, birth, cid in clients:
        secrets_ |= {name, str(birth), cid}
    secrets_ |= {
        r[0] for r in con.execute("SELECT name FROM main.therapists WHERE name > ''").fetchall()
    }
    secrets_ |= {
        r[0] for r in con.execute("SELECT notes FROM main.sessions WHERE notes > ''").fetchall()
    }
    secrets_ |= {r[0] for r in con.execute("SELECT session_id FROM main.sessions").fetchall()}
    secrets_ |= {r[0] for r in con.execute("SELECT course_id FROM main.courses").fetchall()}
    assert {"Anna K.", "1994-03-12", "C001", "calf tender", "Dana R.", "K-17"} <= secrets_
    for table in ANALYST_TABLES:
        for cell in _text_cells(con, table):
            leaks = [s for s in secrets_ if s and s in cell]
            assert not leaks, (table, cell, leaks)


def test_ids_are_keyed_hashes_of_the_installation_secret(con, secret):
    expected = hmac.new(secret, b"client:C001", hashlib.sha256).hexdigest()[:16]
    assert pseudonym(secret, "client", "C001") == expected
    ids = {r[0] for r in con.execute("SELECT client_id FROM analyst.clients").fetchall()}
    assert expected in ids
    # without the key, the obvious guesses do not reproduce it
    assert hashlib.sha256(b"C001").hexdigest()[:16] not in ids
    assert hashlib.sha256(b"client:C001").hexdigest()[:16] not in ids
    assert pseudonym(b"another installation's key", "client", "C001") != expected
    # one id, different kinds: different pseudonyms (a course is not linkable to a client)
    assert pseudonym(secret, "course", "C001") != expected


def test_joins_work_on_pseudonyms(con):
    main = con.execute(
        "SELECT c.cohort, count(*) FROM main.sessions s JOIN main.clients c USING (client_id)"
        " JOIN main.scores sc USING (session_id) GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    analyst = con.execute(
        "SELECT c.cohort, count(*) FROM analyst.sessions s JOIN analyst.clients c"
        " USING (client_id) JOIN analyst.scores sc USING (session_id) GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    assert main == analyst and main


def test_birth_year_is_the_year_only(con, secret):
    rows = con.execute("SELECT client_id, birth_year FROM analyst.clients").fetchall()
    by_id = {pseudonym(secret, "client", c): y for c, y in [("C001", 1994), ("C002", 1981)]}
    assert {k: v for k, v in rows if k in by_id} == by_id


def test_secret_is_a_0600_file_and_not_in_the_warehouse(sec_paths, sec_warehouse, secret):
    mode = stat.S_IMODE(sec_paths.pseudonym_secret_file.stat().st_mode)
    assert mode == 0o600
    blob = sec_warehouse.read_bytes()
    assert secret not in blob and secret.hex().encode() not in blob


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


def test_lookups_hold_exactly_the_ids_present_with_their_keyed_hash(con, secret):
    for kind, source in [("client", "main.clients"), ("session", "main.sessions")]:
        column = f"{kind}_id"
        stored = dict(con.execute(f"SELECT value, pseudonym FROM pseudonym.{kind}").fetchall())
        ids = {r[0] for r in con.execute(f"SELECT DISTINCT {column} FROM {source}").fetchall()}
        assert set(stored) == ids and ids
        assert all(p == pseudonym(secret, kind, v) for v, p in stored.items())


def test_a_new_id_is_hashed_and_a_removed_one_dropped_the_rest_kept(scratch, secret):
    before = _pseudonyms(scratch)
    # a client appears, another disappears (in the mart behind main.clients)
    scratch.execute("INSERT INTO mart_clients (client_id, name) VALUES ('C900', 'New One')")
    scratch.execute("DELETE FROM mart_clients WHERE client_id = 'C003'")
    scratch.execute("UPDATE pseudonym.client SET pseudonym = 'kept' WHERE value = 'C001'")
    create_analyst_schema(scratch, secret)
    after = _pseudonyms(scratch)
    assert after["C900"] == pseudonym(secret, "client", "C900")
    assert "C003" in before and "C003" not in after
    assert after["C001"] == "kept"  # not recomputed: only new ids are hashed
    ids = {r[0] for r in scratch.execute("SELECT client_id FROM analyst.clients").fetchall()}
    assert pseudonym(secret, "client", "C900") in ids and None not in ids


def test_another_key_or_length_recomputes_every_pseudonym(scratch, secret):
    other = b"another installation's key"
    create_analyst_schema(scratch, other)
    assert all(p == pseudonym(other, "client", v) for v, p in _pseudonyms(scratch).items())
    create_analyst_schema(scratch, other, n_hex=24)
    assert all(p == pseudonym(other, "client", v, 24) for v, p in _pseudonyms(scratch).items())
    stored = scratch.execute("SELECT key_check FROM pseudonym.key_check").fetchall()
    assert len(stored) == 1 and other.hex() not in stored[0][0]


def test_a_warehouse_with_the_former_analyst_tables_gets_views(scratch, secret):
    scratch.execute("DROP VIEW analyst.clients")
    scratch.execute("CREATE TABLE analyst.clients AS SELECT 'stale copy' AS client_id")
    create_analyst_schema(scratch, secret)
    kinds = scratch.execute(
        "SELECT count(*) FILTER (WHERE NOT internal) FROM duckdb_tables()"
        " WHERE schema_name = 'analyst'"
    ).fetchone()[0]
    assert kinds == 0
    ids = {r[0] for r in scratch.execute("SELECT client_id FROM analyst.clients").fetchall()}
    assert pseudonym(secret, "client", "C001") in ids and "stale copy" not in ids
