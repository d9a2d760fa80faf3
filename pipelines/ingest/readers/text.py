"""What every reader shares: header names, blank values, text columns, decoding.

Every reader hands over the same values: trimmed text, ``None`` for a blank, in object
columns (``readers/__init__.py``). These helpers make them so, whatever the format.
"""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.ingest import rejection
from pipelines.ingest.rejection import FileRejected
from pipelines.schema import ROW_NUMBER


def normalise_header(name: object) -> str:
    """A column name as the contract spells it: trimmed and lower-cased."""
    return str(name).strip().lower()


def reject_duplicate_headers(names: list[str], file_name: str, entity: str) -> None:
    """Refuse a file in which two columns have one (normalised) name."""
    seen: set[str] = set()
    dupes = sorted({n for n in names if n in seen or seen.add(n)})
    if dupes:
        raise FileRejected(rejection.duplicate_columns(file_name, entity, dupes))


def blank_to_none(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns of str/None with surrounding spaces trimmed; '' becomes None."""
    out = {}
    for col in frame.columns:
        out[col] = frame[col] if col == ROW_NUMBER else text_column(frame[col])
    return pd.DataFrame(out, index=frame.index)


def arrow_text(values: pd.Series) -> pa.Array | None:
    """The values (str, None or NaN) as an Arrow string array; None when one is not text."""
    try:
        return pa.array(values.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        return None


def text_column(values: pd.Series | pa.ChunkedArray) -> pd.Series:
    """Text values (str, None or NaN) trimmed, blank as None, in an object Series.

    Arrow's utf8_trim_whitespace is what pandas' arrow-backed ``str.strip`` runs; calling it
    directly skips pandas' conversions. Values that are not text take pandas' path.
    """
    index = values.index if isinstance(values, pd.Series) else None
    arr = arrow_text(values) if index is not None else values
    if arr is None:
        stripped = pd.Series(values, index=index, dtype=object).astype("string").str.strip()
        stripped = stripped.mask(stripped == "")
        return stripped.astype(object).where(stripped.notna(), None)
    trimmed = pc.utf8_trim_whitespace(arr)
    cleaned = pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)
    return pd.Series(cleaned.to_numpy(zero_copy_only=False), index=index, dtype=object)


def decode_text(data: bytes | bytearray, name: str) -> str:
    """A text file's (CSV, JSONL) bytes as UTF-8, a BOM dropped; a blank or non-UTF-8 file
    is rejected, saying where."""
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
