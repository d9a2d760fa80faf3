"""The DuckDB JSONL path gives exactly the Python path's frame, or steps aside.

Two claims carry it: every number DuckDB would not print as written is screened for
Python (checked here on many random tokens), and on any file the DuckDB frame, when it
gives one, equals the Python frame (hypothesis, on hostile raw text).
"""

from __future__ import annotations

import json
import random
import re
import tempfile
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.ingest.readers import FileRejected
from pipelines.ingest.readers.jsonl import NEEDS_PYTHON, read_jsonl_duckdb, read_jsonl_python

_SCREEN = re.compile(NEEDS_PYTHON)


def _duckdb_texts(tokens: list[str]) -> list[str | None]:
    """Each number token as DuckDB's reader writes it (the same json_transform call)."""
    lines = pa.table({"line": [f'{{"a": {t}}}' for t in tokens]})
    con = duckdb.connect()
    try:
        con.register("lines", lines)
        sql = """SELECT json_transform(line, '{"a": "VARCHAR"}').a FROM lines"""
        return [row[0] for row in con.execute(sql).fetchall()]
    finally:
        con.close()


def _plain_token(rng: random.Random) -> str:
    """A number in the form the screen lets through, of any length and magnitude."""
    whole = "0" if rng.random() < 0.3 else str(rng.randint(1, 9)) + _digits(rng, 0, 15)
    kind = rng.random()
    if kind < 0.3:
        return whole
    if kind < 0.5:
        return whole + ".0"
    return f"{whole}.{_digits(rng, 0, 14)}{rng.randint(1, 9)}"


def _digits(rng: random.Random, low: int, high: int) -> str:
    zeros = rng.random() < 0.2  # runs of zeros: 0.0001, 100000.5
    return "".join("0" if zeros else str(rng.randint(0, 9)) for _ in range(rng.randint(low, high)))


def test_numbers_the_screen_lets_through_are_kept_verbatim_by_duckdb():
    rng = random.Random(20261001)
    tokens = [_plain_token(rng) for _ in range(300_000)]
    passed = [t for t in tokens if not _SCREEN.search(f'{{"a": {t}}}')]
    assert len(passed) > len(tokens) / 2  # the claim is about many tokens, not a few
    got = _duckdb_texts(passed)
    wrong = [(t, g) for t, g in zip(passed, got, strict=True) if t != g]
    assert not wrong, wrong[:20]


_number = st.from_regex(
    r"-?(0|[1-9][0-9]{0,19})(\.[0-9]{1,19})?([eE][-+]?[0-9]{1,3})?", fullmatch=True
)
_near_number = st.sampled_from(
    ["NaN", "nan", "NAN", "Infinity", "-Infinity", "inf", "-inf", "+1", "01", "1.", ".5", "-0"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_number, _near_number), min_size=1, max_size=50))
def test_any_number_is_screened_or_kept_verbatim(tokens):
    passed = [t for t in tokens if not _SCREEN.search(f'{{"a": {t}}}')]
    if passed:
        assert _duckdb_texts(passed) == passed
        for t in passed:  # and Python reads it as the same text
            assert json.loads(t, parse_float=str, parse_int=str) == t


# --- whole files: raw text, hostile on purpose ------------------------------------------

_KEYS = [
    "session_id",
    "timing",
    "pain",
    " mobility ",
    "muscle_tone",
    "techniques",
    "extra",
    "é",
    "",
]
_plain_value = st.one_of(
    st.sampled_from(["null", "true", "false", '""', '"  "', '" x "', '"\\u00e9\\n"', '"a\u2028b"']),
    st.sampled_from(['"12:00:00"', '"x\\": 4.50"', '"\\u0000"', '"[1]"', "[]", '["a", null]']),
    st.text(max_size=8).map(lambda s: json.dumps(s, ensure_ascii=False)),
    st.text(max_size=8).map(json.dumps),  # \\u escapes, surrogate pairs
    st.integers().map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    _number,
)
_odd_value = st.one_of(
    _near_number,
    st.sampled_from(["4.50", "1e1", "[1, 2.50]", '["a", null, true]', "[[1]]", '{"a": 1}']),
    st.sampled_from(['"\\ud800"', "[1,]", "tru", '"a\tb"']),
)
_raw_value = st.one_of(*[_plain_value] * 9, _odd_value)
_raw_key = st.one_of(*[st.sampled_from(_KEYS)] * 9, st.sampled_from(["Pain", "_Row_Number"]))


@st.composite
def _raw_line(draw, odd: bool) -> str:
    """One line; only `odd` files have odd keys, values and lines."""
    key, value = (_raw_key, _raw_value) if odd else (st.sampled_from(_KEYS), _plain_value)
    pairs = draw(st.lists(st.tuples(key, value), max_size=5, unique_by=lambda p: p[0]))
    if odd and pairs and draw(st.integers(0, 19)) == 0:
        pairs.append(pairs[0])  # a repeated key
    sep = draw(st.sampled_from([", ", ",", " ,\t"]))
    colon = draw(st.sampled_from([": ", ":", " : "]))
    body = sep.join(f"{json.dumps(k)}{colon}{v}" for k, v in pairs)
    if not odd or draw(st.integers(0, 19)):
        return f"{{{body}}}"
    return draw(st.sampled_from([f"{{{body},}}", f" {{{body}}}\r", f"[{body}]", "5", "x", "{} {}"]))


