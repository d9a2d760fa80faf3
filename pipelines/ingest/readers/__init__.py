"""Read one delivery file into a frame of text values (I/O edge of the pipeline).

Every accepted format becomes the same shape: one column per header (names trimmed and
lower-cased), values as ``str`` or ``None`` (blank), and ``_row_number`` saying where a
person finds the row in the file (docs/architecture.md). Nothing is typed here, so ids
such as ``00731`` stay text. A file that cannot be read raises :class:`FileRejected`.

One module per format (csv.py, jsonl.py, xlsx.py, parquet.py); text.py holds what they
share. CSV and JSONL have two paths each: a plain path that reads any file and says why a
file or row cannot be read, and a fast path beside it for the common file. The fast path
returns exactly the plain path's frame (values, dtypes, column order, row numbers), or
steps aside (returns None) and the file takes the plain path; a file the plain path
refuses is never read by the fast path. Each format's module lists what makes its fast
path step aside, and its tests check the claim on hostile files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipelines.ingest import rejection
from pipelines.ingest.readers.csv import read_csv
from pipelines.ingest.readers.jsonl import read_jsonl
from pipelines.ingest.readers.parquet import read_parquet
from pipelines.ingest.readers.text import reject_duplicate_headers
from pipelines.ingest.readers.xlsx import read_xlsx
from pipelines.ingest.rejection import FileRejected, display_name
from pipelines.ingest.snapshot import read_checked
from pipelines.schema import ENTITIES, READ_ERROR, ROW_NUMBER

__all__ = ["TEXT_FORMATS", "FileRejected", "RawTable", "read_delivery_file"]

_READERS = {"csv": read_csv, "jsonl": read_jsonl, "xlsx": read_xlsx, "parquet": read_parquet}
"""Format -> its reader: (bytes, file name, entity) -> frame of text values."""


@dataclass
class RawTable:
    frame: pd.DataFrame
    extra_columns: list[str] = field(default_factory=list)
    """Columns the file has that the entity does not know (ignored, reported)."""


TEXT_FORMATS = frozenset({"csv", "jsonl"})
"""Formats whose lines are checked as the file is read (snapshot.py)."""


def read_delivery_file(
    path: Path,
    entity: str,
    fmt: str,
    max_line_bytes: int | None = None,
    data: bytes | bytearray | None = None,
) -> RawTable:
    """Read `path` as `fmt` and check its columns against `entity`'s contract.

    `data` is the file's bytes as the load read and hashed them (snapshot.py); without it
    the file is read here the same way. `max_line_bytes` (default: the ``max_line_bytes``
    setting) bounds a CSV/JSONL line; a longer one rejects the file before it is parsed.
    """
    name = display_name(path.name)
    try:
        if data is None:
            data = read_checked(path, max_line_bytes if fmt in TEXT_FORMATS else 0)
        if len(data) == 0:
            raise FileRejected(f"{name}: the file is empty (0 bytes)")
        frame = _READERS[fmt](data, name, entity)
    except FileRejected:
        raise
    except Exception as exc:  # any parser failure is a clear per-file message, never a crash
        raise FileRejected(rejection.unreadable(name, fmt, exc)) from exc
    return _check_columns(frame, entity, name)


def _check_columns(frame: pd.DataFrame, entity: str, file_name: str) -> RawTable:
    columns = [c for c in frame.columns if c not in (ROW_NUMBER, READ_ERROR)]
    reject_duplicate_headers(columns, file_name, entity)
    contract = ENTITIES[entity]
    missing = [c for c in contract.required if c not in columns]
    if missing:
        raise FileRejected(rejection.missing_columns(file_name, entity, columns, missing))
    extra = [c for c in columns if c not in contract.column_names]
    for col in contract.column_names:  # absent optional columns read as blank
        if col not in frame.columns:
            frame[col] = None
    keep = [*contract.column_names, ROW_NUMBER] + ([READ_ERROR] if READ_ERROR in frame else [])
    return RawTable(frame[keep].reset_index(drop=True), extra_columns=extra)
