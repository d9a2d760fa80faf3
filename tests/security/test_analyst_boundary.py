"""The analyst boundary holds by construction: analyst SQL runs on the analysts' copy, a
file without the warehouse's tables, so whatever a query names, no answer holds a real
name, birth date, note, certificate or id.

A generated corpus: every query shape below (CTEs that take a table's name, recursion,
scalar and EXISTS subqueries, LATERAL, joins, set operations, UNION BY NAME, table
functions, and random nestings of them) names every table and view of the warehouse, in
every way a name can be written. Each query is either refused or answers without a real
value; the console's own guards are extra layers, not what this relies on.
"""

from __future__ import annotations

import dataclasses
import random
import shutil

import duckdb
import pytest
from security_support import real_values

from dashboard.sql_console import QueryRefused, run_query
from pipelines.settings import Settings, analyst_copy_path

SHAPES: tuple[str, ...] = (
    "SELECT * FROM {t}",
    "SELECT {b}.* FROM {t} AS {b}",
    "SELECT * FROM {t} AS clients",
    "WITH {b} AS (SELECT * FROM {t}) SELECT * FROM {b}",
    "WITH {b} AS MATERIALIZED (SELECT * FROM {t}) SELECT * FROM {b}",
    "WITH x AS (SELECT * FROM clients), {b} AS (SELECT * FROM {t}) SELECT * FROM {b}",
    "SELECT * FROM (WITH {b} AS (SELECT * FROM {t}) SELECT * FROM {b}) AS s",
    "WITH RECURSIVE {b} AS (SELECT * FROM {t} UNION ALL SELECT * FROM {b} WHERE false) "
    "SELECT * FROM {b}",
    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 2) "
    "SELECT * FROM {t}, r",
    "SELECT (SELECT string_agg(CAST(x AS VARCHAR), '|') FROM {t} AS x) AS leak",
    "SELECT (SELECT list(x) FROM {t} AS x) AS leak",
    "SELECT * FROM clients WHERE EXISTS (SELECT 1 FROM {t})",
    "SELECT *, EXISTS (SELECT * FROM {t}) AS e FROM therapists",
    "SELECT * FROM clients AS c, LATERAL (SELECT * FROM {t} LIMIT 3) AS l",
    "SELECT * FROM clients AS c CROSS JOIN LATERAL (SELECT * FROM {t}) AS l",
    "SELECT * FROM clients UNION ALL BY NAME SELECT * FROM {t}",
    "SELECT * FROM {t} UNION BY NAME SELECT * FROM therapists",
    "SELECT * FROM clients JOIN {t} ON true",
    "SELECT * FROM clients NATURAL JOIN {t}",
    "SELECT * FROM clients POSITIONAL JOIN {t}",
    "SELECT * FROM clients WHERE client_id IN (SELECT CAST(x AS VARCHAR) FROM {t} AS x)",
    "SELECT CAST(x AS VARCHAR) FROM {t} AS x INTERSECT SELECT CAST(c AS VARCHAR) FROM clients c",
    "SELECT CAST(x AS VARCHAR) FROM {t} AS x EXCEPT SELECT 'nothing'",
    "SELECT * FROM unnest((SELECT list(CAST(x AS VARCHAR)) FROM {t} AS x))",
    "SELECT * FROM range((SELECT count(*) FROM {t}))",
    "SELECT * FROM query_table('{b}')",
    "SELECT * FROM query('SELECT * FROM {t}')",
    "SELECT * FROM (FROM {t})",
    "SELECT * FROM {t} USING SAMPLE 50 PERCENT (bernoulli)",
    "SELECT min(COLUMNS(*)) FROM {t}",
    "SELECT * FROM (SELECT * FROM {t}) AS clients WHERE true",
)
"""{t}: a name as written; {b}: the bare name (for CTEs and aliases)."""


