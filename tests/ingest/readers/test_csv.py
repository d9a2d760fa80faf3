"""The Arrow CSV path gives exactly the pandas path's frame, or steps aside.

The claim is checked on the exported files (the large ones included) and, with
hypothesis, on hostile raw text: any file gives either None or the very frame of
``read_csv_python`` (same values, dtypes, column order, row numbers), and a file
the pandas path refuses is never read by Arrow.
"""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.generate import generate_export
from pipelines.ingest.readers.csv import read_csv_fast, read_csv_python

EXPORTS = Path(__file__).resolve().parents[2] / "data" / "benchmarks"


def assert_identical(new: pd.DataFrame, old: pd.DataFrame) -> None:
    """Same values, dtypes, column order, and the same kinds of index and column labels
    (plain assert_frame_equal takes a RangeIndex for an equal Index of integers)."""
    pd.testing.assert_frame_equal(
        new, old, check_exact=True, check_index_type=True, check_column_type=True
    )


def _compare(path: Path) -> pd.DataFrame | None:
    """The Arrow frame, checked against the pandas path's; None when it stepped aside."""
    new = read_csv_fast(path.read_bytes())
    try:
        old = read_csv_python(
            path.read_bytes(), path.name, "sessions"
        )  # the entity does not change the read
    except Exception:  # FileRejected, pandas' ParserError, csv.Error: the file is refused
        assert new is None
        return None
    if new is not None:
        assert_identical(new, old)
    return new


@pytest.fixture(scope="module")
def exported_csv(tmp_path_factory) -> list[Path]:
    """Every CSV of a generated export (both deliveries, faults, `;` and BOM styles), plus
    those of the benchmark exports when they are cached on this machine."""
    out = tmp_path_factory.mktemp("export")
    generate_export(out, n_clients=300, seed=7, fault_rate=0.05, fmt="csv")
    return sorted(out.rglob("*.csv")) + sorted(EXPORTS.glob("*/*/*.csv"))


def test_exported_files_read_by_arrow_equal_the_pandas_read(exported_csv):
    assert len(exported_csv) >= 8
    for path in exported_csv:  # and every exported file takes the Arrow path
        assert _compare(path) is not None, path


# --- hostile raw text --------------------------------------------------------------------

_NAMES = ["session_id", " Pain ", "notes", "Status", "", "é", "a;b", '"x,y"']
_ODD_NAMES = ["PAIN", "_row_number", "_read_error", '"two\nlines"', ' "q"']
_VALUES = [
    "S1",
    "",
    " ",
    "4,5",
    "4;5",
    " pad ",
    "00731",
    "é",
    "\u00a0x\u2028",
    "\x0b\x0c\x1c\x85",
    "\ufeff",
    '"quoted, with delimiter"',
    '"a;b"',
    '"say ""hi"""',
    '""',
    '" "',
    '"ab"c',
    '"ab"c"d',
    'ab"c',
    ' "x"',
    '"x" ',
]
_ODD_VALUES = ['"two\nlines"', '"cr\r\nlf"', '"bare\rcr"', '"', '"open', "a\x00b", "\r"]
_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=6)


@st.composite
def _raw_files(draw) -> bytes:
    """Half the files only hold what the Arrow path should take (quotes, delimiters and
    blank space inside values, CRLF, BOM); the others anything, ragged rows and blank
    lines included."""
    odd = draw(st.booleans())
    width = draw(st.integers(1 if odd else 2, 4))
    pool = _NAMES + _ODD_NAMES if odd else _NAMES
    names = draw(st.lists(st.sampled_from(pool), min_size=width, max_size=width, unique=not odd))
    delimiter = draw(st.sampled_from([",", ";"]))
    value = st.one_of(
        *[st.sampled_from(_VALUES)] * 4, st.sampled_from(_ODD_VALUES) if odd else _text, _text
    )
    lines = [delimiter.join(names)]
    for _ in range(draw(st.integers(0, 6))):
        n = max(width + (draw(st.integers(-1, 1)) if odd else 0), 0)
        sep = draw(st.sampled_from([",", ";"])) if odd else delimiter
        lines.append(sep.join(draw(st.lists(value, min_size=n, max_size=n))))
        if odd and draw(st.integers(0, 4)) == 0:
            lines.append(draw(st.sampled_from(["", " ", "\t", "\r"])))
    text = draw(st.sampled_from(["\n", "\r\n"])).join(lines)
    text += draw(st.sampled_from(["", "\n", "\r\n"]))
    data = text.encode("utf-8")
    if odd and draw(st.integers(0, 4)) == 0:
        data = data.replace(b"\xc3\xa9", b"\xe9")  # latin-1 é: not UTF-8
    return (b"\xef\xbb\xbf" if draw(st.booleans()) else b"") + data


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_raw_files())
def test_arrow_frame_equals_the_pandas_frame_on_any_file(data):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.csv"
        path.write_bytes(data)
        _compare(path)


