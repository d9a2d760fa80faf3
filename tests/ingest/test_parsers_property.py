"""Property tests of the row parsers: any input gives, for every row, either a typed row
the warehouse can take or a quarantined row with at least one reason — never an exception.

The pipeline's own steps run unmocked: readers (real files in tmp dirs), normalise,
combine_reasons, plan_file, and the loader's `register_typed` (the CAST into warehouse
types, on an in-memory DuckDB) for the typed frame. GX rules are not run here (too slow
per example); they only add reasons.
"""

from __future__ import annotations

import csv
import json
import math
import tempfile
from pathlib import Path

import duckdb
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.ingest.normalise import normalise
from pipelines.ingest.prepare import combine_reasons, plan_file
from pipelines.ingest.readers import FileRejected, read_delivery_file
from pipelines.ingest.readers.csv import read_csv_fast, read_csv_python
from pipelines.ingest.readers.jsonl import read_jsonl_duckdb, read_jsonl_python
from pipelines.schema import ENTITIES, ENTITY_ORDER, READ_ERROR, ROW_NUMBER
from pipelines.store.loader import register_typed

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu"]

# text that looks like the types, near misses, and anything at all
_looks_typed = st.one_of(
    st.dates(min_value=pd.Timestamp("0001-01-01").date()).map(str),
    st.datetimes().map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat(sep=" ") + "+05:30"),
    st.sampled_from(
        [
            "2026-02-30",
            "2026-03-29T02:30:00",
            "2026-10-25T02:30:00",
            "9999-12-31T23:59:59-23",
            "0001-01-01T00:00:00+14",
            "2026-13-01",
            "1e309",
            "-1e309",
            "NaN",
            "inf",
            "1,5",
            "4,5",
            "0x10",
            "١٢٣",
            "１２",
            "9" * 400,
            "-0",
            "yes",
            "N",
            "TRUE",
            "2",
            "rubbing; Kneading",
            ";;",
            "both",
            "Completed",
            "f",
            "00731",
            " ",
            "\t",
            "\u00a0",
            "None",
            "null",
        ]
    ),  # fmt: skip
    st.integers().map(str),
    st.floats().map(str),
    st.booleans().map(str),
)
# the readers hand over trimmed text, blank as None (readers.text.blank_to_none)
_value = st.one_of(st.none(), _looks_typed, st.text(max_size=30)).map(
    lambda v: (v.strip() or None) if isinstance(v, str) else v
)


@st.composite
def raw_frames(draw):
    """A reader-shaped frame: every contract column, str or None values, row numbers."""
    entity = draw(st.sampled_from(ENTITY_ORDER))
    columns = ENTITIES[entity].column_names
    present = draw(st.sets(st.sampled_from(columns)))  # the others are blank throughout
    n = draw(st.integers(0, 8))
    rows = [{c: (draw(_value) if c in present else None) for c in columns} for _ in range(n)]
    if rows and draw(st.booleans()):  # some rows repeat (identical copies, key clashes)
        rows += draw(st.lists(st.sampled_from(rows), max_size=3))
    frame = pd.DataFrame.from_records(rows, columns=list(columns)).astype(object)
    frame = frame.where(frame.notna(), None)
    frame[ROW_NUMBER] = range(2, len(frame) + 2)
    if draw(st.booleans()):
        frame[READ_ERROR] = [draw(st.one_of(st.none(), st.just("line is not a JSON object")))
                             for _ in range(len(frame))]  # fmt: skip
    return entity, frame