_blank_line = st.one_of(
    *[st.sampled_from(["", " ", "\t", "\r", "\x0c", "\x1c"])] * 9,
    st.sampled_from(["\u00a0", "\u2028"]),  # blank to Python, not to DuckDB
)


@st.composite
def _raw_files(draw) -> bytes:
    odd = draw(st.booleans())
    blank = _blank_line if odd else st.sampled_from(["", " ", "\t", "\r", "\x0c", "\x1c"])
    line = _raw_line(odd)
    lines = draw(st.lists(st.one_of(line, line, blank), min_size=1, max_size=8))
    text = draw(st.sampled_from(["\n", "\r\n"])).join(lines) + draw(st.sampled_from(["", "\n"]))
    bom = b"\xef\xbb\xbf" if draw(st.booleans()) else b""
    return bom + text.encode("utf-8", "surrogatepass")


def _compare(path: Path, entity: str) -> pd.DataFrame | None:
    """The DuckDB frame, checked against the Python path's; None when it stepped aside."""
    new = read_jsonl_duckdb(path.read_bytes(), entity)
    try:
        old = read_jsonl_python(path.read_bytes(), path.name, entity)
    except (FileRejected, ValueError, UnicodeError, pa.ArrowException):
        assert new is None
        return None
    if new is not None:
        pd.testing.assert_frame_equal(new, old, check_exact=True)
    return new


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_raw_files(), st.sampled_from(["scores", "sessions"]))
def test_duckdb_frame_equals_the_python_frame_on_any_file(data, entity):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.jsonl"
        path.write_bytes(data)
        _compare(path, entity)


# --- what the DuckDB path takes (so the properties above are not vacuous) ---------------


def _write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "scores.jsonl"
    path.write_bytes(data)
    return path


def test_plain_file_with_blank_lines_crlf_bom_and_no_final_newline(tmp_path):
    lines = [
        '{"session_id": "S1", "timing": "pre", "pain": 6.0, "note": "a\u2028b\\nc"}',
        "",
        "  \t",
        '{"timing": "post", "Session_ID": null, "pain": 10, "extra": "\\u00e9"}',
        '{"session_id": "  ", "pain": 0.25, "mobility": true}',
    ]
    path = _write(tmp_path, b"\xef\xbb\xbf" + "\r\n".join(lines).encode())
    frame = read_jsonl_duckdb(path.read_bytes(), "scores")
    assert frame is None  # "session_id" and "Session_ID": two spellings, Python decides
    lines[3] = lines[3].replace("Session_ID", "session_id")
    path = _write(tmp_path, b"\xef\xbb\xbf" + "\r\n".join(lines).encode())
    frame = _compare(path, "scores")
    assert frame is not None
    assert frame["_row_number"].tolist() == [1, 4, 5]
    assert frame["session_id"].tolist() == ["S1", None, None]
    assert frame["pain"].tolist() == ["6.0", "10", "0.25"]
    assert frame["note"].tolist() == ["a\u2028b\nc", None, None]
    assert frame["extra"].tolist() == [None, "é", None]
    assert frame["mobility"].tolist() == [None, None, "true"]
    assert list(frame.columns) == [
        "session_id", "timing", "pain", "note", "extra", "mobility", "_row_number", "_read_error"
    ]  # fmt: skip


@pytest.mark.parametrize("token", ["4.50", "1e1", "-0", "1E+2", "0.00001", "123456789012345678"])
def test_numbers_duckdb_would_rewrite_are_read_by_python(tmp_path, token):
    lines = [f'{{"session_id": "S{i}", "timing": "pre", "pain": 1.5}}' for i in range(10)]
    lines[3] = f'{{"session_id": "S3", "timing": "pre", "pain": {token}}}'
    frame = _compare(_write(tmp_path, "\n".join(lines).encode()), "scores")
    assert frame is not None and frame.loc[3, "pain"] == token


@pytest.mark.parametrize(
    "line",
    [
        '{"session_id": "S3", "pain": 1,}',  # DuckDB reads trailing commas
        '{"session_id": "S3", "pain": NaN}',
        '{"session_id": "S3", "pain": nan}',
        '{"session_id": "S3", "pain": {"a": 1}}',
        '{"session_id": "S3", "pain": [1, 2]}',
        '{"session_id": "S3", "session_id": "S4"}',
        '{"session_id": "S3", "_row_number": 4}',
        '{"session_id": "\\ud800"}',
        '[{"session_id": "S3"}]',
    ],
)
def test_lines_python_reads_differently_leave_the_file_to_python(tmp_path, line):
    lines = [f'{{"session_id": "S{i}", "pain": 1.5}}' for i in range(10)]
    lines[3] = line
    assert _compare(_write(tmp_path, "\n".join(lines).encode()), "scores") is None


def test_lists_in_a_list_column_are_joined_as_python_does(tmp_path):
    lines = [
        '{"session_id": "S1", "techniques": ["rubbing", 2.50, true, null]}',
        '{"session_id": "S2", "techniques": "kneading"}',
    ] + [f'{{"session_id": "S{i}", "techniques": null}}' for i in range(3, 20)]
    frame = _compare(_write(tmp_path, "\n".join(lines).encode()), "sessions")
    assert frame is not None
    assert frame["techniques"].tolist()[:2] == ["rubbing;2.50;True;", "kneading"]
