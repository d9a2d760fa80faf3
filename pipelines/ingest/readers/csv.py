"""CSV files (``,`` or ``;``, detected from the header line): the plain path, pandas' C
parser, and the fast path, Arrow's multithreaded reader.

Arrow's tokenizer follows the same rules as pandas' (a quote opens a quoted value only at
the start of a field, ``"ab"c`` reads ``abc``, doubled quotes, no escape character), and
every column is read as text, so nothing is typed. What differs is screened, and the file
steps aside to the plain path:

- a record that is not exactly one line (quoted line breaks, blank lines other than at
  the end of the file): row numbers then need the plain path's count; a bare carriage
  return (a line break to both readers, not to the row numbers); a NUL byte (pandas cuts
  the value there);
- a row with more or fewer fields than the header: Arrow refuses it, pandas pads it or
  takes an index column from it;
- a quote left open at the end of the file: pandas refuses the file, Arrow reads it;
- a header Arrow splits otherwise than ``csv.reader``, a header of one column (a line of
  blank space is skipped by pandas, a value to Arrow), names that repeat or are the
  reader's own columns; an empty, blank or non-UTF-8 file (the plain path says why).
"""

from __future__ import annotations

import codecs
import csv
import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from pipelines.ingest.readers.text import (
    blank_to_none,
    decode_text,
    normalise_header,
    reject_duplicate_headers,
    text_column,
)
from pipelines.schema import READ_ERROR, ROW_NUMBER


def read_csv(data: bytes | bytearray, name: str, entity: str) -> pd.DataFrame:
    """The fast path's frame, or the plain path's when the fast path steps aside."""
    frame = read_csv_fast(data)
    return frame if frame is not None else read_csv_python(data, name, entity)


# --- the plain path: pandas' C parser ----------------------------------------------------


def read_csv_python(data: bytes | bytearray, name: str, entity: str) -> pd.DataFrame:
    """pandas' C parser: any file, with row numbers that follow quoted line breaks and
    skipped blank lines; it says why a file cannot be read."""
    text = decode_text(data, name)
    delimiter, fields = _split_header(text.split("\n", 1)[0])
    names = [normalise_header(c) for c in fields]
    reject_duplicate_headers(names, name, entity)  # pandas would silently rename them
    frame = pd.read_csv(
        io.StringIO(text),
        sep=delimiter,
        header=0,
        names=names,
        dtype=object,  # Python str values: pandas' arrow-backed str dtype is slower here
        keep_default_na=False,
        na_filter=False,
        quoting=csv.QUOTE_MINIMAL,
        skip_blank_lines=True,
        engine="c",
    )
    frame = blank_to_none(frame)
    frame[ROW_NUMBER] = _line_numbers(text, delimiter, len(frame))
    return frame


def _split_header(header: str) -> tuple[str, list[str]]:
    """The delimiter the header line uses most, and its fields as written."""
    delimiter = ";" if header.count(";") > header.count(",") else ","
    return delimiter, next(csv.reader([header], delimiter=delimiter))


def _line_numbers(text: str, delimiter: str, n_rows: int) -> list[int] | range:
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


# --- the fast path: Arrow's reader -------------------------------------------------------

_TEXT = pa.dictionary(pa.int32(), pa.string())
"""Each column read dictionary-encoded: repeated values (status, feet, ids of a course)
become one Python string each, and trimming runs once per distinct value."""


BLOCK_BYTES = 4 << 20
"""Arrow reads the file in blocks of this size, in parallel. A line longer than a block
makes it fail, and the file takes the pandas path: 4 MB keeps every line the default
``max_line_bytes`` (1 MiB) lets through on the fast path."""


def read_csv_fast(data: bytes | bytearray) -> pd.DataFrame | None:
    """The frame of :func:`read_csv_python` for a file's bytes, or None when Arrow cannot
    reproduce it (the caller then takes the plain path)."""
    frame = _read_arrow(data)
    if frame is None:  # Arrow's allocator keeps freed blocks: give them back before pandas
        pa.default_memory_pool().release_unused()
    return frame


