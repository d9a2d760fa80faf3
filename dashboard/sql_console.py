"""Ad-hoc read-only SQL over the analyst views, for the /sql page and `outcomes sql`.

Layers of defence (each would stop most abuse on its own; together they are cheap):

1. text: one statement, starting with SELECT or WITH once comments are stripped, and no
   call of a file/system table function (regex deny-list on the text without literals);
2. parser: DuckDB's own parse tree (`json_serialize_sql`, which also refuses anything but
   SELECT) may only name the §6 views (or CTEs) and a few harmless table functions;
3. binder: `get_table_names` must only find the views or the tables behind them;
4. engine: a private in-memory database ATTACHes the warehouse READ_ONLY, then
   `enable_external_access=false` and `lock_configuration=true` are SET before the query,
   so no file, extension or setting can be reached even if 1–3 missed something.
   Being a separate in-memory instance, these settings never leak into the dashboard's
   own connections (DuckDB shares one instance per file path within a process).

Limits: a threading.Timer interrupts the query after settings.sql_timeout_s; at most
settings.sql_row_cap rows are fetched.

Schemas: `schema="main"` (owners, `outcomes sql`) allows the §6 views; `schema="analyst"`
(the analyst role) allows only the pseudonymised views `analyst.*` (no names, no birth
dates; pipelines/warehouse/analyst_schema.py): unqualified names resolve there, and any
other schema is refused by layers 2 and 3.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from pipelines.settings import Settings, get_settings
from pipelines.warehouse.views import sql_literal

ALLOWED_VIEWS: frozenset[str] = frozenset(
    {"clients", "therapists", "sessions", "scores", "courses", "course_progress",
     "cohort_outcomes", "alerts", "quarantine", "load_log"}
)  # fmt: skip
ALLOWED_TABLE_FUNCTIONS: frozenset[str] = frozenset({"unnest", "range", "generate_series"})
WAREHOUSE_ALIAS = "warehouse"
SCHEMAS: tuple[str, ...] = ("main", "analyst")
# Functions that read files, the environment or DuckDB's internals.
_DENIED_FUNCTION = re.compile(
    r"(read_\w*|\w*_scan|glob|getenv|duckdb_\w*|pragma_\w*|query|query_table|sniff_csv|"
    r"parquet_\w*|sqlite_\w*|iceberg_\w*|delta_\w*|which_secret|load_aws_credentials|"
    r"\w*_metadata|current_setting|enable_\w*|disable_\w*)",
    re.IGNORECASE,
)
_DENIED_CALL_IN_TEXT = re.compile(rf"\b{_DENIED_FUNCTION.pattern}\s*\(", re.IGNORECASE)
_DENIED_NAMES_IN_TEXT = re.compile(r"\b(information_schema|pg_catalog)\b", re.IGNORECASE)
_STARTS_OK = re.compile(r"^\(*\s*(select|with)\b", re.IGNORECASE)


class QueryRefused(Exception):
    """The query was not run (or was stopped); `message` says why, for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class QueryStopped(QueryRefused):
    """The time limit interrupted the query."""


class QueryFailed(QueryRefused):
    """DuckDB rejected the query (syntax error, unknown column …)."""


@dataclass
class QueryResult:
    columns: list[str]
    rows: pd.DataFrame
    truncated: bool
    message: str
    elapsed_s: float = 0.0


# --- text level -----------------------------------------------------------------------------


def _scan(sql: str) -> Iterator[tuple[str, str]]:
    """Split SQL into ("code"|"string"|"ident"|"comment", text) pieces."""
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if sql.startswith("--", i):
            j = sql.find("\n", i)
            j = n if j < 0 else j
            yield "comment", sql[i:j]
            i = j
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            j = n if j < 0 else j + 2
            yield "comment", sql[i:j]
            i = j
        elif ch in "'\"":
            j = i + 1
            while j < n:
                if sql[j] == ch and sql.startswith(ch * 2, j):
                    j += 2  # doubled quote = escaped quote
                elif sql[j] == ch:
                    j += 1
                    break
                else:
                    j += 1
            yield ("string" if ch == "'" else "ident"), sql[i:j]
            i = j
        else:
            j = i
            while j < n and sql[j] not in "'\"" and not sql.startswith(("--", "/*"), j):
                j += 1
            yield "code", sql[i:j]
            i = j


def strip_comments(sql: str) -> str:
    return "".join(" " if kind == "comment" else text for kind, text in _scan(sql)).strip()


