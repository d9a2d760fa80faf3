"""The analysts' views of spec §6 over the marts and staging, with their comments.

Column lists and comments come from :mod:`pipelines.warehouse.catalog` (the single source
of the documentation); this module only says where each column comes from.
"""

from __future__ import annotations

import duckdb

from pipelines.warehouse.catalog import VIEWS

WAREHOUSE_VIEWS: tuple[str, ...] = (
    "clients",
    "therapists",
    "sessions",
    "scores",
    "courses",
    "course_progress",
    "cohort_outcomes",
    "alerts",
)
"""Views created here; `quarantine` and `load_log` are created by the loading layer."""

# view -> (FROM clause, expressions of columns that are not a plain column of it)
_SOURCES: dict[str, tuple[str, dict[str, str]]] = {
    "clients": ("mart_clients", {}),
    "therapists": ("stg_therapists", {}),
    "sessions": ("mart_sessions", {}),
    "scores": (
        "stg_scores sc LEFT JOIN mart_sessions s ON s.session_id = sc.session_id",
        {
            "session_id": "sc.session_id",
            "client_id": "coalesce(sc.client_id, s.client_id)",
            "timing": "sc.timing",
            "pain": "sc.pain",
            "muscle_tone": "sc.muscle_tone",
            "mobility": "sc.mobility",
            "recorded_at": "sc.recorded_at",
            "course_id": "s.course_id",
            "session_number": "s.session_number",
            "session_status": "s.status",
        },
    ),
    "courses": ("mart_courses", {}),
    "course_progress": ("mart_course_progress", {}),
    "cohort_outcomes": ("mart_cohort_outcomes", {}),
    "alerts": ("mart_alerts", {}),
}


def sql_literal(text: str) -> str:
    """`text` as an SQL string literal (quotes doubled), for the places DuckDB takes no
    parameter: comments, ATTACH paths."""
    return "'" + text.replace("'", "''") + "'"


def view_sql(view: str) -> str:
    """CREATE OR REPLACE VIEW statement of one of WAREHOUSE_VIEWS."""
    source, expressions = _SOURCES[view]
    select = ",\n    ".join(
        f"{expressions[c]} AS {c}" if c in expressions else c for c in VIEWS[view].column_names
    )
    return f"CREATE OR REPLACE VIEW {view} AS\nSELECT\n    {select}\nFROM {source}"


def comment_on(con: duckdb.DuckDBPyConnection, view_name: str, strict: bool = True) -> None:
    """COMMENT ON the view and each of its columns, from the catalog.

    For the loading layer's `quarantine` and `load_log` too: call it after (re)creating
    them (CREATE OR REPLACE drops comments). When strict, raises ValueError if the view
    lacks a documented column or has an undocumented one; otherwise comments what matches.
    """
    doc = VIEWS[view_name]
    actual = [
        r[0]
        for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = ? "
            "AND database_name = current_database() AND schema_name = current_schema() "
            "ORDER BY column_index",
            [view_name],
        ).fetchall()
    ]
    if strict and set(actual) != set(doc.column_names):
        missing = sorted(set(doc.column_names) - set(actual))
        extra = sorted(set(actual) - set(doc.column_names))
        raise ValueError(
            f"view {view_name} does not match its documentation "
            f"(missing: {missing}, undocumented: {extra}); update pipelines/warehouse/catalog.py"
        )
    statements = [
        f"COMMENT ON VIEW {view_name} IS {sql_literal(f'One row per {doc.grain}. {doc.doc}')}"
    ]
    statements += [
        f"COMMENT ON COLUMN {view_name}.{c.name} IS {sql_literal(c.doc)}"
        for c in doc.columns
        if c.name in actual
    ]
    con.execute(";\n".join(statements))


def create_analyst_views(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)create the spec §6 views over the marts, with comments; no transaction handling.

    Also (re)applies the comments of `quarantine` and `load_log` when they exist.
    """
    for view in WAREHOUSE_VIEWS:
        con.execute(view_sql(view))
        comment_on(con, view)
    existing = {
        r[0]
        for r in con.execute(
            "SELECT view_name FROM duckdb_views() "
            "WHERE database_name = current_database() AND schema_name = current_schema()"
        ).fetchall()
    }
    for view in ("quarantine", "load_log"):
        if view in existing:
            # lenient: a new column of the loading layer must not fail the rebuild (a test
            # keeps the catalog in step with pipelines/store/ddl.py)
            comment_on(con, view, strict=False)