def _check_plan(entity: str, raw: pd.DataFrame, tz: str) -> None:
    """The invariant: every row typed-and-castable or quarantined with a reason."""
    normalised = normalise(raw, entity, tz)
    typed = normalised.typed
    assert len(typed) == len(raw)
    reasons = combine_reasons(normalised.parse_errors, {})
    plan = plan_file(entity, raw, typed, reasons)
    assert plan.rows_read == len(raw)
    assert len(plan.typed) + plan.duplicates_in_file == len(raw)
    assert set(plan.reasons) <= set(range(len(plan.typed)))
    assert all(plan.reasons.values()), "a quarantined row without a reason"
    if READ_ERROR in raw:  # a row the reader could not read never passes as valid
        faulty = set(raw.loc[raw[READ_ERROR].notna(), ROW_NUMBER])
        passed = set(plan.typed.loc[~plan.typed["_pos"].isin(plan.reasons), ROW_NUMBER])
        assert not faulty & passed
    # every typed value is of its column's Python type ...
    for column in ENTITIES[entity].columns:
        for value in plan.typed[column.name]:
            if pd.isna(value):
                continue
            if column.type == "number":
                assert isinstance(value, float) and (math.isnan(value) or math.isfinite(value))
            elif column.type in ("text", "list"):
                assert isinstance(value, str) and value, (column.name, value)
            elif column.type == "boolean":
                assert isinstance(value, bool | type(pd.NA)) or str(value) in ("True", "False")
            else:
                assert isinstance(value, pd.Timestamp)
    # ... and the loader can cast the whole frame into warehouse types
    con = duckdb.connect()
    try:
        register_typed(con, entity, plan.typed)
        assert con.execute("SELECT count(*) FROM incoming").fetchone()[0] == len(plan.typed)
        for column in ENTITIES[entity].columns:  # a missing value is NULL, never 'nan'
            present = int(plan.typed[column.name].notna().sum())
            loaded = con.execute(f"SELECT count({column.name}) FROM incoming").fetchone()[0]
            assert loaded == present, column.name
    finally:
        con.close()
    # the quarantine can show every failing row's original text
    records = plan.records(sorted(plan.reasons))
    assert len(records) == len(plan.reasons)
    json.dumps(records.to_dict(orient="records"), default=str)


@SETTINGS
@given(raw_frames(), st.sampled_from(ZONES))
def test_any_text_values_give_typed_rows_or_reasons(case, tz):
    entity, raw = case
    _check_plan(entity, raw, tz)


# --- arbitrary JSON values through the JSONL reader ------------------------------------

_json_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20), _looks_typed
)
_json_value = st.recursive(
    _json_scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def jsonl_files(draw):
    entity = draw(st.sampled_from(ENTITY_ORDER))
    columns = list(ENTITIES[entity].column_names)
    required = list(ENTITIES[entity].required)
    keys = st.sampled_from([*columns, *(c.upper() for c in columns), "extra", " Note "])
    lines = draw(
        st.lists(
            st.one_of(
                st.fixed_dictionaries(
                    {c: _json_value for c in required},
                    optional={k: _json_value for k in columns if k not in required},
                ),
                st.dictionaries(keys, _json_value, max_size=6),
                _json_value,  # not an object at all
            ),
            min_size=1,
            max_size=6,
        )
    )
    text = "\n".join(json.dumps(line, ensure_ascii=draw(st.booleans())) for line in lines)
    return entity, lines, text


def _is_nested_for(column_type: str, value: object) -> bool:
    if isinstance(value, dict):
        return True
    if isinstance(value, list):
        return column_type != "list" or any(isinstance(v, dict | list) for v in value)
    return False


@SETTINGS
@given(jsonl_files(), st.sampled_from(ZONES))
def test_any_json_values_give_typed_rows_or_reasons(case, tz):
    entity, lines, text = case
    types = {c.name: c.type for c in ENTITIES[entity].columns}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{entity}.jsonl"
        path.write_text(text, encoding="utf-8")
        try:
            raw = read_delivery_file(path, entity, "jsonl").frame
        except FileRejected as exc:  # whole file refused (e.g. no required column): fine
            assert path.name in str(exc)
            return
    _check_plan(entity, raw, tz)
    normalised = normalise(raw, entity, tz)
    reasons = combine_reasons(normalised.parse_errors, {})
    by_line = {int(raw.at[p, ROW_NUMBER]): r for p, r in reasons.items()}
    for line_no, obj in enumerate(lines, start=1):
        nested = isinstance(obj, dict) and any(
            _is_nested_for(types[k.strip().lower()], v)
            for k, v in obj.items()
            if k.strip().lower() in types
        )
        if not isinstance(obj, dict) or nested:
            assert by_line.get(line_no), (line_no, obj)


@SETTINGS
@given(jsonl_files(), st.sampled_from(["\n", "\r\n"]))
def test_jsonl_read_by_duckdb_equals_the_python_read(case, newline):
    """The DuckDB path gives the Python path's frame, or steps aside (returns None)."""
    entity, _lines, text = case
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{entity}.jsonl"
        path.write_text(text.replace("\n", newline), encoding="utf-8")
        fast = read_jsonl_duckdb(path.read_bytes(), entity)
        try:
            slow = read_jsonl_python(path.read_bytes(), path.name, entity)
        except FileRejected:
            assert fast is None
            return
    if fast is not None:
        pd.testing.assert_frame_equal(fast, slow, check_exact=True)


# --- CSV: values survive the reader ------------------------------------------------------

_cell = st.one_of(
    st.none(),
    _looks_typed,
    st.sampled_from(["two\nlines", "three\r\nlines\n", 'say "hi"', "a,b", "a;b", " pad ", "\n"]),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=15),
)


