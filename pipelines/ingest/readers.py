"""Read one delivery file into a frame of text values (I/O edge of the pipeline).

Every accepted format becomes the same shape: one column per header (names trimmed and
lower-cased), values as ``str`` or ``None`` (blank), and ``_row_number`` saying where a
person finds the row in the file (docs/architecture.md). Nothing is typed here, so ids
such as ``00731`` stay text. A file that cannot be read raises :class:`FileRejected`.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.ingest import rejection
from pipelines.ingest.rejection import FileRejected, display_name
from pipelines.schema import ENTITIES, READ_ERROR, ROW_NUMBER, ColumnType


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
    from pipelines.ingest.read_parquet import read_parquet
    from pipelines.ingest.read_xlsx import read_xlsx
    from pipelines.ingest.snapshot import read_checked

    readers = {"csv": _read_csv, "jsonl": _read_jsonl, "xlsx": read_xlsx, "parquet": read_parquet}
    name = display_name(path.name)
    try:
        if data is None:
            data = read_checked(path, max_line_bytes if fmt in TEXT_FORMATS else 0)
        if len(data) == 0:
            raise FileRejected(f"{name}: the file is empty (0 bytes)")
        frame = readers[fmt](data, name, entity)
    except FileRejected:
        raise
    except Exception as exc:  # any parser failure is a clear per-file message, never a crash
        raise FileRejected(rejection.unreadable(name, fmt, exc)) from exc
    return _check_columns(frame, entity, name)


def _normalise_header(name: object) -> str:
    return str(name).strip().lower()


def _reject_duplicate_headers(names: list[str], file_name: str, entity: str) -> None:
    seen: set[str] = set()
    dupes = sorted({n for n in names if n in seen or seen.add(n)})
    if dupes:
        raise FileRejected(rejection.duplicate_columns(file_name, entity, dupes))


def _check_columns(frame: pd.DataFrame, entity: str, file_name: str) -> RawTable:
    columns = [c for c in frame.columns if c not in (ROW_NUMBER, READ_ERROR)]
    _reject_duplicate_headers(columns, file_name, entity)
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


def _blank_to_none(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns of str/None with surrounding spaces trimmed; '' becomes None."""
    out = {}
    for col in frame.columns:
        out[col] = frame[col] if col == ROW_NUMBER else _text_column(frame[col])
    return pd.DataFrame(out, index=frame.index)


def arrow_text(values: pd.Series) -> pa.Array | None:
    """The values (str, None or NaN) as an Arrow string array; None when one is not text."""
    try:
        return pa.array(values.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        return None


def _text_column(values: pd.Series | pa.ChunkedArray) -> pd.Series:
    """Text values (str, None or NaN) trimmed, blank as None, in an object Series.

    Arrow's utf8_trim_whitespace is what pandas' arrow-backed ``str.strip`` runs; calling it
    directly skips pandas' conversions. Values that are not text take pandas' path.
    """
    index = values.index if isinstance(values, pd.Series) else None
    arr = arrow_text(values) if index is not None else values
    if arr is None:
        s = pd.Series(values, index=index, dtype=object).astype("string").str.strip()
        s = s.mask(s == "")
        return s.astype(object).where(s.notna(), None)
    trimmed = pc.utf8_trim_whitespace(arr)
    cleaned = pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)
    return pd.Series(cleaned.to_numpy(zero_copy_only=False), index=index, dtype=object)


# --- text files (CSV, JSONL) -------------------------------------------------------------


def _decode(data: bytes | bytearray, name: str) -> str:
    if not data.strip():
        raise FileRejected(f"{name}: the file is empty (only blank space)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise FileRejected(
            f"{name}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}, "
            f"line {line}); export it as UTF-8"
        ) from exc


# --- CSV -------------------------------------------------------------------------------


def _csv_header(header: str) -> tuple[str, list[str]]:
    """The delimiter the header line uses most, and its fields as written."""
    delimiter = ";" if header.count(";") > header.count(",") else ","
    return delimiter, next(csv.reader([header], delimiter=delimiter))


def _read_csv(data: bytes | bytearray, name: str, entity: str) -> pd.DataFrame:
    """The common file through Arrow's CSV reader (several times faster); any file it
    cannot read exactly as pandas does takes the pandas path."""
    from pipelines.ingest.csv_fast import read_csv_fast  # it imports this module

    frame = read_csv_fast(data)
    return frame if frame is not None else _read_csv_python(data, name, entity)