def _check_text(sql: str) -> str:
    """Cheap checks on the text; returns the statement without comments and trailing ';'."""
    text = strip_comments(sql)
    text = re.sub(r"[;\s]+$", "", text)
    if not text:
        raise QueryRefused("Empty query: write one SELECT (or WITH … SELECT) statement.")
    code = "".join(t for k, t in _scan(text) if k == "code")
    if ";" in code:
        raise QueryRefused("Only one statement at a time is allowed.")
    if not _STARTS_OK.match(text):
        raise QueryRefused(
            "Only read queries are allowed: the query must start with SELECT or WITH."
        )
    # quoted identifiers count as names here ("read_csv"(…) is still read_csv)
    names = "".join(t.strip('"') if k == "ident" else t for k, t in _scan(text) if k != "string")
    if m := _DENIED_CALL_IN_TEXT.search(names):
        raise QueryRefused(f"Function {m.group(1)}() is not allowed in the SQL console.")
    if m := _DENIED_NAMES_IN_TEXT.search(names):
        raise QueryRefused(f"{m.group(1)} is not available here; see the schema browser.")
    return text


# --- parser level ---------------------------------------------------------------------------


def _walk(node: Any, ctes: frozenset[str]) -> Iterator[tuple[dict, frozenset[str]]]:
    """Every dict of the parse tree with the CTE names in scope at that point."""
    if isinstance(node, dict):
        cte_map = node.get("cte_map")
        if isinstance(cte_map, dict):
            ctes = ctes | {str(e.get("key", "")).lower() for e in cte_map.get("map", [])}
        yield node, ctes
        for value in node.values():
            yield from _walk(value, ctes)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item, ctes)


def _check_parse_tree(con: duckdb.DuckDBPyConnection, text: str, schema_name: str = "main") -> None:
    tree = json.loads(con.execute("SELECT json_serialize_sql($q)", {"q": text}).fetchone()[0])
    if tree.get("error"):
        msg = tree.get("error_message", "")
        if "Only SELECT" in msg:
            raise QueryRefused("Only read queries (SELECT) are allowed.")
        raise QueryFailed(msg)
    if len(tree.get("statements", [])) != 1:
        raise QueryRefused("Only one statement at a time is allowed.")
    for node, ctes in _walk(tree["statements"], frozenset()):
        kind = node.get("type")
        if kind == "BASE_TABLE":
            name = str(node.get("table_name", "")).lower()
            schema = str(node.get("schema_name", "")).lower()
            catalog = str(node.get("catalog_name", "")).lower()
            if not schema and not catalog and name in ctes:
                continue
            if (
                name not in ALLOWED_VIEWS
                or schema not in ("", schema_name)
                or catalog not in ("", WAREHOUSE_ALIAS)
            ):
                shown = ".".join(p for p in (catalog, schema, name) if p)
                where = "pseudonymised analyst views" if schema_name == "analyst" else "views"
                raise QueryRefused(
                    f"{shown} is not one of the {where} ({', '.join(sorted(ALLOWED_VIEWS))})."
                )
        elif kind == "TABLE_FUNCTION":
            fn = str((node.get("function") or {}).get("function_name", "")).lower()
            if fn not in ALLOWED_TABLE_FUNCTIONS:
                raise QueryRefused(f"Table function {fn}() is not allowed in the SQL console.")
        elif node.get("class") == "FUNCTION":
            fn = str(node.get("function_name", ""))
            if _DENIED_FUNCTION.fullmatch(fn):
                raise QueryRefused(f"Function {fn}() is not allowed in the SQL console.")


# --- binder level ---------------------------------------------------------------------------


def _check_bound_tables(
    con: duckdb.DuckDBPyConnection, text: str, schema_name: str = "main"
) -> None:
    # DuckDB reports the tables behind views, so allow the views and what they read (a
    # main view shows its mart_* tables; an analyst view also its pseudonym lookups, which
    # layer 2 refuses to let a query name).
    allowed = set(ALLOWED_VIEWS)
    for view in ALLOWED_VIEWS:
        allowed |= {t.split(".")[-1].lower() for t in con.get_table_names(f"SELECT * FROM {view}")}
    try:
        used = {t.split(".")[-1].lower().strip('"') for t in con.get_table_names(text)}
    except duckdb.BinderException:
        # get_table_names cannot bind some valid queries (a lateral unnest in FROM); the
        # parse-tree check has already vetted every relation, so this layer stands aside.
        return
    except duckdb.Error as exc:
        raise QueryFailed(_clean_error(exc)) from exc
    if extra := used - allowed:
        raise QueryRefused(f"Not an analyst view: {', '.join(sorted(extra))}.")


# --- running --------------------------------------------------------------------------------