def _write_csv(path: Path, rows: list[list], delimiter: str, newline: str, blank_after) -> None:
    """The therapists header and `rows` as csv.writer writes them, with an empty line after
    the rows in `blank_after`. A row of blanks is written as ",,,," (not an empty line): it
    is a row of None values."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        # csv.writer quotes a field only for the characters of *its* line terminator;
        # a bare CR left unquoted is a line break to every CSV reader, so quote all then
        bare_cr = any("\r" in v for r in rows for v in r if v)
        quoting = csv.QUOTE_ALL if bare_cr else csv.QUOTE_MINIMAL
        writer = csv.writer(fh, delimiter=delimiter, lineterminator=newline, quoting=quoting)
        writer.writerow(ENTITIES["therapists"].column_names)
        for i, r in enumerate(rows):
            writer.writerow(["" if v is None else v for v in r])
            if i in blank_after:
                fh.write(newline)  # an empty line between rows is skipped


_csv_rows = st.lists(st.lists(_cell, min_size=5, max_size=5), min_size=1, max_size=6)


def _csv_files(max_blank_lines: int) -> tuple:
    """What `_write_csv` takes: rows, delimiter, newline, and after which rows to leave an
    empty line (at most `max_blank_lines` of them)."""
    return (
        _csv_rows,
        st.sampled_from([",", ";"]),
        st.sampled_from(["\n", "\r\n"]),
        st.sets(st.integers(0, 6), max_size=max_blank_lines),
    )


@SETTINGS
@given(*_csv_files(max_blank_lines=2))
def test_csv_values_round_trip_through_the_reader(rows, delimiter, newline, blank_after):
    columns = list(ENTITIES["therapists"].column_names)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "therapists.csv"
        _write_csv(path, rows, delimiter, newline, blank_after)
        lines = path.read_bytes().split(b"\n")
        frame = read_delivery_file(path, "therapists", "csv").frame
    expected = [[(v.strip() or None) if v is not None else None for v in r] for r in rows]
    got = [[frame.at[i, c] for c in columns] for i in range(len(frame))]
    assert got == expected
    # the row number is the physical line where the row starts (header = line 1)
    starts, line = [], 2
    for i, r in enumerate(rows):
        starts.append(line)
        line += sum(("" if v is None else v).count("\n") for v in r) + 1 + (i in blank_after)
    assert frame[ROW_NUMBER].tolist() == starts, lines


@SETTINGS
@given(*_csv_files(max_blank_lines=1))
def test_csv_read_by_arrow_equals_the_pandas_read(rows, delimiter, newline, blank_after):
    """The Arrow path gives the pandas path's frame, or steps aside (returns None)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "therapists.csv"
        _write_csv(path, rows, delimiter, newline, blank_after)
        fast = read_csv_fast(path.read_bytes())
        slow = read_csv_python(path.read_bytes(), path.name, "therapists")
    if fast is not None:
        pd.testing.assert_frame_equal(
            fast, slow, check_exact=True, check_index_type=True, check_column_type=True
        )
