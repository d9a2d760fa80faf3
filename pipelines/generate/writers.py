"""Streaming writers: one table of one entity in one format, split into parts when large.

Each `write` returns where the row landed (file name and row number, in the convention
of docs/architecture.md: CSV and XLSX count the header as row 1, JSONL lines and
Parquet records count from 1), so the fault manifest can point at it.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_ROWS_PER_FILE = {"csv": 500_000, "jsonl": 500_000, "parquet": 500_000, "xlsx": 200_000}
"""Exports split into parts beyond this (XLSX sheets hold at most 1,048,576 rows)."""
PARQUET_BATCH_ROWS = 50_000
EXTENSIONS = {"csv": ".csv", "jsonl": ".jsonl", "xlsx": ".xlsx", "parquet": ".parquet"}


@dataclass(frozen=True)
class FileStyle:
    """How one file of an export looks: the variety real clinic exports show."""

    fmt: str
    delimiter: str = ","
    bom: bool = False
    decimal_comma: bool = False
    booleans: tuple[str, str] = ("yes", "no")
    header_case: str = "lower"  # lower | title (matched case-insensitively by the loader)
    extra_columns: dict[str, str] = field(default_factory=dict)


def _text(value: Any, style: FileStyle) -> str:
    """A value as text for CSV and Parquet (all-text columns, like many export tools)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return style.booleans[0] if value else style.booleans[1]
    if isinstance(value, float):
        text = f"{value:g}" if value.is_integer() else repr(value)
        return text.replace(".", ",") if style.decimal_comma else text
    return str(value)


def _header(columns: list[str], style: FileStyle) -> list[str]:
    names = [c.title() if style.header_case == "title" else c for c in columns]
    return names + list(style.extra_columns)


class _Part:
    """One open output file."""

    def __init__(self, path: Path, columns: list[str], style: FileStyle) -> None:
        self.path, self.columns, self.style, self.rows = path, columns, style, 0
        header = _header(columns, style)
        self._extra = list(style.extra_columns.values())
        if style.fmt == "csv":
            self._fh = path.open("w", encoding="utf-8-sig" if style.bom else "utf-8", newline="")
            self._csv = csv.writer(self._fh, delimiter=style.delimiter, lineterminator="\n")
            self._csv.writerow(header)
        elif style.fmt == "jsonl":
            self._fh = path.open("w", encoding="utf-8")
        elif style.fmt == "xlsx":
            from openpyxl import Workbook

            self._wb = Workbook(write_only=True)
            self._ws = self._wb.create_sheet("export")
            self._ws.append(header)
        elif style.fmt == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            self._schema = pa.schema([(name, pa.string()) for name in header])
            self._pq = pq.ParquetWriter(path, self._schema)
            self._batch: list[list[str | None]] = [[] for _ in header]
        else:
            raise ValueError(f"unknown format {style.fmt!r}")

    def write(self, record: dict[str, Any]) -> int:
        self.rows += 1
        values = [record.get(c) for c in self.columns]
        fmt = self.style.fmt
        if fmt == "csv":
            self._csv.writerow([_text(v, self.style) for v in values] + self._extra)
            return self.rows + 1
        if fmt == "jsonl":
            obj = dict(zip(_header(self.columns, self.style), values + self._extra, strict=True))
            self._fh.write(json.dumps(obj, ensure_ascii=False) + "\n")
            return self.rows
        if fmt == "xlsx":
            self._ws.append(values + self._extra)
            return self.rows + 1
        for column, value in zip(self._batch, values + self._extra, strict=True):
            column.append(None if value is None else _text(value, self.style))
        if len(self._batch[0]) >= PARQUET_BATCH_ROWS:
            self._flush_parquet()
        return self.rows

    def _flush_parquet(self) -> None:
        import pyarrow as pa

        if self._batch[0]:
            self._pq.write_table(pa.table(self._batch, schema=self._schema))
            self._batch = [[] for _ in self._batch]

    def close(self) -> None:
        if self.style.fmt in ("csv", "jsonl"):
            self._fh.close()
        elif self.style.fmt == "xlsx":
            self._wb.save(self.path)
        else:
            self._flush_parquet()
            self._pq.close()


class TableWriter:
    """Rows of one entity into `<stem>.<ext>`, then `<stem>_part2.<ext>`, … when large."""

    def __init__(self, folder: Path, stem: str, columns: list[str], style: FileStyle) -> None:
        self.folder, self.stem, self.columns, self.style = folder, stem, columns, style
        self.max_rows = MAX_ROWS_PER_FILE[style.fmt]
        self.files: list[Path] = []
        self.rows = 0
        self._part: _Part | None = None

    def write(self, record: dict[str, Any]) -> tuple[str, int]:
        """Write one row; returns (file name, row number) where it landed."""
        if self._part is None or self._part.rows >= self.max_rows:
            self._open_next()
        assert self._part is not None
        self.rows += 1
        return self._part.path.name, self._part.write(record)

    def _open_next(self) -> None:
        if self._part is not None:
            self._part.close()
        suffix = "" if not self.files else f"_part{len(self.files) + 1}"
        path = self.folder / f"{self.stem}{suffix}{EXTENSIONS[self.style.fmt]}"
        self.files.append(path)
        self._part = _Part(path, self.columns, self.style)

    def close(self) -> list[Path]:
        if self._part is not None:  # nothing written, no file: exports omit empty tables
            self._part.close()
        return self.files
