"""The SQL console's attack corpus, on both surfaces it serves: owners' §6 views ("main")
and the analyst role's pseudonymised views ("analyst"). Each attack is refused (or
stopped) with a clear message; nothing is written, read from disk or reconfigured."""

from __future__ import annotations

import dataclasses

import pytest

from dashboard.sql_console import QueryRefused, QueryStopped, run_query
from pipelines.settings import Settings

SURFACE_NAMES = ("main", "analyst")

# (attack, fragment of the message)
CORPUS = [
    ("COPY clients TO '/tmp/stolen.csv'", "must start with SELECT or WITH"),
    ("COPY (SELECT * FROM clients) TO '/tmp/stolen.parquet' (FORMAT parquet)", "must start"),
    ("EXPORT DATABASE '/tmp/dump'", "must start with SELECT or WITH"),
    ("ATTACH '/tmp/other.duckdb' AS other", "must start with SELECT or WITH"),
    ("DETACH warehouse", "must start with SELECT or WITH"),
    ("INSTALL httpfs", "must start with SELECT or WITH"),
    ("LOAD httpfs", "must start with SELECT or WITH"),
    ("SELECT * FROM read_csv('/etc/passwd')", "read_csv() is not allowed"),
    ("SELECT * FROM read_csv_auto('/etc/passwd')", "read_csv_auto() is not allowed"),
    ("SELECT * FROM \"read_csv\"('/etc/passwd')", "read_csv() is not allowed"),
    ("SELECT * FROM READ_TEXT('/etc/passwd')", "READ_TEXT() is not allowed"),
    ("SELECT content FROM read_blob('/etc/shadow')", "read_blob() is not allowed"),
    ("SELECT * FROM '/etc/passwd'", "is not one of the"),
    ("SELECT * FROM glob('/*')", "glob() is not allowed"),
    ("SELECT getenv('HOME')", "getenv() is not allowed"),
    ("SELECT current_setting('enable_external_access')", "current_setting() is not allowed"),
    ("SELECT * FROM query('SELECT * FROM main.clients')", "query() is not allowed"),
    ("SELECT * FROM duckdb_settings()", "duckdb_settings() is not allowed"),
    ("SELECT * FROM information_schema.tables", "information_schema is not available"),
    ("PRAGMA database_list", "must start with SELECT or WITH"),
    ("SELECT * FROM pragma_database_list()", "pragma_database_list() is not allowed"),
    ("SET enable_external_access = true", "must start with SELECT or WITH"),
    ("RESET lock_configuration", "must start with SELECT or WITH"),
    ("CALL pragma_version()", "must start with SELECT or WITH"),
    ("SELECT 1; DROP VIEW clients", "Only one statement"),
    ("SELECT 1; SELECT * FROM read_csv('/etc/passwd')", "Only one statement"),
    ("SELECT 1 /* ; */ ; COPY clients TO '/tmp/x.csv'", "Only one statement"),
    ("/* SELECT */ COPY clients TO '/tmp/x.csv'", "must start with SELECT or WITH"),
    ("-- SELECT\nDELETE FROM load_log", "must start with SELECT or WITH"),
    ("SELECT 1 --\n; ATTACH '/tmp/x.duckdb'", "Only one statement"),
    ("WITH x AS (SELECT 1) DELETE FROM load_log", "Only read queries"),
    ("SELECT * FROM mart_clients", "is not one of the"),
    ("SELECT * FROM meta_runs", "is not one of the"),
    ("SELECT * FROM warehouse.main.stg_clients", "is not one of the"),
    ("SELECT * FROM pseudonym.client", "is not one of the"),
]


@pytest.fixture(scope="module")
def fast(sec_warehouse) -> Settings:
    return dataclasses.replace(Settings(), sql_timeout_s=1.0, sql_row_cap=500)


@pytest.mark.parametrize("surface", SURFACE_NAMES)
@pytest.mark.parametrize(("sql", "fragment"), CORPUS)
def test_attack_is_refused_with_a_clear_message(sec_warehouse, fast, surface, sql, fragment):
    with pytest.raises(QueryRefused) as info:
        run_query(sec_warehouse, sql, fast, surface=surface)
    assert fragment.lower() in info.value.message.lower(), info.value.message


