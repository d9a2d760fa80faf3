"""The SQL console's view browser: the columns a query may name, with their meaning."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from dashboard.data.warehouse import Warehouse, frame, resolve
from pipelines.warehouse.catalog import SPEC_VIEWS

ANALYST_VIEWS: tuple[str, ...] = SPEC_VIEWS
"""The analysts' views, in the order of docs/sql.md (pipelines/warehouse/catalog.py)."""

_COLUMNS = """
SELECT table_name AS view, column_name AS "column", data_type AS type, comment
FROM duckdb_columns()
WHERE schema_name = 'main' AND table_name IN (SELECT unnest($views::VARCHAR[]))
ORDER BY array_position($views::VARCHAR[], table_name), column_index
"""


def _columns(warehouse: Warehouse) -> pd.DataFrame:
    return warehouse.read(lambda con: frame(con, _COLUMNS, {"views": list(ANALYST_VIEWS)}))


def view_columns(db: Path | None = None) -> pd.DataFrame:
    """Columns of the analyst views (§6, §7), with their documented meaning."""
    return _columns(resolve(db))


def analyst_copy_columns(db: Path | None = None) -> pd.DataFrame:
    """Columns of the analysts' copy (pseudonymised tables), with their meaning; read from
    the copy itself, beside the warehouse."""
    return _columns(resolve(db).analyst_copy())