def test_a_file_of_many_blocks_with_quotes_everywhere(tmp_path):
    """Arrow splits a file into blocks of about 1 MB read in parallel: quoted delimiters
    and doubled quotes must not upset the split (the small files above are one block)."""
    rng = random.Random(20261002)
    plain = [v for v in _VALUES if v != "4;5"]  # no unquoted delimiter: no ragged row
    rows = [";".join(rng.choice(plain) for _ in range(6)) for _ in range(60_000)]
    path = _write(tmp_path, "a;b;c;d;e;f\r\n" + "\r\n".join(rows))
    assert path.stat().st_size > 2 << 20
    frame = _compare(path)
    assert frame is not None and len(frame) == 60_000


# --- what the Arrow path takes and what it leaves (so the property is not vacuous) -----


def _write(tmp_path: Path, text: str, prefix: bytes = b"") -> Path:
    path = tmp_path / "sessions.csv"
    path.write_bytes(prefix + text.encode("utf-8"))
    return path


def test_quotes_bom_crlf_decimal_commas_and_no_final_newline(tmp_path):
    text = (
        ' Session_ID ;Notes;pain\r\n'
        'S1;"knee sore; avoided";4,5\r\n'
        '"S2";"say ""hi""";" "\r\n'
        ' S3 ;"ab"c;x"y'
    )  # fmt: skip
    frame = _compare(_write(tmp_path, text, b"\xef\xbb\xbf"))
    assert frame is not None
    assert list(frame.columns) == ["session_id", "notes", "pain", "_row_number"]
    assert frame["session_id"].tolist() == ["S1", "S2", "S3"]
    assert frame["notes"].tolist() == ["knee sore; avoided", 'say "hi"', "abc"]
    assert frame["pain"].tolist() == ["4,5", None, 'x"y']
    assert frame["_row_number"].tolist() == [2, 3, 4]


@pytest.mark.parametrize("end", ["\n\n", "\r\n\r\n\r\n", "\n\r\n"])
def test_empty_lines_at_the_end_are_skipped(tmp_path, end):
    frame = _compare(_write(tmp_path, "session_id,notes\r\nS1,x\r\nS2,y" + end))
    assert frame is not None and frame["_row_number"].tolist() == [2, 3]


def test_header_only_file(tmp_path):
    frame = _compare(_write(tmp_path, "session_id,notes\n"))
    assert frame is not None and frame.empty and list(frame.columns)[-1] == "_row_number"


@pytest.mark.parametrize(
    "text",
    [
        'session_id,notes\nS1,"two\nlines"\nS2,x\n',  # a record over two lines
        "session_id,notes\nS1,x\n\nS2,y\n",  # a blank line
        "session_id,notes\nS1,x\n  \nS2,y\n",  # a line of blank space
        "session_id,notes\nS1,x\nS2,y\n \n",  # blank space at the end
        "session_id,notes\n\n",  # no row: the pandas path makes _row_number float
        'session_id,notes\nS1,"open\n\n\n',
        "session_id,notes\nS1,x,extra\n",  # more fields than the header
        "session_id,notes\nS1\n",  # fewer
        'session_id,notes\nS1,"open\n',  # a quote left open: pandas refuses the file
        'session_id,notes\nS1,"open',
        "session_id,notes\rS1,x\r",  # bare carriage returns
        'session_id,notes\nS1,"a\rb"\n',
        "session_id,notes\nS1,a\x00b\n",  # pandas cuts the value at NUL
        "session_id,Session_ID\nS1,S2\n",  # duplicate names: the pandas path refuses
        "session_id,_row_number\nS1,7\n",
        "session_id,_read_error\nS1,x\n",
        "session_id\nS1\n",  # one column
        '"session_id\n",notes\nS1,x\n',  # a header over two lines
        "\nsession_id,notes\nS1,x\n",  # a blank first line
        " \n",
    ],
)
def test_files_arrow_reads_otherwise_are_left_to_pandas(tmp_path, text):
    assert _compare(_write(tmp_path, text)) is None


@pytest.mark.parametrize(
    "value",
    [b"Jos\xe9", b"\xed\xa0\x80", b"\xc0\x80", b"\xf4\x90\x80\x80", b"\xf0\x9f\x98"],
    ids=["latin-1", "surrogate", "overlong", "beyond U+10FFFF", "cut"],
)
def test_non_utf8_is_left_to_pandas(tmp_path, value):
    path = tmp_path / "sessions.csv"
    path.write_bytes(b"session_id,notes\nS1," + value + b"\n")
    assert _compare(path) is None


def test_a_second_bom_is_left_to_pandas(tmp_path):
    path = tmp_path / "sessions.csv"
    path.write_bytes(b"\xef\xbb\xbf\xef\xbb\xbfsession_id,notes\nS1,x\n")
    assert _compare(path) is None  # Arrow would drop the second BOM too
