"""XLSX files: the first sheet, read by openpyxl, as a frame of text values.

Bounded (docs/reliability.md, "XLSX bounds"): openpyxl fills every row out to the sheet's
declared width, so a 5 KB file with one formatted cell at XFD1048576 made a million rows
of 16,384 cells each and the read took minutes. A sheet whose declared range reaches
beyond ``xlsx_max_rows`` / ``xlsx_max_columns`` is rejected before a row is read; the rows
are then read without the declared range (only the cells present), and a row found beyond
the bounds (a declaration that lies) rejects the file too. Whatever is left is bounded in
time by the reader process's ``read_timeout_s`` (read_ahead.py).
"""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd

from pipelines.ingest.readers.text import (
    blank_to_none,
    normalise_header,
    reject_duplicate_headers,
)
from pipelines.ingest.rejection import FileRejected
from pipelines.schema import ROW_NUMBER
from pipelines.settings import get_settings


def _cell_to_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0) and value.tzinfo is None:
            return value.date().isoformat()  # a date cell
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _beyond(name: str, where: str, max_rows: int, max_columns: int) -> FileRejected:
    return FileRejected(
        f"{name}: its first sheet reaches {where}; at most {max_rows:,} rows and "
        f"{max_columns:,} columns are read (settings xlsx_max_rows, xlsx_max_columns). "
        "Delete the cells beyond the data (formatted empty ones too) and export it again"
    )


def read_xlsx(
    data: bytes | bytearray,
    name: str,
    entity: str,
    max_rows: int | None = None,
    max_columns: int | None = None,
) -> pd.DataFrame:
    from openpyxl import load_workbook  # imported when needed: it is slow to import

    if max_rows is None or max_columns is None:
        settings = get_settings()
        max_rows = max_rows or settings.xlsx_max_rows
        max_columns = max_columns or settings.xlsx_max_columns
    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        declared_rows, declared_columns = sheet.max_row or 0, sheet.max_column or 0
        if declared_rows > max_rows or declared_columns > max_columns:
            where = f"row {declared_rows:,} and column {declared_columns:,} (its used range)"
            raise _beyond(name, where, max_rows, max_columns)
        sheet.reset_dimensions()  # only the cells present: no row padded to the range
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise FileRejected(f"{name}: the first sheet is empty")
        if len(header) > max_columns:
            raise _beyond(name, f"column {len(header):,} in row 1", max_rows, max_columns)
        names = [normalise_header(h) if h is not None else "" for h in header]
        reject_duplicate_headers([n for n in names if n], name, entity)
        records = []
        for row_no, values in enumerate(rows, start=2):
            if row_no > max_rows:
                raise _beyond(name, f"row {row_no:,}", max_rows, max_columns)
            if len(values) > max_columns:
                where = f"column {len(values):,} in row {row_no:,}"
                raise _beyond(name, where, max_rows, max_columns)
            if not values or all(v is None or str(v).strip() == "" for v in values):
                continue
            rec = {n: _cell_to_text(v) for n, v in zip(names, values, strict=False) if n}
            rec[ROW_NUMBER] = row_no
            records.append(rec)
    finally:
        workbook.close()
    named = [n for n in names if n]
    frame = pd.DataFrame.from_records(records, columns=[*named, ROW_NUMBER])
    return blank_to_none(frame)
