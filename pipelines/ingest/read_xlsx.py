"""Read the first sheet of an XLSX delivery file into a frame of text values."""

from __future__ import annotations

import datetime as dt
import io

import pandas as pd

from pipelines.ingest.readers import (
    ROW_NUMBER,
    _blank_to_none,
    _normalise_header,
    _reject_duplicate_headers,
)
from pipelines.ingest.rejection import FileRejected


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


def read_xlsx(data: bytes | bytearray, name: str, entity: str) -> pd.DataFrame:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise FileRejected(f"{name}: the first sheet is empty")
        names = [_normalise_header(h) if h is not None else "" for h in header]
        _reject_duplicate_headers([n for n in names if n], name, entity)
        records = []
        for row_no, values in enumerate(rows, start=2):
            if values is None or all(v is None or str(v).strip() == "" for v in values):
                continue
            rec = {n: _cell_to_text(v) for n, v in zip(names, values, strict=False) if n}
            rec[ROW_NUMBER] = row_no
            records.append(rec)
    finally:
        workbook.close()
    named = [n for n in names if n]
    frame = pd.DataFrame.from_records(records, columns=[*named, ROW_NUMBER])
    return _blank_to_none(frame)