def _read_csv_python(data: bytes | bytearray, name: str, entity: str) -> pd.DataFrame:
    """pandas' C parser: any file, with row numbers that follow quoted line breaks and
    skipped blank lines; it says why a file cannot be read."""
    text = _decode(data, name)
    delimiter, fields = _csv_header(text.split("\n", 1)[0])
    names = [_normalise_header(c) for c in fields]
    _reject_duplicate_headers(names, name, entity)  # pandas would silently rename them
    frame = pd.read_csv(
        io.StringIO(text),
        sep=delimiter,
        header=0,
        names=names,
        dtype=object,  # Python str values (pandas' arrow-backed str dtype costs 2× here)
        keep_default_na=False,
        na_filter=False,
        quoting=csv.QUOTE_MINIMAL,
        skip_blank_lines=True,
        engine="c",
    )
    frame = _blank_to_none(frame)
    frame[ROW_NUMBER] = _csv_line_numbers(text, delimiter, len(frame))
    return frame


def _csv_line_numbers(text: str, delimiter: str, n_rows: int) -> list[int] | range:
    """The line on which each record starts (header = line 1), as an editor counts lines.

    One line per record is the common case and needs no second pass; a value spanning
    lines (quoted line breaks in notes) or skipped blank lines shift later rows.
    """
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    if lines == n_rows + 1:
        return range(2, n_rows + 2)
    starts: list[int] = []
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    previous = 0
    try:
        for record in reader:
            if record:  # an empty line gives [] and is skipped, as by pandas
                starts.append(previous + 1)
            previous = reader.line_num
    except csv.Error:  # pandas read it; fall back to record numbers rather than fail
        return range(2, n_rows + 2)
    starts = starts[1:]  # the header
    return starts if len(starts) == n_rows else range(2, n_rows + 2)


# --- JSONL -----------------------------------------------------------------------------


def _json_value_to_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
        return ";".join("" if v is None else str(v) for v in value)  # a JSON list is a list
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)  # nested: kept as text for the quarantine
    return str(value)


def _json_value_problem(name: str, value: object, column_type: ColumnType) -> str | None:
    """Why a JSON value cannot stand for one cell of `column_type`, else None."""
    if isinstance(value, dict):
        what = "a list of single values" if column_type == "list" else "a single value"
        return f"{name}: a JSON object where {what} is expected"
    if isinstance(value, list):
        if column_type != "list":
            return f"{name}: a JSON list where a single value is expected"
        if any(isinstance(v, dict | list) for v in value):
            return f"{name}: a JSON list with nested values where single values are expected"
    return None


class _JsonObject(dict):
    """A decoded JSON object that remembers keys equal after trimming and case folding."""

    duplicates: tuple[str, ...] = ()


def _json_object(pairs: list[tuple[str, object]]) -> _JsonObject:
    obj = _JsonObject(pairs)
    seen: set[str] = set()
    names = [_normalise_header(k) for k, _ in pairs]
    obj.duplicates = tuple(sorted({n for n in names if n in seen or seen.add(n)}))
    return obj


