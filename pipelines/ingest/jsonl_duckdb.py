"""The common JSONL file read by DuckDB's JSON functions: parallel C instead of Python's
decoder, several times faster on a large file.

It gives exactly the frame of ``readers._read_jsonl_fast`` or returns None, and the file
then takes the Python paths. DuckDB differs from Python's ``json`` in ways that are
screened here, line by line, with one regular expression (:data:`NEEDS_PYTHON`):

- it prints a number from its parsed value (``4.50`` → ``4.5``, ``1e1`` → ``10.0``),
  where the frame keeps the text as written; only the plain form of
  :data:`NEEDS_PYTHON` is reproduced verbatim (tests/ingest/test_jsonl_duckdb.py);
- it accepts what Python refuses: trailing commas, ``NaN``/``inf`` in any case.

A screened line is decoded by Python and its values replace DuckDB's; nested values and
lists are screened too, and a line Python cannot decode sends the file to the Python
paths, which explain each faulty row. DuckDB refuses some lines Python reads (lone
surrogate escapes, a BOM inside the file): any DuckDB error also sends the file there.
"""

from __future__ import annotations

import codecs
import json

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.ingest import readers
from pipelines.schema import ENTITIES, READ_ERROR, ROW_NUMBER

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
"""Above this share of screened lines (and this many) the whole file takes the Python
paths: decoding most lines twice would be slower than the Python paths alone."""

_BATCH_LINES = 100_000
"""Lines per Arrow batch handed to DuckDB, which scans batches in parallel."""

_ASCII_WS = b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"
"""The ASCII characters ``str.strip`` removes: a line of only these is blank."""


def read_jsonl_duckdb(data: bytes | bytearray, entity: str) -> pd.DataFrame | None:
    """The frame of ``readers._read_jsonl_fast`` for a file's bytes, or None when DuckDB
    cannot reproduce it (the caller then takes the Python paths)."""
    table = _line_table(data)
    if table is None:
        return None
    con = duckdb.connect()
    try:
        con.register("lines", table)
        return _read(con, table, entity)
    # a line DuckDB refuses: Python says why (or reads it); DuckDB's message quotes the
    # line cut at a byte count, which may split a character and fail to decode
    except (duckdb.Error, UnicodeDecodeError):
        return None
    finally:
        con.close()


def _line_table(data: bytes) -> pa.Table | None:
    """The file's non-blank lines as Arrow text (no copy of the bytes) with their 1-based
    numbers; None when the file is blank or not UTF-8 (the Python path says so)."""
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


def _read(con: duckdb.DuckDBPyConnection, table: pa.Table, entity: str) -> pd.DataFrame | None:
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
    frame = {readers._normalise_header(k): readers._text_column(c) for k, c in columns.items()}
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
    names = [readers._normalise_header(k) for k in keys]
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
    """`columns` with the values of the lines at `positions` as ``readers._fast_chunk``
    decodes them; None when it refuses one of those lines (the file then takes the Python
    paths, which say why)."""
    types = {c.name: c.type for c in ENTITIES[entity].columns}
    lines = table["line"].take(pa.array(positions)).to_pylist()
    decoded = readers._fast_chunk(lines, list(range(1, len(lines) + 1)), types, key_of={})
    names = {readers._normalise_header(key) for key in columns}
    if decoded is None or not decoded.keys() <= names:  # DuckDB saw every key
        return None
    mask = np.zeros(table.num_rows, dtype=bool)
    mask[positions] = True
    missing = pa.nulls(len(lines), pa.string())  # a key absent from every screened line
    return {
        key: pc.replace_with_mask(
            column, pa.array(mask), decoded.get(readers._normalise_header(key), missing)
        )
        for key, column in columns.items()
    }