def _names(warehouse) -> list[tuple[str, str]]:
    """(written, bare) for every table and view of the warehouse, in every spelling."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE NOT internal"
            " UNION SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal"
        ).fetchall()
    finally:
        con.close()
    out = []
    for schema, name in sorted(rows):
        out += [(name, name), (f"{schema}.{name}", name), (f'"{schema}"."{name}"', name),
                (f"warehouse.{schema}.{name}", name), (f"analyst.{name}", name),
                (name.upper(), name)]  # fmt: skip
    return out


@pytest.fixture(scope="module")
def secrets_(sec_warehouse) -> set[str]:
    con = duckdb.connect(str(sec_warehouse), read_only=True)
    con.execute(f"ATTACH '{sec_warehouse}' AS wh (READ_ONLY)")
    try:
        return real_values(con)
    finally:
        con.close()


@pytest.fixture(scope="module")
def quick(sec_warehouse) -> Settings:
    return dataclasses.replace(Settings(), sql_timeout_s=2.0, sql_row_cap=2000)


def _leaks(result, secrets_: set[str]) -> list[str]:
    cells = [str(v) for row in result.rows.itertuples(index=False) for v in row]
    cells += [str(c) for c in result.columns]
    return sorted({s for s in secrets_ for cell in cells if s in cell})


def _corpus(warehouse) -> list[str]:
    """Every shape with every name in every spelling, and random nestings of two shapes
    (the inner query is the outer one's table)."""
    names = _names(warehouse)
    corpus = [shape.format(t=t, b=b) for shape in SHAPES for t, b in names]
    rng = random.Random(20261201)
    for _ in range(300):
        t, b = rng.choice(names)
        inner = rng.choice(SHAPES).format(t=t, b=b)
        corpus.append(rng.choice(SHAPES).format(t=f"({inner})", b="nested"))
    return corpus


def _console_sample(corpus: list[str], warehouse) -> list[str]:
    """What the console test runs (each query costs it a fresh in-memory database): every
    relation of the warehouse in a dozen shapes, each in a random spelling, plus the
    nestings; about 800 queries."""
    rng = random.Random(7)
    bare = sorted({b for _, b in _names(warehouse)})
    spellings = {b: [t for t, b2 in _names(warehouse) if b2 == b] for b in bare}
    picked = [
        shape.format(t=rng.choice(spellings[b]), b=b)
        for b in bare
        for shape in rng.sample(SHAPES, 12)
    ]
    return picked + corpus[-300:]


def test_no_query_of_the_corpus_reaches_a_real_value(sec_warehouse, secrets_, quick):
    corpus = _console_sample(_corpus(sec_warehouse), sec_warehouse)
    assert len(corpus) >= 500 and {"Anna K.", "C001", "S0001", "T01"} <= secrets_
    answered, refused = 0, 0
    for sql in corpus:
        try:
            result = run_query(sec_warehouse, sql, quick, surface="analyst")
        except QueryRefused:
            refused += 1
            continue
        answered += 1
        assert not _leaks(result, secrets_), (sql, _leaks(result, secrets_))
    assert answered and refused  # the corpus is neither all refused nor all answered


def test_the_corpus_answers_nothing_real_even_without_the_guards(sec_warehouse, secrets_):
    """By construction: the same corpus run straight on the analysts' copy, with none of
    the console's checks, finds no real value (most names simply do not exist there)."""
    con = duckdb.connect(str(analyst_copy_path(sec_warehouse)), read_only=True)
    try:
        for sql in _corpus(sec_warehouse):
            try:
                rows = con.execute(sql).fetchmany(2000)
            except duckdb.Error:
                continue
            cells = [str(v) for row in rows for v in row]
            assert not [s for s in secrets_ for c in cells if s in c], sql
    finally:
        con.close()


def test_analyst_queries_never_open_the_warehouse(sec_warehouse, quick, tmp_path):
    """With only the copy present (the warehouse moved away), analyst queries answer in
    full: they never needed the warehouse."""
    alone = tmp_path / "warehouse.duckdb"
    shutil.copyfile(analyst_copy_path(sec_warehouse), analyst_copy_path(alone))
    result = run_query(alone, "SELECT count(*) AS n FROM sessions", quick, surface="analyst")
    assert result.rows["n"].tolist() == [4] and not alone.exists()


def test_the_analyst_surface_refuses_a_file_that_is_not_a_copy(sec_warehouse, quick, tmp_path):
    """A warehouse put where the copy belongs (a careless operator) is not queried."""
    impostor = tmp_path / "warehouse.duckdb"
    shutil.copyfile(sec_warehouse, analyst_copy_path(impostor))
    with pytest.raises(QueryRefused, match="not an analysts' copy"):
        run_query(impostor, "SELECT * FROM clients", quick, surface="analyst")


def test_outcomes_sql_for_analysts_runs_on_the_copy(sec_warehouse, cli, sec_paths):
    leak = "WITH mart_clients AS (SELECT * FROM mart_clients) SELECT * FROM mart_clients"
    proc = cli("sql", "--analyst", "--db", str(sec_warehouse), leak, check=False,
               **sec_paths.env())  # fmt: skip
    assert proc.returncode == 1 and "Anna" not in proc.stdout + proc.stderr
    proc = cli("sql", "--analyst", "--db", str(sec_warehouse), "SELECT client_id, birth_year "
               "FROM clients ORDER BY birth_year", **sec_paths.env())  # fmt: skip
    assert "1958" in proc.stdout and "C001" not in proc.stdout and "Anna" not in proc.stdout
