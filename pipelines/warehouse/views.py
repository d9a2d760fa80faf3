"""The analysts' views of spec §6 over the marts and staging, with their comments.

Each view is a model: ``models/<view>.sql`` says where each column comes from, and its
contract ``models/<view>.yml`` (read through :mod:`pipelines.warehouse.catalog`) documents
every column; :func:`comment_on` refuses a view whose columns differ from its contract.
"""

from __future__ import annotations

import duckdb

from pipelines.store.ddl import BOOKKEEPING_VIEWS
from pipelines.warehouse.catalog import SPEC_VIEWS, VIEWS
from pipelines.warehouse.derive import model_sql
from pipelines.warehouse.render import comment_statements
from pipelines.warehouse.render import sql_literal as sql_literal  # where the dashboard finds it

WAREHOUSE_VIEWS: tuple[str, ...] = tuple(v for v in SPEC_VIEWS if v not in BOOKKEEPING_VIEWS)
"""Views created here; `quarantine` and `load_log` are created by the loading layer."""


def view_sql(view: str) -> str:
    """CREATE OR REPLACE VIEW statement of one of WAREHOUSE_VIEWS (its models/<view>.sql)."""
    return f"CREATE OR REPLACE VIEW {view} AS\n{model_sql(view)}"


def comment_on(con: duckdb.DuckDBPyConnection, view_name: str, strict: bool = True) -> None:
    """COMMENT ON the view and each of its columns, from its contract (the YAML).

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
            f"(missing: {missing}, undocumented: {extra}); update {doc.contract_path}"
        )
    con.execute(";\n".join(comment_statements(view_name, doc, actual)))


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
    for view in BOOKKEEPING_VIEWS:
        if view in existing:
            # lenient: a new column of the loading layer must not fail the rebuild (a test
            # keeps the contracts in step with pipelines/store/models/)
            comment_on(con, view, strict=False)
