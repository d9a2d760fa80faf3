"""CSV files the product writes, safe to open in a spreadsheet (CSV/formula injection).

Text loaded from a clinic's export is stored unchanged (``=HYPERLINK(...)`` in session
notes is just text in the warehouse). A spreadsheet, however, runs a cell that starts with
``=``, ``+``, ``-`` or ``@`` as a formula, and a leading tab or carriage return can hide
one. So every CSV the product writes goes through :func:`write_csv`, which prefixes such
strings with ``'`` (the spreadsheet convention for "this is text"); numbers, dates and
other non-string values are written as they are.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TextIO

import pandas as pd

FORMULA_TRIGGERS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
"""A string cell starting with one of these would be read as (part of) a formula."""


def neutralise_value(value: object) -> object:
    """`value` with a leading ``'`` when it is a string a spreadsheet would evaluate."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose string cells and column names cannot start a formula."""
    out = frame.copy()
    for col in out.columns:
        series = out[col]
        if series.dtype == object or pd.api.types.is_string_dtype(series.dtype):
            values = [neutralise_value(v) for v in series]  # None stays None (map makes NaN)
            out[col] = pd.Series(values, index=series.index, dtype=series.dtype)
    out.columns = [neutralise_value(c) for c in out.columns]
    return out


def write_csv(frame: pd.DataFrame, target: Path | str | TextIO) -> Path | TextIO:
    """Write `frame` as UTF-8 CSV (header, no index) with every string cell neutralised,
    to a path or an open text file; returns where it went."""
    target = Path(target) if isinstance(target, str | Path) else target
    neutralise(frame).to_csv(target, index=False, encoding="utf-8", quoting=csv.QUOTE_MINIMAL)
    return target
