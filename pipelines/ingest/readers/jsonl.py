"""JSONL files (one JSON object per line): the plain path, Python's decoder, and the fast
path, DuckDB's JSON functions in parallel C.

The plain path reads the common file column by column (every line a flat object whose
keys are distinct after trimming and case folding), and any other file row by row, saying
why each faulty row could not be read; both give the same frame for the files the first
accepts. Numbers stay text exactly as written.

DuckDB differs from Python's ``json`` in ways that are screened, line by line, with one
regular expression (:data:`NEEDS_PYTHON`):

- it prints a number from its parsed value (``4.50`` → ``4.5``, ``1e1`` → ``10.0``),
  where the frame keeps the text as written; only the plain form of
  :data:`NEEDS_PYTHON` is reproduced verbatim (tests/ingest/readers/test_jsonl.py);
- it accepts what Python refuses: trailing commas, ``NaN``/``inf`` in any case.

A screened line is decoded by Python and its values replace DuckDB's; nested values and
lists are screened too, and a line Python cannot decode sends the file to the plain path,
which explains each faulty row. DuckDB refuses some lines Python reads (lone surrogate
escapes, a BOM inside the file): any DuckDB error also sends the file there.
"""

from __future__ import annotations

import codecs
import json

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.ingest.readers.text import blank_to_none, decode_text, normalise_header, text_column
from pipelines.ingest.rejection import FileRejected
from pipelines.schema import ENTITIES, READ_ERROR, ROW_NUMBER, ColumnType


def read_jsonl(data: bytes | bytearray, name: str, entity: str) -> pd.DataFrame:
    """The fast path's frame, or the plain path's when the fast path steps aside."""
    frame = read_jsonl_duckdb(data, entity)
    return frame if frame is not None else read_jsonl_python(data, name, entity)


# --- the plain path: Python's decoder ----------------------------------------------------


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
    names = [normalise_header(k) for k, _ in pairs]
    obj.duplicates = tuple(sorted({n for n in names if n in seen or seen.add(n)}))
    return obj


