"""Read one delivery file into a frame of text values (I/O edge of the pipeline).

Every accepted format becomes the same shape: one column per header (names trimmed and
lower-cased), values as ``str`` or ``None`` (blank), and ``_row_number`` saying where a
person finds the row in the file (docs/architecture.md). Nothing is typed here, so ids
such as ``00731`` stay text. A file that cannot be read raises :class:`FileRejected`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipelines.schema import ENTITIES

ROW_NUMBER = "_row_number"
READ_ERROR = "_read_error"
"""Set on a row that could not be read (e.g. a JSONL line that is not an object)."""


class FileRejected(Exception):
    """The whole file is refused; the message says which file and why."""


@dataclass
class RawTable:
    frame: pd.DataFrame
    extra_columns: list[str] = field(default_factory=list)
    """Columns the file has that the entity does not know (ignored, reported)."""


def read_delivery_file(path: Path, entity: str, fmt: str) -> RawTable:
    """Read `path` as `fmt` and check its columns against `entity`'s contract."""
    readers = {"csv": _read_csv, "jsonl": _read_jsonl, "xlsx": _read_xlsx, "parquet": _read_parquet}
    try:
        frame = readers[fmt](path)
    except FileRejected:
        raise
    except Exception as exc:  # any parser failure is a clear per-file message, never a crash
        raise FileRejected(
            f"cannot read {path.name} as {fmt}: {type(exc).__name__}: {exc}"
        ) from exc
    return _check_columns(frame, entity, path.name)


def _normalise_header(name: object) -> str:
    return str(name).strip().lower()


def _reject_duplicate_headers(names: list[str], file_name: str) -> None:
    seen: set[str] = set()
    dupes = sorted({n for n in names if n in seen or seen.add(n)})
    if dupes:
        raise FileRejected(
            f"{file_name}: duplicate column name(s) {', '.join(dupes)} "
            "(names are compared trimmed and case-insensitively)"
        )


def _check_columns(frame: pd.DataFrame, entity: str, file_name: str) -> RawTable:
    columns = [c for c in frame.columns if c not in (ROW_NUMBER, READ_ERROR)]
    _reject_duplicate_headers(columns, file_name)
    contract = ENTITIES[entity]
    missing = [c for c in contract.required if c not in columns]
    if missing:
        raise FileRejected(
            f"{file_name}: missing required column(s) {', '.join(missing)} for {entity} "
            f"(found: {', '.join(columns) or 'no columns'})"
        )
    extra = [c for c in columns if c not in contract.column_names]
    for col in contract.column_names:  # absent optional columns read as blank
        if col not in frame.columns:
            frame[col] = None
    keep = [*contract.column_names, ROW_NUMBER] + ([READ_ERROR] if READ_ERROR in frame else [])
    return RawTable(frame[keep].reset_index(drop=True), extra_columns=extra)


def _blank_to_none(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns of str/None with surrounding spaces trimmed; '' becomes None."""
    out = pd.DataFrame(index=frame.index)
    for col in frame.columns:
        if col == ROW_NUMBER:
            out[col] = frame[col]
            continue
        s = frame[col].astype("string").str.strip()  # vectorised; missing is <NA>
        s = s.mask(s == "")
        out[col] = s.astype(object).where(s.notna(), None)
    return out


# --- CSV -------------------------------------------------------------------------------


def _decode(path: Path) -> str:
    data = path.read_bytes()
    if not data.strip():
        raise FileRejected(f"{path.name}: the file is empty")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRejected(
            f"{path.name}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "export it as UTF-8"
        ) from exc


def _read_csv(path: Path) -> pd.DataFrame:
    text = _decode(path)
    header = text.split("\n", 1)[0]
    if "\x00" in text[:4096]:
        raise FileRejected(f"{path.name}: binary content, not a CSV text file")
    delimiter = ";" if header.count(";") > header.count(",") else ","
    names = [_normalise_header(c) for c in next(csv.reader([header], delimiter=delimiter))]
    _reject_duplicate_headers(names, path.name)  # pandas would silently rename them
    frame = pd.read_csv(
        io.StringIO(text),
        sep=delimiter,
        header=0,
        names=names,
        dtype=str,
        keep_default_na=False,
        na_filter=False,
        quoting=csv.QUOTE_MINIMAL,
        skip_blank_lines=True,
        engine="c",
    )
    frame = _blank_to_none(frame)
    frame[ROW_NUMBER] = range(2, len(frame) + 2)  # header is line 1
    return frame


# --- JSONL -----------------------------------------------------------------------------


def _json_value_to_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
        return ";".join("" if v is None else str(v) for v in value)  # a JSON list is a list
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)  # nested: kept as text, fails its type
    return str(value)


def _read_jsonl(path: Path) -> pd.DataFrame:
    text = _decode(path)
    rows: list[dict[str, object]] = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:  # numbers stay text exactly as written
            obj = json.loads(line, parse_float=str, parse_int=str)
        except json.JSONDecodeError as exc:
            rows.append({ROW_NUMBER: line_no, READ_ERROR: f"line is not valid JSON: {exc.msg}"})
            continue
        if not isinstance(obj, dict):
            rows.append({ROW_NUMBER: line_no, READ_ERROR: "line is not a JSON object"})
            continue
        row: dict[str, object] = {}
        for key, value in obj.items():
            row[_normalise_header(key)] = _json_value_to_text(value)
        row[ROW_NUMBER] = line_no
        rows.append(row)
    if not rows:
        raise FileRejected(f"{path.name}: no JSON lines")
    keys = {k for r in rows for k in r} - {ROW_NUMBER, READ_ERROR}
    if not keys and all(READ_ERROR in r for r in rows):
        raise FileRejected(f"{path.name}: no line is a JSON object")
    frame = pd.DataFrame.from_records(rows)
    if READ_ERROR not in frame:
        frame[READ_ERROR] = None
    return _blank_to_none(frame)


# --- XLSX ------------------------------------------------------------------------------


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


def _read_xlsx(path: Path) -> pd.DataFrame:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise FileRejected(f"{path.name}: the first sheet is empty")
        names = [_normalise_header(h) if h is not None else "" for h in header]
        _reject_duplicate_headers([n for n in names if n], path.name)
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


# --- Parquet ---------------------------------------------------------------------------


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    _reject_duplicate_headers([_normalise_header(n) for n in table.column_names], path.name)
    columns: dict[str, pa.Array] = {}
    for name, col in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_list(col.type) or pa.types.is_large_list(col.type):
            col = pc.binary_join(pc.cast(col, pa.list_(pa.string())), ";")
        elif pa.types.is_boolean(col.type):
            col = pc.if_else(col, "true", "false")
        elif pa.types.is_timestamp(col.type):
            seconds = pc.cast(col, pa.timestamp("s", col.type.tz), safe=False)
            offset = "%z" if col.type.tz else ""
            col = pc.strftime(seconds, format=f"%Y-%m-%dT%H:%M:%S{offset}")
        elif pa.types.is_floating(col.type):
            # 168.0 -> "168", 59.5 -> "59.5": the text a person would have typed
            as_int = pc.cast(pc.cast(col, pa.int64(), safe=False), pa.string())
            is_int = pc.equal(pc.floor(col), col)
            col = pc.if_else(is_int, as_int, pc.cast(col, pa.string()))
        elif not pa.types.is_string(col.type):
            col = pc.cast(col, pa.string())
        columns[_normalise_header(name)] = col
    frame = pa.table(list(columns.values()), names=list(columns)).to_pandas()
    frame[ROW_NUMBER] = range(1, len(frame) + 1)
    return _blank_to_none(frame)