def _plain_object(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """Object hook of the fast path: a plain dict, or a _JsonObject (which sends the file
    to the careful path) when a key repeats exactly."""
    obj = dict(pairs)
    return obj if len(obj) == len(pairs) else _json_object(pairs)


_FAST_DECODER = json.JSONDecoder(
    parse_float=str, parse_int=str, object_pairs_hook=_plain_object
)  # numbers stay text exactly as written


_FAST_CHUNK_LINES = 50_000
"""Lines decoded at a time by the fast path: decoded objects are large (about 1 KB per row),
so they are turned into Arrow text columns chunk by chunk rather than all held at once."""


def _read_jsonl_fast(lines: list[str], entity: str) -> pd.DataFrame | None:
    """The common case column by column: every line a flat JSON object whose keys are
    distinct after trimming and case folding, values text, numbers, booleans, null, or
    (in a list column) flat lists. None when any line is not, and the file then takes
    the row-by-row path of :func:`_read_jsonl`, which explains each faulty row. Both
    paths give the same frame for the files this one accepts."""
    numbers = [n for n, line in enumerate(lines, start=1) if line.strip()]
    if not numbers:
        return None
    types = {c.name: c.type for c in ENTITIES[entity].columns}
    key_of: dict[str, str] = {}  # column name -> the one key spelling that gives it
    parts: dict[str, list[tuple[int, pa.Array]]] = {}  # name -> (chunk start, raw text)
    for start in range(0, len(numbers), _FAST_CHUNK_LINES):
        chunk = _fast_chunk(lines, numbers[start : start + _FAST_CHUNK_LINES], types, key_of)
        if chunk is None:
            return None
        for name, arr in chunk.items():
            parts.setdefault(name, []).append((start, arr))
    columns: dict[str, pd.Series] = {}
    for name, arrays in parts.items():  # in order of first appearance, as pandas orders keys
        filled, at = [], 0
        for start, arr in arrays:  # a column missing from a chunk is blank there
            filled += [pa.nulls(start - at, pa.string()), arr]
            at = start + len(arr)
        filled.append(pa.nulls(len(numbers) - at, pa.string()))
        columns[name] = _text_column(pa.chunked_array(filled, pa.string()))
    columns[ROW_NUMBER] = pd.Series(numbers)
    columns[READ_ERROR] = pd.Series([None] * len(numbers), dtype=object)
    return pd.DataFrame(columns)


def _fast_chunk(
    lines: list[str], numbers: list[int], types: dict[str, str], key_of: dict[str, str]
) -> dict[str, pa.Array] | None:
    """Decode the lines at `numbers` (1-based) into one Arrow text array per column."""
    decode = _FAST_DECODER.decode
    try:
        objs = [decode(lines[n - 1]) for n in numbers]
    except (json.JSONDecodeError, RecursionError):
        return None
    if set(map(type, objs)) != {dict}:  # not objects, or a repeated key (_JsonObject)
        return None
    shapes = dict.fromkeys(map(tuple, objs))  # key lists, in order of first appearance
    one_shape = len(shapes) == 1
    out: dict[str, pa.Array] = {}
    for key in dict.fromkeys(k for shape in shapes for k in shape):
        name = _normalise_header(key)
        if key_of.setdefault(name, key) != key or name in (ROW_NUMBER, READ_ERROR):
            return None  # keys equal after trimming and case folding: the careful path
        values = [o[key] for o in objs] if one_shape else [o.get(key) for o in objs]
        kinds = set(map(type, values)) - {str, type(None)}
        if kinds:
            if kinds - {bool, list}:
                return None  # nested objects: a reason per row, from the careful path
            if list in kinds and (
                types.get(name, "list") != "list"
                or any(isinstance(v, list) and _json_value_problem(name, v, "list") for v in values)
            ):
                return None
            values = [v if type(v) is str else _json_value_to_text(v) for v in values]
        out[name] = pa.array(values, type=pa.string())
    return out


def _read_jsonl(data: bytes | bytearray, name: str, entity: str) -> pd.DataFrame:
    """The common file through DuckDB's JSON reader (about ten times faster); any file
    it cannot read exactly as Python does takes the Python paths."""
    from pipelines.ingest.jsonl_duckdb import read_jsonl_duckdb  # it imports this module

    frame = read_jsonl_duckdb(data, entity)
    return frame if frame is not None else _read_jsonl_python(data, name, entity)


def _read_jsonl_python(data: bytes | bytearray, name: str, entity: str) -> pd.DataFrame:
    """Python's decoder: column by column for the common file, else row by row, saying
    why each faulty row could not be read."""
    text = _decode(data, name)
    lines = text.split("\n")  # only "\n" ends a line (see below)
    fast = _read_jsonl_fast(lines, entity)
    if fast is not None:
        return fast
    types = {c.name: c.type for c in ENTITIES[entity].columns}
    rows: list[dict[str, object]] = []
    # only "\n" ends a line: str.splitlines() would also split at U+2028, form feeds …
    # which JSON allows unescaped inside strings
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:  # numbers stay text exactly as written
            obj = json.loads(line, parse_float=str, parse_int=str, object_pairs_hook=_json_object)
        except json.JSONDecodeError as exc:
            rows.append({ROW_NUMBER: line_no, READ_ERROR: f"line is not valid JSON: {exc.msg}"})
            continue
        except RecursionError:
            rows.append({ROW_NUMBER: line_no, READ_ERROR: "line is nested too deeply to read"})
            continue
        if not isinstance(obj, dict):
            rows.append({ROW_NUMBER: line_no, READ_ERROR: "line is not a JSON object"})
            continue
        row: dict[str, object] = {}
        problems: list[str] = []
        if obj.duplicates:
            problems.append(
                f"duplicate key(s) {', '.join(obj.duplicates)} "
                "(keys are compared trimmed and case-insensitively)"
            )
        for key, value in obj.items():
            name = _normalise_header(key)
            row[name] = _json_value_to_text(value)
            if name in types and (problem := _json_value_problem(name, value, types[name])):
                problems.append(problem)
        row[ROW_NUMBER] = line_no
        if problems:
            row[READ_ERROR] = "; ".join(problems)
        rows.append(row)
    if not rows:
        raise FileRejected(f"{name}: no JSON lines")
    keys = {k for r in rows for k in r} - {ROW_NUMBER, READ_ERROR}
    if not keys and all(READ_ERROR in r for r in rows):
        raise FileRejected(f"{name}: no line is a JSON object")
    frame = pd.DataFrame.from_records(rows)
    if READ_ERROR not in frame:
        frame[READ_ERROR] = None
    return _blank_to_none(frame)
