"""The common CSV file read by Arrow's multithreaded C++ reader: several times faster than
pandas' C parser on a large file, and lighter on memory.

It gives exactly the frame of ``readers._read_csv_python`` or returns None, and the file
then takes that path. Arrow's tokenizer follows the same rules as pandas' (a quote opens a
quoted value only at the start of a field, ``"ab"c`` reads ``abc``, doubled quotes, no
escape character), and every column is read as text, so nothing is typed. What differs is
screened, and the file steps aside:

- a record that is not exactly one line (quoted line breaks, blank lines other than at
  the end of the file): row numbers
  then need ``readers._csv_line_numbers``; a bare carriage return (a line break to both
  readers, not to the row numbers); a NUL byte (pandas cuts the value there);
- a row with more or fewer fields than the header: Arrow refuses it, pandas pads it or
  takes an index column from it;
- a quote left open at the end of the file: pandas refuses the file, Arrow reads it;
- a header Arrow splits otherwise than ``csv.reader``, a header of one column (a line of
  blank space is skipped by pandas, a value to Arrow), names that repeat or are the
  reader's own columns; an empty, blank or non-UTF-8 file (the Python path says why).
"""

from __future__ import annotations

import codecs

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from pipelines.ingest import readers
from pipelines.schema import READ_ERROR, ROW_NUMBER

_TEXT = pa.dictionary(pa.int32(), pa.string())
"""Each column read dictionary-encoded: repeated values (status, feet, ids of a course)
become one Python string each, and trimming runs once per distinct value."""


BLOCK_BYTES = 4 << 20
"""Arrow reads the file in blocks of this size, in parallel (1-8 MB cost the same). A line
longer than a block makes it fail, and the file takes the pandas path: 4 MB keeps every
line the default ``max_line_bytes`` (1 MiB) lets through on the fast path."""


def read_csv_fast(data: bytes | bytearray) -> pd.DataFrame | None:
    """The frame of ``readers._read_csv_python`` for a file's bytes, or None when Arrow
    cannot reproduce it (the caller then takes the Python path)."""
    frame = _read(data)
    if frame is None:  # Arrow's allocator keeps freed blocks: give them back before pandas
        pa.default_memory_pool().release_unused()
    return frame


def _read(data: bytes) -> pd.DataFrame | None:
    """The frame of a file's bytes, or None at the first sign it would differ."""
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    header = _header(data, start)
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


def _header(data: bytes, start: int) -> tuple[str, list[str], list[str]] | None:
    """The delimiter, fields and column names of the first line, as
    ``readers._read_csv_python`` takes them; None for a line it refuses or that is blank,
    not UTF-8, of one column, or with names that repeat or are the reader's own."""
    end = data.find(b"\n", start)
    try:
        line = data[start : end if end >= 0 else len(data)].decode("utf-8")
        delimiter, fields = readers._csv_header(line)
    except Exception:  # UnicodeDecodeError, csv.Error: the Python path words the rejection
        return None
    names = [readers._normalise_header(f) for f in fields]
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
    """``readers._text_column`` of a dictionary-encoded column: each distinct value (of
    each block Arrow read) is trimmed and made a Python string once, then spread by the
    indices. The blocks' dictionaries are handled as one, to call Arrow once per column."""
    if len(column) == 0:
        return pd.Series(np.empty(0, dtype=object), dtype=object)
    chunks = column.chunks
    values = readers._text_column(pa.concat_arrays([c.dictionary for c in chunks])).to_numpy()
    offsets = np.cumsum([0] + [len(c.dictionary) for c in chunks[:-1]])
    indices = [c.indices.to_numpy() + offset for c, offset in zip(chunks, offsets, strict=True)]
    return pd.Series(values.take(np.concatenate(indices)), dtype=object)
