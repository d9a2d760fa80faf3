"""pipelines.csv_safe: every CSV the product writes is safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import datetime as dt

import pandas as pd
import pytest

from pipelines.csv_safe import neutralise, write_csv

FORMULA = '=HYPERLINK("http://x","y")'


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (FORMULA, "'" + FORMULA),
        ("+1 tender", "'+1 tender"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("calf tender", "calf tender"),
        ("a=b", "a=b"),  # only a leading trigger matters
        ("'already quoted", "'already quoted"),
        ("", ""),
    ],
)
def test_neutralise_prefixes_strings_a_spreadsheet_would_evaluate(value, expected):
    out = neutralise(pd.DataFrame({"notes": [value]}))
    assert out.at[0, "notes"] == expected


def test_neutralise_leaves_non_strings_and_the_input_frame_alone():
    frame = pd.DataFrame(
        {
            "pain": [-3.0, 2.5],
            "n": [-1, 4],
            "day": [dt.date(2026, 9, 1), None],
            "notes": [FORMULA, None],
            "=evil": ["ok", "-x"],
        }
    )
    out = neutralise(frame)
    assert out["pain"].tolist() == [-3.0, 2.5] and out["n"].tolist() == [-1, 4]
    assert out["day"].tolist() == [dt.date(2026, 9, 1), None]
    assert out.at[0, "notes"] == "'" + FORMULA and pd.isna(out.at[1, "notes"])
    assert list(out.columns) == ["pain", "n", "day", "notes", "'=evil"]
    assert out["'=evil"].tolist() == ["ok", "'-x"]
    assert frame.at[0, "notes"] == FORMULA  # not modified in place


def test_neutralise_keeps_none_in_object_columns():
    frame = pd.DataFrame({"notes": pd.Series(["-x", None], dtype=object)})
    assert neutralise(frame)["notes"].tolist() == ["'-x", None]


def test_neutralise_handles_pandas_string_dtype():
    frame = pd.DataFrame({"notes": pd.array(["@x", None, "y"], dtype="string")})
    assert neutralise(frame)["notes"].tolist()[0] == "'@x"
    assert neutralise(frame)["notes"].tolist()[2] == "y"


def test_write_csv_round_trips_with_every_formula_neutralised(tmp_path):
    frame = pd.DataFrame(
        {
            "session_id": ["S1", "S2", "S3"],
            "notes": [FORMULA, 'line1\n=line2, "quoted"', "plain"],
            "pain": [-1.5, 2.0, None],
        }
    )
    path = write_csv(frame, tmp_path / "out.csv")
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["session_id", "notes", "pain"]
    assert rows[1] == ["S1", "'" + FORMULA, "-1.5"]
    assert rows[2] == ["S2", 'line1\n=line2, "quoted"', "2.0"]  # starts with "l": unchanged
    assert rows[3] == ["S3", "plain", ""]
    dangerous = [c for r in rows for c in r if c[:1] in ("=", "+", "@", "\t", "\r")]
    assert dangerous == []