@pytest.mark.parametrize("surface", SURFACE_NAMES)
def test_no_attack_writes_a_file(sec_warehouse, fast, surface, tmp_path):
    target = tmp_path / "stolen.csv"
    for sql in (f"COPY clients TO '{target}'", f"SELECT 1; COPY clients TO '{target}'",
                f"SELECT * FROM clients /* ; */; COPY clients TO '{target}'"):  # fmt: skip
        with pytest.raises(QueryRefused):
            run_query(sec_warehouse, sql, fast, surface=surface)
    assert not target.exists()


@pytest.mark.parametrize("surface", SURFACE_NAMES)
def test_huge_cross_join_is_stopped_by_the_time_limit(sec_warehouse, fast, surface):
    sql = (
        "SELECT count(*) FROM range(100000000) AS a, range(100000000) AS b WHERE a.range <> b.range"
    )
    with pytest.raises(QueryStopped, match=r"stopped after 1 s \(sql_timeout_s\)"):
        run_query(sec_warehouse, sql, fast, surface=surface)


@pytest.mark.parametrize("surface", SURFACE_NAMES)
def test_very_long_results_are_capped(sec_warehouse, fast, surface):
    sql = "SELECT s.*, r.range FROM sessions AS s, range(100000) AS r"
    result = run_query(sec_warehouse, sql, fast, surface=surface)
    assert result.truncated and len(result.rows) == 500
    assert "showing the first 500 rows (sql_row_cap)" in result.message


ANALYST_ESCAPES = [
    "SELECT * FROM main.clients",
    'SELECT * FROM "main"."clients"',
    "SELECT * FROM warehouse.main.clients",
    "SELECT * FROM warehouse.clients",
    "SELECT name FROM (SELECT * FROM main.clients)",
    "WITH clients AS (SELECT * FROM main.clients) SELECT * FROM clients",
    "SELECT * FROM analyst.clients JOIN main.sessions USING (client_id)",
    "SELECT * FROM clients WHERE client_id IN (SELECT client_id FROM main.clients)",
    # the pseudonym lookups behind the analyst views hold the real ids
    "SELECT * FROM pseudonym.client",
    "SELECT * FROM warehouse.pseudonym.session",
    "SELECT c.* FROM clients JOIN pseudonym.client c ON c.pseudonym = clients.client_id",
    "SELECT * FROM pseudonym.key_check",
]


@pytest.mark.parametrize("sql", ANALYST_ESCAPES)
def test_analyst_console_reaches_only_the_analyst_views(sec_warehouse, fast, sql):
    with pytest.raises(QueryRefused, match="not one of the pseudonymised analyst views"):
        run_query(sec_warehouse, sql, fast, surface="analyst")


def test_analyst_console_sees_pseudonyms_and_birth_years(sec_warehouse, fast):
    result = run_query(sec_warehouse, "SELECT * FROM clients ORDER BY client_id", fast,
                       surface="analyst")  # fmt: skip
    assert "name" not in result.columns and "birth_date" not in result.columns
    assert sorted(result.rows["birth_year"].tolist()) == [1958, 1981, 1994]
    assert all(len(v) == 16 and v not in ("C001", "C002", "C003") for v in result.rows["client_id"])
    with pytest.raises(QueryRefused, match='"name" not found'):
        run_query(sec_warehouse, "SELECT name FROM clients", fast, surface="analyst")
    with pytest.raises(QueryRefused, match='"notes" not found'):
        run_query(sec_warehouse, "SELECT notes FROM sessions", fast, surface="analyst")


def test_missing_analyst_schema_is_explained(tmp_path, fast):
    import duckdb

    db = tmp_path / "bare.duckdb"
    duckdb.connect(str(db)).close()
    with pytest.raises(QueryRefused, match="pseudonymised schema 'analyst' is missing"):
        run_query(db, "SELECT 1", fast, surface="analyst")
