"""Make a result safe to open in a spreadsheet (CSV/formula injection)."""

from __future__ import annotations

import pandas as pd

# A cell starting with one of these is run as a formula by Excel/LibreOffice/Sheets.
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def neutralise_value(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralise(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of df whose formula-like text cells get a leading apostrophe.

    Numbers stay numbers (a negative number is not a formula); only text is touched,
    including column names."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise_value).astype(object)
    out.columns = [neutralise_value(str(c)) for c in out.columns]
    return out
