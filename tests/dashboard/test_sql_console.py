"""The SQL console's guards and limits, against a warehouse built by the real pipeline."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from dashboard.sql_console import (
    QueryFailed,
    QueryRefused,
    QueryStopped,
    format_result,
    run_query,
)
from pipelines.csv_safe import neutralise
from pipelines.settings import get_settings


@pytest.fixture(scope="module")
def settings():
    return get_settings()


@pytest.mark.parametrize(
    ("sql", "n_rows"),
    [
        ("SELECT client_id, cohort FROM clients ORDER BY client_id", 3),
        ("select * from sessions where status = 'completed';", 3),
        ("WITH c AS (SELECT * FROM courses) SELECT * FROM c JOIN clients USING (client_id)", 2),
        ("-- a comment\nSELECT count(*) AS n FROM alerts /* trailing */", 1),
        ("SELECT reason, count(*) FROM alerts, unnest(string_split(detail, '; ')) AS r(reason)"
         " GROUP BY reason", 2),
        ("SELECT * FROM clients WHERE name = 'x; COPY clients TO ''/tmp/x'''", 0),
        ("SELECT * FROM load_log", 4),
    ],
)  # fmt: skip
def test_allowed_queries_return_rows(example_warehouse, settings, sql, n_rows):
    result = run_query(example_warehouse, sql, settings)
    assert len(result.rows) == n_rows
    assert not result.truncated
    assert result.columns == list(result.rows.columns)


def test_result_values_and_terminal_format(example_warehouse, settings):
    result = run_query(
        example_warehouse, "SELECT client_id, name FROM clients ORDER BY 1", settings
    )
    assert result.rows["client_id"].tolist() == ["C001", "C002", "C003"]
    text = format_result(result)
    assert "Anna K." in text and "3 rows" in text


@pytest.mark.parametrize(
    ("sql", "fragment"),
    [
        ("COPY clients TO '/tmp/x.csv'", "SELECT or WITH"),
        ("ATTACH '/tmp/other.duckdb' AS other", "SELECT or WITH"),
        ("INSTALL httpfs", "SELECT or WITH"),
        ("LOAD httpfs", "SELECT or WITH"),
        ("SELECT * FROM read_csv('/etc/passwd')", "read_csv"),
        ("SELECT * FROM read_text('/etc/passwd')", "read_text"),
        ("SELECT * FROM \"read_csv\"('/etc/passwd')", "read_csv"),
        ("SELECT content FROM clients, read_text('/etc/passwd')", "read_text"),
        ("PRAGMA database_list", "SELECT or WITH"),
        ("SET enable_external_access = true", "SELECT or WITH"),
        ("SELECT 1; SELECT 2", "one statement"),
        ("SELECT 1; COPY clients TO '/tmp/x.csv'", "one statement"),
        ("/* SELECT */ COPY clients TO '/tmp/x.csv'", "SELECT or WITH"),
        ("-- SELECT\nDROP VIEW clients", "SELECT or WITH"),
        ("SELECT getenv('HOME')", "getenv"),
        ("SELECT * FROM meta_runs", "meta_runs"),
        ("SELECT * FROM main.meta_runs", "meta_runs"),
        ("SELECT * FROM mart_clients", "mart_clients"),
        ("SELECT * FROM raw_clients", "raw_clients"),
        ("SELECT * FROM (WITH x AS (SELECT 1) SELECT * FROM x), meta_runs", "meta_runs"),
        ("SELECT * FROM duckdb_tables()", "duckdb_tables"),
        ("SELECT * FROM information_schema.tables", "information_schema"),
        ("SELECT * FROM glob('/etc/*')", "glob"),
        ("SELECT current_setting('enable_external_access')", "current_setting"),
        ("", "Empty"),
    ],
)
def test_refused(example_warehouse, settings, sql, fragment):
    with pytest.raises(QueryRefused) as info:
        run_query(example_warehouse, sql, settings)
    assert fragment in info.value.message


def test_copy_never_writes(example_warehouse, settings, tmp_path: Path):
    target = tmp_path / "x.csv"
    with pytest.raises(QueryRefused):
        run_query(example_warehouse, f"COPY clients TO '{target}'", settings)
    assert not target.exists()


def test_sql_errors_are_reported_clearly(example_warehouse, settings):
    with pytest.raises(QueryFailed) as info:
        run_query(example_warehouse, "SELECT nosuch FROM clients", settings)
    assert "nosuch" in info.value.message


def test_time_limit_interrupts(example_warehouse, settings):
    quick = dataclasses.replace(settings, sql_timeout_s=0.3)
    with pytest.raises(QueryStopped) as info:
        run_query(
            example_warehouse,
            "SELECT count(*) FROM range(1000000) AS a, range(1000000) AS b, clients",
            quick,
        )
    assert info.value.message == "stopped after 0.3 s (sql_timeout_s)"


def test_row_cap(example_warehouse, settings):
    capped = dataclasses.replace(settings, sql_row_cap=5)
    result = run_query(example_warehouse, "SELECT * FROM range(20) AS r(i), clients", capped)
    assert result.truncated and len(result.rows) == 5
    assert result.message == "showing the first 5 rows (sql_row_cap)"
    exact = run_query(example_warehouse, "SELECT * FROM range(5)", capped)
    assert not exact.truncated and len(exact.rows) == 5


def test_console_settings_do_not_leak_into_dashboard_reads(example_warehouse, settings):
    from dashboard import data

    run_query(example_warehouse, "SELECT 1", settings)
    with data.Warehouse(example_warehouse).connection() as con:
        assert con.execute("SELECT current_setting('enable_external_access')").fetchone()[0]


def test_missing_warehouse(tmp_path, settings):
    with pytest.raises(QueryRefused, match="outcomes ingest"):
        run_query(tmp_path / "none.duckdb", "SELECT 1", settings)


def test_csv_neutralises_formula_cells():
    df = pd.DataFrame({"a": ["=1+1", "+x", "-2", "@SUM(A1)", "\tq", "\rq", "ok", None],
                       "n": [-1, 2, 3, 4, 5, 6, 7, 8]})  # fmt: skip
    out = neutralise(df)
    assert out["a"].tolist()[:7] == ["'=1+1", "'+x", "'-2", "'@SUM(A1)", "'\tq", "'\rq", "ok"]
    assert out["a"].iloc[7] is None or pd.isna(out["a"].iloc[7])
    assert out["n"].tolist() == [-1, 2, 3, 4, 5, 6, 7, 8]  # numbers stay numbers
    assert df["a"].iloc[0] == "=1+1"  # input untouched
    assert neutralise(pd.DataFrame({"=evil": [1]})).columns.tolist() == ["'=evil"]


# --- answers within the byte cap, built within it (docs/security.md) ------------------------


@pytest.fixture(scope="module")
def small_cap():
    return dataclasses.replace(get_settings(), sql_byte_cap=1_000_000, sql_row_cap=10_000)


def test_an_answer_stops_before_the_byte_cap_with_the_rows_that_fit(example_warehouse, small_cap):
    result = run_query(example_warehouse, "SELECT repeat('x', 1000) AS s FROM range(5000)",
                       small_cap)  # fmt: skip
    # 1,000 values of 1,000 bytes fill the 1,000,000-byte cap exactly; the next would cross it
    assert result.truncated and result.message == "showing the first 1000 rows (sql_byte_cap)"
    assert len(result.rows) == 1000 and set(result.rows["s"].str.len()) == {1000}


def test_lists_and_structs_count_towards_the_byte_cap(example_warehouse, small_cap):
    sql = "SELECT [repeat('y', 500), repeat('z', 500)] AS l, {'a': 1} AS st FROM range(5000)"
    result = run_query(example_warehouse, sql, small_cap)
    # a row is its values as text: "[yyy…, zzz…]" 500 + 500 + 4 bytes, "{'a': 1}" 8 bytes
    assert result.truncated and len(result.rows) == 1_000_000 // 1012


def test_one_value_over_the_byte_cap_gives_no_rows_and_says_why(example_warehouse, small_cap):
    result = run_query(example_warehouse, "SELECT repeat('x', 5000000) AS s", small_cap)
    assert result.rows.empty and result.truncated
    assert "first row alone is larger than sql_byte_cap" in result.message


def test_order_survives_the_caps(example_warehouse, small_cap):
    sql = "SELECT range AS n FROM range(20000) ORDER BY n DESC"
    result = run_query(example_warehouse, sql, small_cap)
    assert result.rows["n"].tolist()[:3] == [19999, 19998, 19997]
    assert result.message == "showing the first 10000 rows (sql_row_cap)"


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT repeat('x', 100000) AS s FROM range(100000)",  # 10 GB of 100 KB values
        "SELECT repeat('x', 100000000) AS s FROM range(20)",  # 2 GB of 100 MB values
    ],
)
def test_a_huge_answer_is_never_built_in_memory(example_warehouse, sql):
    """In a process of its own, the console answers with at most the byte cap; its peak
    memory stays far below the answer DuckDB was asked to build."""
    import subprocess
    import sys

    probe = (
        "import resource, sys; from dashboard.sql_console import run_query; "
        f"r = run_query({str(example_warehouse)!r}, sys.argv[1]); "
        "print(r.message, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)"
    )
    out = subprocess.run([sys.executable, "-c", probe, sql], capture_output=True, text=True,
                         timeout=120, check=True).stdout.split()  # fmt: skip
    peak_mb = int(out[-1])
    assert "sql_byte_cap" in " ".join(out) and peak_mb < 700, out


def test_a_cte_may_not_take_the_name_of_an_internal_table(example_warehouse, settings):
    """The owners' console too (an extra layer: the owner may read everything anyway)."""
    for sql in (
        "WITH mart_clients AS (SELECT * FROM mart_clients) SELECT * FROM mart_clients",
        "WITH RECURSIVE meta_runs AS (SELECT * FROM meta_runs UNION ALL "
        "SELECT * FROM meta_runs WHERE false) SELECT * FROM meta_runs",
        "SELECT * FROM (WITH stg_clients AS (SELECT * FROM stg_clients) SELECT * FROM stg_clients)",
    ):
        with pytest.raises(QueryRefused, match="may not take its name|is not one of the views"):
            run_query(example_warehouse, sql, settings)
