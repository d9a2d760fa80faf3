"""Ad-hoc read-only SQL for the /sql page and `outcomes sql`.

Where a query runs decides what it can reach:
- the analyst role (`surface="analyst"`, `outcomes sql --analyst`) queries the analysts'
  copy, a separate DuckDB file that holds only pseudonymised data
  (pipelines/warehouse/analyst_copy.py). The warehouse is never opened: no name a query can
  write reaches a real id, name, birth date or note, whatever the guards below decide;
- owners (`surface="main"`, `outcomes sql`) query the §6 views of the warehouse.

Layers of defence on top (each would stop most abuse on its own; together they are cheap):

1. text: one statement, starting with SELECT or WITH once comments are stripped, and no
   call of a file/system table function (regex deny-list on the text without literals);
2. parser: DuckDB's own parse tree (`json_serialize_sql`, which also refuses anything but
   SELECT) may only name the §6 views (or CTEs that do not take the name of anything
   else in the database) and a few harmless table functions;
3. binder: `get_table_names` must only find the views or the tables behind them;
4. engine: a private in-memory database ATTACHes the file READ_ONLY, then
   `enable_external_access=false`, a memory limit and `lock_configuration=true` are SET
   before the query, so no file, extension or setting can be reached even if 1–3 missed
   something. Being a separate in-memory instance, these settings never leak into the
   dashboard's own connections (DuckDB shares one instance per file path within a process).

Limits (settings): the query is interrupted after sql_timeout_s; DuckDB stops after
sql_row_cap + 1 rows; rows are fetched in chunks until sql_byte_cap bytes; DuckDB's own
operators stay within sql_memory_limit.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from dashboard.sql_guards import (
    SURFACES,
    QueryFailed,
    QueryRefused,
    QueryStopped,
    Surface,
    check_bound_tables,
    check_parse_tree,
    check_text,
    clean_error,
    other_relations,
    strip_comments,
)
from pipelines.settings import Settings, analyst_copy_path, get_settings
from pipelines.warehouse.views import sql_literal

__all__ = [
    "QueryFailed", "QueryRefused", "QueryResult", "QueryStopped", "check_query",
    "format_result", "queried_file", "run_query", "strip_comments", "to_records",
]  # fmt: skip


@dataclass
class QueryResult:
    columns: list[str]
    rows: pd.DataFrame
    truncated: bool
    message: str
    elapsed_s: float = 0.0


# --- running --------------------------------------------------------------------------------


def queried_file(db_path: Path, surface: str) -> Path:
    """The file a query on `surface` runs on: the warehouse for owners, its analysts' copy
    for analysts (or `db_path` itself when it is such a copy)."""
    if surface == "analyst" and not Path(db_path).name.endswith(".analyst.duckdb"):
        return analyst_copy_path(Path(db_path))
    return Path(db_path)


def _open(
    db_path: Path, surface_name: str, settings: Settings
) -> tuple[duckdb.DuckDBPyConnection, Surface]:
    if surface_name not in SURFACES:
        raise ValueError(f"surface must be one of {tuple(SURFACES)}")
    surface = SURFACES[surface_name]
    path = queried_file(db_path, surface_name)
    if not path.exists():
        if surface_name == "analyst" and Path(db_path).exists():
            raise QueryRefused(
                f"The pseudonymised schema 'analyst' is missing: its file {path.name} is "
                "written beside the warehouse at every load (run `outcomes ingest`)."
            )
        raise QueryRefused(f"No warehouse at {db_path}: load data with `outcomes ingest` first.")
    if not path.is_file():
        raise QueryRefused(f"{path} is not a warehouse file (it is a folder or a device).")
    con = duckdb.connect(":memory:")
    try:
        try:
            con.execute(f"ATTACH {sql_literal(str(path))} AS {surface.catalog} (READ_ONLY)")
        except duckdb.Error as exc:
            why = clean_error(exc)
            raise QueryRefused(f"cannot open {path} as a DuckDB warehouse: {why}") from exc
        if surface_name == "analyst" and other_relations(con, surface):
            # by construction: the analyst surface runs on a file of analyst tables only
            raise QueryRefused(f"{path.name} is not an analysts' copy: refusing to query it.")
        con.execute(f"USE {surface.catalog}.main")
        # Before any user text runs: no files, no extensions, and no way to undo this.
        con.execute("SET enable_external_access = false")
        con.execute("SET autoinstall_known_extensions = false")
        con.execute("SET autoload_known_extensions = false")
        con.execute(f"SET memory_limit = '{int(settings.sql_memory_limit_mb)}MB'")
        con.execute("SET lock_configuration = true")
    except Exception:
        con.close()
        raise
    return con, surface


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return out


def check_query(
    db_path: Path, sql: str, surface: str = "main", settings: Settings | None = None
) -> str:
    """Run every guard without executing the query; returns the normalised statement."""
    text = check_text(sql)
    con, allowed = _open(db_path, surface, settings or get_settings())
    try:
        check_parse_tree(con, text, allowed)
        check_bound_tables(con, text)
    finally:
        con.close()
    return text


_VARIABLE_WIDTH = ("VARCHAR", "BLOB", "BIT", "JSON", "STRUCT", "MAP", "UNION")
_BYTE_CAP_MARK = "outcomes: byte cap after row "


def _size(position: int, kind: str) -> str:
    """SQL for the bytes of column #position's value in an answer (8 for a fixed width)."""
    if kind == "VARCHAR":
        return f"coalesce(strlen(#{position}), 0)"
    if kind in ("BLOB", "BIT"):
        return f"coalesce(octet_length(#{position}), 0)"
    if kind.endswith("]") or kind.startswith(_VARIABLE_WIDTH):
        return f"coalesce(strlen(CAST(#{position} AS VARCHAR)), 0)"
    return "8"


