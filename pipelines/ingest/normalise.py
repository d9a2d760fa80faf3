"""Turn a frame of text values into typed values (pure: frame in, frame out).

Type failures (a value present but not a date, number, boolean …) become NULL in the
typed frame and a reason in ``parse_errors``; every other rule of spec §2 (required,
ranges, codes, all-blank scores) is left to the Great Expectations suites, which see
the typed frame. Codes are matched case-insensitively and rewritten to their canonical
spelling; list columns stay text (``a;b``, trimmed, lower-case) so that GX can check
their items with a pattern, and become DuckDB lists when loaded.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from pipelines.ingest.readers.text import arrow_text
from pipelines.schema import (
    ENTITIES,
    FALSE_WORDS,
    READ_ERROR,
    ROW_NUMBER,
    SCORES_GIVEN,
    TRUE_WORDS,
    Column,
)

SCORE_COLUMNS = ("pain", "muscle_tone", "mobility")

_ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
_ISO_TIMESTAMP = (
    r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?$"
)
# an offset only counts after a time of day (a bare date "2026-09-02" ends in "-02")
_HAS_OFFSET = r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)$"
_DECIMAL_COMMA = re.compile(r"^-?\d+,\d+$")


@dataclass
class NormalisedTable:
    typed: pd.DataFrame
    """Entity columns typed, plus ``_row_number`` (and ``_scores_given`` for scores)."""
    parse_errors: dict[int, list[str]]
    """Row position -> reasons a value could not be read as its type."""


def normalise(raw: pd.DataFrame, entity: str, clinic_timezone: str) -> NormalisedTable:
    errors: dict[int, list[str]] = defaultdict(list)
    typed = pd.DataFrame(index=raw.index)
    for column in ENTITIES[entity].columns:
        typed[column.name] = _normalise_distinct(raw[column.name], column, clinic_timezone, errors)
    typed[ROW_NUMBER] = raw[ROW_NUMBER].astype("int64")
    if READ_ERROR in raw:
        for pos in raw.index[raw[READ_ERROR].notna()]:
            read_error = str(raw.at[pos, READ_ERROR])
            # one fault, one reason: a column the reader already faulted (a JSON object
            # where a number is expected) is not also "not a number"
            named = {part.split(":", 1)[0] for part in read_error.split("; ")}
            kept = [e for e in errors.get(int(pos), []) if e.split(":", 1)[0] not in named]
            errors[int(pos)] = [*kept, read_error]
    if entity == "scores":
        typed[SCORES_GIVEN] = typed[list(SCORE_COLUMNS)].notna().sum(axis=1).astype("int64")
    return NormalisedTable(typed, dict(errors))


def _normalise_distinct(
    raw: pd.Series, column: Column, tz: str, errors: dict[int, list[str]]
) -> pd.Series:
    """`_normalise_column`, run once per distinct value when values repeat a lot.

    Typing is per value (no value's result depends on another's), so typing the distinct
    values (blank included) and spreading the results back by position gives the same
    column and the same reasons, at a fraction of the cost for codes, scores, booleans.
    """
    if column.type == "text" and not column.codes:
        return raw
    codes, uniques = pd.factorize(raw, use_na_sentinel=False)
    if len(uniques) > len(raw) // 2:
        return _normalise_column(raw, column, tz, errors)
    distinct_errors: dict[int, list[str]] = defaultdict(list)
    typed = _normalise_column(
        pd.Series(uniques, dtype=object), column, tz, distinct_errors
    ).reset_index(drop=True)
    out = typed.take(codes)
    out.index = raw.index
    if distinct_errors:
        failed = np.flatnonzero(np.isin(codes, list(distinct_errors)))
        for pos in failed:
            errors[int(raw.index[pos])].extend(distinct_errors[int(codes[pos])])
    return out


def _record_failures(
    raw: pd.Series, parsed: pd.Series, column: str, what: str, errors: dict[int, list[str]]
) -> None:
    failed = raw.notna() & parsed.isna()
    for pos, value in raw[failed].items():
        errors[int(pos)].append(f"{column}: {value!r} is not {what}")


def _normalise_column(
    raw: pd.Series, column: Column, tz: str, errors: dict[int, list[str]]
) -> pd.Series:
    name = column.name
    if column.type == "text":
        if column.codes:
            canonical = {c.lower(): c for c in column.codes}
            return raw.map(lambda v: canonical.get(v.lower(), v) if isinstance(v, str) else None)
        return raw
    if column.type == "number":
        text = raw.map(
            lambda v: v.replace(",", ".") if isinstance(v, str) and _DECIMAL_COMMA.match(v) else v
        )
        parsed = pd.to_numeric(text, errors="coerce").astype("float64")
        # inf/nan spelled out are not numbers a clinic meant
        parsed = parsed.where(parsed.abs() != float("inf"))
        _record_failures(raw, parsed, name, "a number", errors)
        return parsed
    if column.type == "date":
        ok = raw.str.match(_ISO_DATE, na=False) if raw.notna().any() else raw.notna()
        parsed = pd.to_datetime(raw.where(ok), format="%Y-%m-%d", errors="coerce")
        _record_failures(raw, parsed, name, "an ISO date (YYYY-MM-DD)", errors)
        return parsed.astype("datetime64[us]")
    if column.type == "timestamp":
        parsed = parse_timestamps(raw, tz)
        _record_failures(raw, parsed, name, "an ISO 8601 timestamp", errors)
        return parsed
    if column.type == "boolean":
        lowered = raw.map(lambda v: v.lower() if isinstance(v, str) else None)
        parsed = lowered.map(
            lambda v: True if v in TRUE_WORDS else False if v in FALSE_WORDS else None
        ).astype("boolean")
        _record_failures(raw, parsed, name, "a boolean (true/false, yes/no, y/n, 1/0)", errors)
        return parsed
    if column.type == "list":
        return raw.map(_normalise_list)
    raise ValueError(f"unknown column type {column.type}")  # pragma: no cover


def _normalise_list(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    items = [item.strip().lower() for item in value.split(";")]
    joined = ";".join(item for item in items if item)
    return joined or None


def parse_timestamps(raw: pd.Series, tz: str) -> pd.Series:
    """ISO 8601 text -> UTC timestamps; text without an offset is in the clinic's zone."""
    out = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[us, UTC]")
    present = raw.notna()
    if not present.any():
        return out
    text = raw[present]
    shaped = _matches(text, _ISO_TIMESTAMP)
    has_offset = shaped & _matches(text, _HAS_OFFSET)
    naive = shaped & ~has_offset
    if has_offset.any():
        out[has_offset[has_offset].index] = pd.to_datetime(
            text[has_offset], format="ISO8601", utc=True, errors="coerce"
        ).astype("datetime64[us, UTC]")
    if naive.any():
        local = pd.to_datetime(text[naive], format="ISO8601", errors="coerce")
        # a wall-clock time skipped or doubled by a DST change is resolved forward
        localised = local.dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")
        out[naive[naive].index] = localised.dt.tz_convert("UTC").astype("datetime64[us, UTC]")
    return out


def _matches(text: pd.Series, pattern: str) -> pd.Series:
    """Which values contain a match of `pattern`, by Arrow's RE2 (one C++ pass, not a Python
    call per value: timestamps are mostly distinct, so typing each distinct value once does
    not help). RE2's `\\d` is an ASCII digit: Python's re also took other digits, which
    pandas then refused, so a value gets the same NaT and reason as before; and `$` is the
    very end, as for Python's re on trimmed values (tests/ingest/test_normalise.py)."""
    values = arrow_text(text)
    if values is None:  # a value that is not text: not a match
        return text.astype(object).str.contains(pattern, regex=True, na=False).astype(bool)
    found = pc.fill_null(pc.match_substring_regex(values, pattern), False)
    return pd.Series(found.to_numpy(zero_copy_only=False), index=text.index, dtype=bool)


def today_in(tz: str) -> dt.date:
    """The clinic's current date."""
    return pd.Timestamp.now(tz=tz).date()