def _clean_error(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _open(db_path: Path, schema_name: str = "main") -> duckdb.DuckDBPyConnection:
    if schema_name not in SCHEMAS:
        raise ValueError(f"schema must be one of {SCHEMAS}")
    if not Path(db_path).exists():
        raise QueryRefused(f"No warehouse at {db_path}: load data with `outcomes ingest` first.")
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"ATTACH {sql_literal(str(db_path))} AS {WAREHOUSE_ALIAS} (READ_ONLY)")
        if schema_name != "main":
            found = con.execute(
                "SELECT count(*) FROM duckdb_views() WHERE database_name = $db"
                " AND schema_name = $schema",
                {"db": WAREHOUSE_ALIAS, "schema": schema_name},
            ).fetchone()[0]
            if not found:
                raise QueryRefused(
                    f"The pseudonymised schema {schema_name!r} is missing from the warehouse: "
                    "it is rebuilt at every load (run `outcomes ingest`)."
                )
        con.execute(f"USE {WAREHOUSE_ALIAS}.{schema_name}")
        # Before any user text runs: no files, no extensions, and no way to undo this.
        con.execute("SET enable_external_access = false")
        con.execute("SET autoinstall_known_extensions = false")
        con.execute("SET autoload_known_extensions = false")
        con.execute("SET lock_configuration = true")
    except Exception:
        con.close()
        raise
    return con


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return out


def check_query(db_path: Path, sql: str, schema: str = "main") -> str:
    """Run every guard without executing the query; returns the normalised statement."""
    text = _check_text(sql)
    con = _open(db_path, schema)
    try:
        _check_parse_tree(con, text, schema)
        _check_bound_tables(con, text, schema)
    finally:
        con.close()
    return text


def run_query(
    db_path: Path | None, sql: str, settings: Settings | None = None, schema: str = "main"
) -> QueryResult:
    """Run one read-only query over the analyst views (schema "main") or the pseudonymised
    tables (schema "analyst"), within the time and row limits.

    Raises QueryRefused (or its subclasses QueryStopped/QueryFailed) with a message for
    the user."""
    settings = settings or get_settings()
    db_path = Path(db_path) if db_path is not None else settings.db_path
    text = _check_text(sql)
    con = _open(db_path, schema)
    timeout = float(settings.sql_timeout_s)
    cap = int(settings.sql_row_cap)
    timer = threading.Timer(timeout, con.interrupt)
    started = time.perf_counter()
    try:
        _check_parse_tree(con, text, schema)
        _check_bound_tables(con, text, schema)
        timer.start()
        try:
            cur = con.execute(text)
            columns = _unique([d[0] for d in cur.description or []])
            rows = cur.fetchmany(cap + 1)
        except duckdb.InterruptException as exc:
            raise QueryStopped(f"stopped after {timeout:g} s (sql_timeout_s)") from exc
        except duckdb.Error as exc:
            if not timer.is_alive() and time.perf_counter() - started >= timeout:
                raise QueryStopped(f"stopped after {timeout:g} s (sql_timeout_s)") from exc
            raise QueryFailed(_clean_error(exc)) from exc
    finally:
        timer.cancel()
        con.close()
    elapsed = time.perf_counter() - started
    truncated = len(rows) > cap
    rows = rows[:cap]
    frame = pd.DataFrame.from_records(rows, columns=columns) if columns else pd.DataFrame()
    if truncated:
        message = f"showing the first {cap} rows (sql_row_cap)"
    else:
        message = f"{len(rows)} row{'s' if len(rows) != 1 else ''} in {elapsed:.2f} s"
    return QueryResult(columns, frame, truncated, message, elapsed)


def format_result(result: QueryResult, max_rows: int = 200) -> str:
    """The result as a plain-text table for the terminal (`outcomes sql`)."""
    if not result.columns:
        return result.message
    shown = result.rows.head(max_rows)
    with pd.option_context("display.width", 200, "display.max_columns", None):
        table = shown.to_string(index=False, max_colwidth=40) if len(shown) else "(no rows)"
    more = f"\n… {len(result.rows) - max_rows} more rows" if len(result.rows) > max_rows else ""
    return f"{table}{more}\n{result.message}"


def to_records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-safe rows for a grid: lists/dicts/timestamps become text, NaN becomes None."""

    def cell(v: Any) -> Any:
        if v is None or (isinstance(v, float) and v != v):
            return None
        if isinstance(v, bool | int | float | str):
            return v
        if isinstance(v, list | tuple | dict):
            return json.dumps(v, default=str, ensure_ascii=False)
        if v is pd.NaT:
            return None
        return str(v)

    return [
        {c: cell(v) for c, v in zip(df.columns, row, strict=True)}
        for row in df.itertuples(index=False)
    ]