def _capped(text: str, bound: duckdb.DuckDBPyRelation, rows: int, byte_cap: int | None) -> str:
    """`text` within the caps, inside DuckDB, so that no answer is built past them: a LIMIT
    of `rows`, and (with a byte cap) a running sum of the answer's bytes, a streaming
    window that stops the query with an error naming the row where the cap is crossed."""
    items = [
        f'#{i} AS "{name.replace(chr(34), chr(34) * 2)}"' for i, name in enumerate(bound.columns, 1)
    ]
    if byte_cap is not None:
        size = " + ".join(_size(i, str(t)) for i, t in enumerate(bound.types, 1)) or "0"
        mark = sql_literal(_BYTE_CAP_MARK)
        items.append(
            f"CASE WHEN sum({size}) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"
            f" > {int(byte_cap)} THEN error({mark} || (row_number() OVER () - 1)) END"
        )
    return f"SELECT {', '.join(items)} FROM ({text}) AS answer LIMIT {int(rows)}"


def _fetch(
    con: duckdb.DuckDBPyConnection, text: str, row_cap: int, byte_cap: int
) -> tuple[list[str], list[tuple], str]:
    """The answer's columns, its rows within the caps, and which cap cut it ('' when none
    did): when the byte cap stops the query, it runs again for the rows before it."""
    bound = con.sql(text)  # binds only: the columns and their types
    columns = _unique(list(bound.columns))
    try:
        rows = con.sql(_capped(text, bound, row_cap + 1, byte_cap)).fetchall()
    except duckdb.InvalidInputException as exc:
        if _BYTE_CAP_MARK not in str(exc):
            raise
        fitting = int(str(exc).split(_BYTE_CAP_MARK)[1].split()[0])
        return columns, con.sql(_capped(text, bound, fitting, None)).fetchall(), "sql_byte_cap"
    rows = [row[:-1] for row in rows]  # without the running sum's column
    if len(rows) > row_cap:
        return columns, rows[:row_cap], "sql_row_cap"
    return columns, rows, ""


def run_query(
    db_path: Path | None, sql: str, settings: Settings | None = None, surface: str = "main"
) -> QueryResult:
    """Run one read-only query over the §6 views (surface "main", the warehouse) or the
    pseudonymised tables (surface "analyst", the analysts' copy), within the limits.

    Raises QueryRefused (or its subclasses QueryStopped/QueryFailed) with a message for
    the user."""
    settings = settings or get_settings()
    db_path = Path(db_path) if db_path is not None else settings.db_path
    text = check_text(sql)
    con, allowed = _open(db_path, surface, settings)
    timeout = float(settings.sql_timeout_s)
    cap = int(settings.sql_row_cap)
    timer = threading.Timer(timeout, con.interrupt)
    started = time.perf_counter()
    try:
        check_parse_tree(con, text, allowed)
        check_bound_tables(con, text)
        timer.start()
        try:
            columns, rows, cut_by = _fetch(con, text, cap, int(settings.sql_byte_cap))
        except duckdb.InterruptException as exc:
            raise QueryStopped(f"stopped after {timeout:g} s (sql_timeout_s)") from exc
        except duckdb.Error as exc:
            if not timer.is_alive() and time.perf_counter() - started >= timeout:
                raise QueryStopped(f"stopped after {timeout:g} s (sql_timeout_s)") from exc
            raise QueryFailed(clean_error(exc)) from exc
    finally:
        timer.cancel()
        con.close()
    elapsed = time.perf_counter() - started
    frame = pd.DataFrame.from_records(rows, columns=columns) if columns else pd.DataFrame()
    if cut_by and not rows:
        message = f"the first row alone is larger than {cut_by} allows: select less of it"
    elif cut_by:
        message = f"showing the first {len(rows)} rows ({cut_by})"
    else:
        message = f"{len(rows)} row{'s' if len(rows) != 1 else ''} in {elapsed:.2f} s"
    return QueryResult(columns, frame, bool(cut_by), message, elapsed)


def format_result(result: QueryResult, max_rows: int = 200) -> str:
    """The result as a plain-text table for the terminal (`outcomes sql`)."""
    if not result.columns:
        return result.message
    shown = result.rows.head(max_rows)
    with pd.option_context("display.width", 200, "display.max_columns", None):
        table = shown.to_string(index=False, max_colwidth=40) if len(shown) else "(no rows)"
    more = f"\n… {len(result.rows) - max_rows} more rows" if len(result.rows) > max_rows else ""
    return f"{table}{more}\n{result.message}"


def to_records(rows: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-safe rows for a grid: lists/dicts/timestamps become text, NaN becomes None."""

    def cell(value: Any) -> Any:
        if value is None or (isinstance(value, float) and value != value):
            return None
        if isinstance(value, bool | int | float | str):
            return value
        if isinstance(value, list | tuple | dict):
            return json.dumps(value, default=str, ensure_ascii=False)
        if value is pd.NaT:
            return None
        return str(value)

    return [
        {column: cell(value) for column, value in zip(rows.columns, row, strict=True)}
        for row in rows.itertuples(index=False)
    ]
