import json

import openpyxl
import pandas as pd
import pytest

from pipelines.ingest.readers import FileRejected, read_delivery_file

CLIENT_HEADER = "client_id,birth_date,height_cm\n"


def _read(path, entity="clients", fmt="csv"):
    return read_delivery_file(path, entity, fmt)


def test_csv_semicolon_bom_trimmed_case_insensitive_headers_and_text_ids(tmp_path):
    p = tmp_path / "clients.csv"
    p.write_bytes("\ufeff Client_ID ;Birth_Date; Extra \n00731;1990-01-02;x\n".encode())
    table = _read(p)
    assert table.frame.loc[0, "client_id"] == "00731"  # stays text
    assert table.frame.loc[0, "birth_date"] == "1990-01-02"
    assert table.extra_columns == ["extra"]
    assert table.frame.loc[0, "_row_number"] == 2  # line number, header is line 1
    assert table.frame.loc[0, "name"] is None  # absent optional column reads as blank


def test_csv_blank_values_become_none(tmp_path):
    p = tmp_path / "clients.csv"
    p.write_text(CLIENT_HEADER + "C1,  ,\n")
    row = _read(p).frame.iloc[0]
    assert row["birth_date"] is None and row["height_cm"] is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"name\nAnna\n", "missing required column(s) client_id, birth_date"),
        (b"client_id,CLIENT_ID,birth_date\n1,2,3\n", "duplicate column name(s) client_id"),
        ("client_id,birth_date\nJos\xe9,1990-01-01\n".encode("latin-1"), "not UTF-8"),
    ],
)
def test_bad_csv_files_are_rejected_with_a_clear_message(tmp_path, content, message):
    p = tmp_path / "clients.csv"
    p.write_bytes(content)
    with pytest.raises(FileRejected, match=message.replace("(", r"\(").replace(")", r"\)")):
        _read(p)


def test_jsonl_keeps_numbers_as_written_and_flags_bad_lines(tmp_path):
    p = tmp_path / "scores.jsonl"
    lines = [
        json.dumps({"session_id": "S1", "timing": "pre", "pain": 4.50, "mobility": None}),
        "not json",
        "",
        json.dumps({"session_id": "S2", "timing": "post", "pain": 3, "muscle_tone": [1, 2]}),
    ]
    p.write_text("\n".join(lines) + "\n")
    frame = _read(p, "scores", "jsonl").frame
    assert frame["_row_number"].tolist() == [1, 2, 4]
    assert frame.loc[0, "pain"] == "4.5" and frame.loc[0, "mobility"] is None
    assert "not valid JSON" in frame.loc[1, "_read_error"]
    assert frame.loc[2, "muscle_tone"] == "1;2"


def test_xlsx_first_sheet_with_sheet_row_numbers(tmp_path):
    p = tmp_path / "clients.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["client_id", "birth_date", "height_cm"])
    ws.append(["00731", pd.Timestamp("1990-01-02").to_pydatetime(), 168.0])
    ws.append([None, None, None])
    ws.append(["C2", "1991-05-06", 170.5])
    wb.create_sheet("other").append(["ignored"])
    wb.save(p)
    frame = _read(p, fmt="xlsx").frame
    assert frame["client_id"].tolist() == ["00731", "C2"]
    assert frame["birth_date"].tolist() == ["1990-01-02", "1991-05-06"]
    assert frame["height_cm"].tolist() == ["168", "170.5"]
    assert frame["_row_number"].tolist() == [2, 4]


def test_parquet_types_become_text(tmp_path):
    p = tmp_path / "sessions.parquet"
    pd.DataFrame(
        {
            "session_id": ["S1"],
            "client_id": ["007"],
            "therapist_id": ["T1"],
            "started_at": [pd.Timestamp("2026-09-02 10:00")],
            "duration_min": [60.0],
            "spine_pressure": [False],
            "techniques": [["rubbing", "kneading"]],
        }
    ).to_parquet(p)
    row = _read(p, "sessions", "parquet").frame.iloc[0]
    assert row["client_id"] == "007"
    assert row["started_at"] == "2026-09-02T10:00:00"
    assert row["duration_min"] == "60"
    assert row["spine_pressure"] == "false"
    assert row["techniques"] == "rubbing;kneading"
    assert row["_row_number"] == 1


def test_truncated_parquet_is_rejected_not_crashing(tmp_path):
    p = tmp_path / "sessions.parquet"
    pd.DataFrame({"session_id": ["S1"] * 100}).to_parquet(p)
    p.write_bytes(p.read_bytes()[:50])
    with pytest.raises(FileRejected, match="cannot read sessions.parquet"):
        _read(p, "sessions", "parquet")


def test_jsonl_read_by_duckdb_keeps_text_as_written_and_reports_extra_keys(tmp_path):
    p = tmp_path / "scores.jsonl"
    lines = [
        '{"session_id": "S1", "timing": "pre", "pain": 4.50, "Mood": "ok"}',
        "",
        '{"timing": "post", "session_id": " S2 ", "pain": 1e1, "mobility": 7}',
        '{"session_id": "S3", "timing": "pre", "pain": 6.0, "recorded_at": "2026-10-01T12:00:00"}',
    ]
    p.write_text("\r\n".join(lines))  # no final line break
    table = _read(p, "scores", "jsonl")
    frame = table.frame
    assert table.extra_columns == ["mood"]
    assert frame["_row_number"].tolist() == [1, 3, 4]
    assert frame["session_id"].tolist() == ["S1", "S2", "S3"]
    assert frame["pain"].tolist() == ["4.50", "1e1", "6.0"]
    assert frame["mobility"].tolist() == [None, "7", None]
    assert frame["_read_error"].isna().all()


def test_csv_read_by_arrow_keeps_text_as_written_and_reports_extra_columns(tmp_path):
    p = tmp_path / "clients.csv"
    p.write_bytes(
        b"\xef\xbb\xbfClient_ID;Birth_Date;Height_CM;Mood\r\n"
        b'00731;1990-01-02;"168,5";"ok; fine"\r\n'
        b" C2 ;  ;170;\r\n"
    )
    table = _read(p)
    frame = table.frame
    assert table.extra_columns == ["mood"]
    assert frame["client_id"].tolist() == ["00731", "C2"]
    assert frame["birth_date"].tolist() == ["1990-01-02", None]
    assert frame["height_cm"].tolist() == ["168,5", "170"]
    assert frame["_row_number"].tolist() == [2, 3]


def test_csv_with_a_value_over_two_lines_takes_the_pandas_path(tmp_path):
    p = tmp_path / "clients.csv"
    p.write_text(CLIENT_HEADER + 'C1,1990-01-02,"1\n2"\n\nC2,1991-01-01,170\n')
    frame = _read(p).frame
    assert frame["height_cm"].tolist() == ["1\n2", "170"]
    assert frame["_row_number"].tolist() == [2, 5]