def _plain_object(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """Object hook of the column-by-column reading: a plain dict, or a _JsonObject (which
    sends the file to the row-by-row reading) when a key repeats exactly."""
    obj = dict(pairs)
    return obj if len(obj) == len(pairs) else _json_object(pairs)


_COLUMN_DECODER = json.JSONDecoder(
    parse_float=str, parse_int=str, object_pairs_hook=_plain_object
)  # numbers stay text exactly as written


_CHUNK_LINES = 50_000
"""Lines decoded at a time column by column: decoded objects are large (about 1 KB per
row), so they are turned into Arrow text columns chunk by chunk rather than all held at
once."""


def read_jsonl_python(data: bytes | bytearray, name: str, entity: str) -> pd.DataFrame:
    """Python's decoder: column by column for the common file, else row by row, saying
    why each faulty row could not be read."""
    text = decode_text(data, name)
    lines = text.split("\n")  # only "\n" ends a line (see below)
    columns = _read_columns(lines, entity)
    if columns is not None:
        return columns
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
            name = normalise_header(key)
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
    return blank_to_none(frame)


def _read_columns(lines: list[str], entity: str) -> pd.DataFrame | None:
    """The common case column by column: every line a flat JSON object whose keys are
    distinct after trimming and case folding, values text, numbers, booleans, null, or
    (in a list column) flat lists. None when any line is not, and the file is then read
    row by row, which explains each faulty row."""
    numbers = [n for n, line in enumerate(lines, start=1) if line.strip()]
    if not numbers:
        return None
    types = {c.name: c.type for c in ENTITIES[entity].columns}
    key_of: dict[str, str] = {}  # column name -> the one key spelling that gives it
    parts: dict[str, list[tuple[int, pa.Array]]] = {}  # name -> (chunk start, raw text)
    for start in range(0, len(numbers), _CHUNK_LINES):
        chunk = _decode_chunk(lines, numbers[start : start + _CHUNK_LINES], types, key_of)
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
        columns[name] = text_column(pa.chunked_array(filled, pa.string()))
    columns[ROW_NUMBER] = pd.Series(numbers)
    columns[READ_ERROR] = pd.Series([None] * len(numbers), dtype=object)
    return pd.DataFrame(columns)


def _decode_chunk(
    lines: list[str], numbers: list[int], types: dict[str, str], key_of: dict[str, str]
) -> dict[str, pa.Array] | None:
    """Decode the lines at `numbers` (1-based) into one Arrow text array per column."""
    decode = _COLUMN_DECODER.decode
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
        name = normalise_header(key)
        if key_of.setdefault(name, key) != key or name in (ROW_NUMBER, READ_ERROR):
            return None  # keys equal after trimming and case folding: row by row
        values = [obj[key] for obj in objs] if one_shape else [obj.get(key) for obj in objs]
        kinds = set(map(type, values)) - {str, type(None)}
        if kinds:
            if kinds - {bool, list}:
                return None  # nested objects: a reason per row, read row by row
            if list in kinds and (
                types.get(name, "list") != "list"
                or any(isinstance(v, list) and _json_value_problem(name, v, "list") for v in values)
            ):
                return None
            values = [v if type(v) is str else _json_value_to_text(v) for v in values]
        out[name] = pa.array(values, type=pa.string())
    return out


# --- the fast path: DuckDB's JSON functions ---------------------------------------------

_WS = r"[ \t\r]*"
_VALUE = rf"\"{_WS}:{_WS}"  # where a member's value starts: after the key's quote
NEEDS_PYTHON = "|".join(
    [
        r"^[ \t\r]*[^{ \t\r]",  # not an object
        r",[ \t\r]*[}\]]",  # trailing comma: DuckDB reads it, Python does not
        rf"{_VALUE}[^\"tfn0-9 \t\r]",  # nested, a sign, NaN, Infinity …
        rf"{_VALUE}n[^u]",  # nan, NAN (null is the only JSON word with n)
        rf"{_VALUE}0[0-9]",  # leading zero
        rf"{_VALUE}[0-9.]{{16}}",  # 15 digits and more: beyond a double's exact digits
        rf"{_VALUE}[0-9]+\.[0-9]+0([^0-9]|$)",  # a fraction ending in 0 (other than .0)
        rf"{_VALUE}[0-9]+\.([^0-9]|$)",  # no digit after the point
        rf"{_VALUE}[0-9.]+[eE]",  # an exponent
        rf"{_VALUE}0\.0000",  # small: DuckDB writes 1e-7
    ]
)
"""A line matching this is decoded by Python. It may fire on look-alike text inside a
string (costing only speed); it must fire on every line where DuckDB's values or
acceptance differ from Python's. Values DuckDB keeps verbatim: strings, true, false,
null, and numbers ``0|[1-9][0-9]*`` with an optional fraction that is ``.0`` or ends in
1-9, at most 15 characters, not below 0.0001."""

_PYTHON_SHARE_MAX = 0.25
_PYTHON_LINES_FREE = 10_000
"""Above this share of screened lines (and this many) the whole file takes the plain
path: decoding most lines twice would be slower than the plain path alone."""

_BATCH_LINES = 100_000
"""Lines per Arrow batch handed to DuckDB, which scans batches in parallel."""

_ASCII_WS = b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"
"""The ASCII characters ``str.strip`` removes: a line of only these is blank."""


def read_jsonl_duckdb(data: bytes | bytearray, entity: str) -> pd.DataFrame | None:
    """The frame of :func:`read_jsonl_python` for a file's bytes, or None when DuckDB
    cannot reproduce it (the caller then takes the plain path)."""
    table = _line_table(data)
    if table is None:
        return None
    con = duckdb.connect()
    try:
        con.register("lines", table)
        return _read_duckdb(con, table, entity)
    # a line DuckDB refuses: Python says why (or reads it); DuckDB's message quotes the
    # line cut at a byte count, which may split a character and fail to decode
    except (duckdb.Error, UnicodeDecodeError):
        return None
    finally:
        con.close()


def _line_table(data: bytes) -> pa.Table | None:
    """The file's non-blank lines as Arrow text (no copy of the bytes) with their 1-based
    numbers; None when the file is blank or not UTF-8 (the plain path says so)."""
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    buf = np.frombuffer(data, dtype=np.uint8)
    # line i is bytes [starts[i], starts[i + 1]) with its "\n": JSON blank space
    starts = np.concatenate(([start], np.flatnonzero(buf == 0x0A) + 1, [len(data)]))
    if starts[-1] == starts[-2]:  # the file ends in "\n": no last line to read
        starts = starts[:-1]
    if len(starts) < 2:
        return None
    filled = _filled(data, buf, starts)
    if not filled.any():
        return None
    offsets = pa.py_buffer(starts.astype(np.int64))
    text = pa.LargeStringArray.from_buffers(len(starts) - 1, offsets, pa.py_buffer(data))
    try:
        text.validate(full=True)  # UTF-8
    except pa.ArrowInvalid:
        return None
    keep = np.flatnonzero(filled)
    lines = text if len(keep) == len(text) else text.take(pa.array(keep))
    table = pa.table({"n": pa.array(keep + 1), "line": lines})
    return pa.Table.from_batches(table.to_batches(max_chunksize=_BATCH_LINES))


def _filled(data: bytes, buf: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Which lines are not blank. Only a line starting with blank space can be blank, and
    those are few: they are checked one by one."""
    filled = ~np.isin(buf[starts[:-1]], np.frombuffer(_ASCII_WS, dtype=np.uint8))
    for i in np.flatnonzero(~filled):
        filled[i] = bool(data[starts[i] : starts[i + 1]].strip(_ASCII_WS))
    return filled


def _read_duckdb(
    con: duckdb.DuckDBPyConnection, table: pa.Table, entity: str
) -> pd.DataFrame | None:
    keys, screened = _keys_and_screened(con)
    too_many = max(_PYTHON_SHARE_MAX * table.num_rows, _PYTHON_LINES_FREE)
    if keys is None or len(screened) > too_many:
        return None
    columns = _values(con, keys, table)
    if len(screened):
        positions = np.searchsorted(table["n"].to_numpy(), screened)
        columns = _patch(columns, table, positions, entity)
        if columns is None:
            return None
    frame = {normalise_header(k): text_column(c) for k, c in columns.items()}
    frame[ROW_NUMBER] = pd.Series(table["n"].to_numpy())
    frame[READ_ERROR] = pd.Series([None] * table.num_rows, dtype=object)
    return pd.DataFrame(frame)


_SHAPES_SQL = """
SELECT
    json_keys(line) AS keys,
    min(n) AS first_line,
    list(n) FILTER (WHERE regexp_matches(line, '{pattern}')) AS screened
FROM lines
GROUP BY keys
ORDER BY first_line
"""


def _keys_and_screened(
    con: duckdb.DuckDBPyConnection,
) -> tuple[list[str] | None, np.ndarray]:
    """Every key in order of first appearance (None when a key repeats within a line or
    two keys give one column name), and the numbers of the lines Python must decode."""
    sql = _SHAPES_SQL.format(pattern=NEEDS_PYTHON.replace("'", "''"))
    shapes = con.execute(sql).fetchall()
    screened = np.sort(np.array([n for *_, ns in shapes for n in ns or ()], dtype=np.int64))
    if any(len(set(keys)) != len(keys) for keys, *_ in shapes):
        return None, screened
    keys = list(dict.fromkeys(k for shape, *_ in shapes for k in shape))
    names = [normalise_header(k) for k in keys]
    if len(set(names)) != len(names) or {ROW_NUMBER, READ_ERROR} & set(names):
        return None, screened
    return keys, screened


_VALUES_SQL = "SELECT n, json_transform(line, ?) AS v FROM lines"


def _values(
    con: duckdb.DuckDBPyConnection, keys: list[str], table: pa.Table
) -> dict[str, pa.Array]:
    """Each key's values as DuckDB writes them, in file order."""
    if not keys:
        return {}
    structure = json.dumps(dict.fromkeys(keys, "VARCHAR"))  # the key matches exactly
    result = con.execute(_VALUES_SQL, [structure]).to_arrow_table()
    numbers = result["n"].to_numpy()
    if len(numbers) != table.num_rows or (numbers[1:] < numbers[:-1]).any():
        result = result.sort_by("n")  # DuckDB keeps file order; not relied upon
    values = result["v"].combine_chunks()
    return {k: pc.struct_field(values, [i]).cast(pa.string()) for i, k in enumerate(keys)}


def _patch(
    columns: dict[str, pa.Array], table: pa.Table, positions: np.ndarray, entity: str
) -> dict[str, pa.Array] | None:
    """`columns` with the values of the lines at `positions` as ``_decode_chunk``
    decodes them; None when it refuses one of those lines (the file then takes the plain
    path, which says why)."""
    types = {c.name: c.type for c in ENTITIES[entity].columns}
    lines = table["line"].take(pa.array(positions)).to_pylist()
    decoded = _decode_chunk(lines, list(range(1, len(lines) + 1)), types, key_of={})
    names = {normalise_header(key) for key in columns}
    if decoded is None or not decoded.keys() <= names:  # DuckDB saw every key
        return None
    mask = np.zeros(table.num_rows, dtype=bool)
    mask[positions] = True
    missing = pa.nulls(len(lines), pa.string())  # a key absent from every screened line
    return {
        key: pc.replace_with_mask(
            column, pa.array(mask), decoded.get(normalise_header(key), missing)
        )
        for key, column in columns.items()
    }
