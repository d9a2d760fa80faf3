"""The SQL console's guards: what a query may be and name, checked before it runs.

Layers 1–3 of dashboard/sql_console.py (text, parse tree, binder). They are extra layers:
what an analyst's query can reach is decided first by the file it runs on (the analysts'
copy holds only pseudonymised data).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import duckdb

from pipelines.warehouse.catalog import SPEC_VIEWS

ALLOWED_VIEWS: frozenset[str] = frozenset(SPEC_VIEWS)
"""The analysts' views (pipelines/warehouse/catalog.py): all a query may name."""
ALLOWED_TABLE_FUNCTIONS: frozenset[str] = frozenset({"unnest", "range", "generate_series"})
WAREHOUSE_ALIAS = "warehouse"
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


def check_text(sql: str) -> str:
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
        raise QueryRefused(f"{m.group(1)} is not available here; see the view browser.")
    return text


# --- parser level ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Surface:
    """What a console's queries may name: the views, written bare or behind `schema.`,
    in the database attached as `catalog`."""

    catalog: str
    schema: str
    label: str


OWNER_SURFACE = Surface(WAREHOUSE_ALIAS, "main", "views")
ANALYST_SURFACE = Surface("analyst", "analyst", "pseudonymised analyst views")
SURFACES: dict[str, Surface] = {"main": OWNER_SURFACE, "analyst": ANALYST_SURFACE}


def _not_a_view(shown: str, surface: Surface, why: str = "") -> QueryRefused:
    views = ", ".join(sorted(ALLOWED_VIEWS))
    return QueryRefused(f"{shown} is not one of the {surface.label} ({views}){why}.")


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


def other_relations(con: duckdb.DuckDBPyConnection, surface: Surface) -> frozenset[str]:
    """Names of every table and view in the queried database that is not a view a query
    may name (in any schema)."""
    rows = con.execute(
        "SELECT lower(table_name) FROM duckdb_tables() WHERE database_name = $db"
        " UNION SELECT lower(view_name) FROM duckdb_views() WHERE database_name = $db",
        {"db": surface.catalog},
    ).fetchall()
    return frozenset(r[0] for r in rows) - ALLOWED_VIEWS


def check_parse_tree(con: duckdb.DuckDBPyConnection, text: str, surface: Surface) -> None:
    tree = json.loads(con.execute("SELECT json_serialize_sql($q)", {"q": text}).fetchone()[0])
    if tree.get("error"):
        msg = tree.get("error_message", "")
        if "Only SELECT" in msg:
            raise QueryRefused("Only read queries (SELECT) are allowed.")
        raise QueryFailed(msg)
    if len(tree.get("statements", [])) != 1:
        raise QueryRefused("Only one statement at a time is allowed.")
    others = other_relations(con, surface)
    for node, ctes in _walk(tree["statements"], frozenset()):
        cte_map = node.get("cte_map")
        for entry in cte_map.get("map", []) if isinstance(cte_map, dict) else []:
            # Inside its own definition a CTE's name is the real table's: a WITH query
            # may not take the name of anything but a view.
            if (name := str(entry.get("key", "")).lower()) in others:
                raise _not_a_view(name, surface, ": a WITH query may not take its name")
        kind = node.get("type")
        if kind == "BASE_TABLE":
            name = str(node.get("table_name", "")).lower()
            schema = str(node.get("schema_name", "")).lower()
            catalog = str(node.get("catalog_name", "")).lower()
            if not schema and not catalog and name in ctes:
                continue
            if (
                name not in ALLOWED_VIEWS
                or schema not in ("", surface.schema)
                or catalog not in ("", surface.catalog)
            ):
                raise _not_a_view(".".join(p for p in (catalog, schema, name) if p), surface)
        elif kind == "TABLE_FUNCTION":
            fn = str((node.get("function") or {}).get("function_name", "")).lower()
            if fn not in ALLOWED_TABLE_FUNCTIONS:
                raise QueryRefused(f"Table function {fn}() is not allowed in the SQL console.")
        elif node.get("class") == "FUNCTION":
            fn = str(node.get("function_name", ""))
            if _DENIED_FUNCTION.fullmatch(fn):
                raise QueryRefused(f"Function {fn}() is not allowed in the SQL console.")


# --- binder level ---------------------------------------------------------------------------


def clean_error(exc: Exception) -> str:
    """The first line of a DuckDB error, for the user."""
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def check_bound_tables(con: duckdb.DuckDBPyConnection, text: str) -> None:
    # DuckDB reports the tables behind views, so allow the views and what they read (a
    # main view shows its mart_* tables; the analysts' copy holds tables only).
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
        raise QueryFailed(clean_error(exc)) from exc
    if extra := used - allowed:
        raise QueryRefused(f"Not an analyst view: {', '.join(sorted(extra))}.")