def _read_arrow(data: bytes) -> pd.DataFrame | None:
    """The frame of a file's bytes, or None at the first sign it would differ."""
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    header = _arrow_header(data, start)
    if header is None or b"\x00" in data or _has_bare_carriage_return(data):
        return None
    delimiter, fields, names = header
    end = _content_end(data)
    table = _parse(data, start, end, delimiter, len(names))
    lines = data.count(b"\n", start, end) + 1
    if table is None or table.num_rows != lines or _ends_in_open_quote(data, start, end, delimiter):
        return None  # a record spans lines, a line is blank, or a quote is left open
    if [table.column(i)[0].as_py() for i in range(len(names))] != fields:
        return None  # Arrow split the header otherwise than csv.reader
    if table.num_rows == 1 and data[end:] not in (b"", b"\n", b"\r\n"):
        return None  # no row, empty lines: pandas' row numbers are an empty float column
    rows = table.slice(1)
    columns = {name: _objects(rows.column(i)) for i, name in enumerate(names)}
    frame = pd.DataFrame(columns, copy=False)  # no copy into one 2-D block
    frame[ROW_NUMBER] = range(2, rows.num_rows + 2)
    return frame


def _arrow_header(data: bytes, start: int) -> tuple[str, list[str], list[str]] | None:
    """The delimiter, fields and column names of the first line, as
    :func:`read_csv_python` takes them; None for a line it refuses or that is blank,
    not UTF-8, of one column, or with names that repeat or are the reader's own."""
    end = data.find(b"\n", start)
    try:
        line = data[start : end if end >= 0 else len(data)].decode("utf-8")
        delimiter, fields = _split_header(line)
    except Exception:  # UnicodeDecodeError, csv.Error: the plain path words the rejection
        return None
    names = [normalise_header(f) for f in fields]
    reserved = {ROW_NUMBER, READ_ERROR}
    if not line.strip() or len(names) < 2 or len(set(names)) != len(names):
        return None
    return None if reserved & set(names) else (delimiter, fields, names)


def _has_bare_carriage_return(data: bytes) -> bool:
    """A "\\r" not followed by "\\n": a line break to pandas and Arrow, not to the row
    numbers. Most files have none at all, which the quickest search tells."""
    return b"\r" in data and data.count(b"\r") != data.count(b"\r\n")


def _content_end(data: bytes) -> int:
    """Where the last line ends: empty lines at the end of a file are common, skipped by
    both readers, and move no row number."""
    end = len(data)
    while end and data[end - 1] in b"\r\n":
        end -= 1
    return end


def _parse(data: bytes, start: int, end: int, delimiter: str, width: int) -> pa.Table | None:
    """Every record, the header included, as `width` text columns; None when a row has
    another number of fields or a value is not UTF-8."""
    names = [f"f{i}" for i in range(width)]  # the header is read as a row, checked after
    try:
        return pacsv.read_csv(
            pa.BufferReader(pa.py_buffer(data)[start:end]),
            read_options=pacsv.ReadOptions(column_names=names, block_size=BLOCK_BYTES),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, _TEXT),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowException, UnicodeError):  # the error quotes the row, maybe cut
        return None


def _ends_in_open_quote(data: bytes, start: int, end: int, delimiter: str) -> bool:
    """Whether the last line leaves a quoted value open, as pandas' tokenizer reads it.

    Only the last line needs it: when every record is one line, a quote opened earlier
    would have taken the following lines into its record.
    """
    last = data[max(start, data.rfind(b"\n", start, end) + 1) : end]
    quote, delim = ord('"'), ord(delimiter)
    state = "start"  # of a field; "plain": unquoted field; "quoted"; "closing": quote seen
    for byte in last:
        if state == "quoted":
            state = "closing" if byte == quote else "quoted"
        elif byte == delim:
            state = "start"
        elif state == "start" and byte == quote:
            state = "quoted"
        elif state == "closing" and byte == quote:
            state = "quoted"  # a doubled quote
        else:
            state = "plain"
    return state == "quoted"


def _objects(column: pa.ChunkedArray) -> pd.Series:
    """:func:`text_column` of a dictionary-encoded column: each distinct value (of each
    block Arrow read) is trimmed and made a Python string once, then spread by the
    indices. The blocks' dictionaries are handled as one, to call Arrow once per column."""
    if len(column) == 0:
        return pd.Series(np.empty(0, dtype=object), dtype=object)
    chunks = column.chunks
    values = text_column(pa.concat_arrays([c.dictionary for c in chunks])).to_numpy()
    offsets = np.cumsum([0] + [len(c.dictionary) for c in chunks[:-1]])
    indices = [c.indices.to_numpy() + offset for c, offset in zip(chunks, offsets, strict=True)]
    return pd.Series(values.take(np.concatenate(indices)), dtype=object)
