"""Hostile delivery files: each gets a clear per-file message, the rest still loads.

Unit level: `read_delivery_file` (+ the normaliser for row-level faults). End to end: one
real `outcomes ingest` (CLI subprocess, real Prefect server, real DuckDB file) of a folder
holding every hostile file next to the valid example files.

Decisions (docs/reliability.md): a header-only file is *loaded* with 0 rows (an export
with nothing new is not an error); a 0-byte file is *rejected* (nothing to tell what it
is); a CSV/JSONL line longer than ``max_line_bytes`` rejects the file before parsing.
"""

from __future__ import annotations

import json
import shutil
import time
import tracemalloc
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from pipelines.ingest.normalise import normalise
from pipelines.ingest.prepare import combine_reasons
from pipelines.ingest.readers import FileRejected, read_delivery_file
from pipelines.schema import READ_ERROR

BIG_LINE_BYTES = 50 * 1024 * 1024
FORMULA = '=HYPERLINK("http://x","y")'
SESSIONS_HEADER = ["session_id", "client_id", "therapist_id", "started_at", "notes"]


# --- the hostile files (shared by the unit tests and the end-to-end run) ----------------


def empty_file(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def header_only(path: Path) -> Path:
    path.write_text("therapist_id,name,qualification\n")
    return path


def binary_garbage(path: Path) -> Path:
    path.write_bytes(bytes(range(256)) * 64 + b"\x89PNG\r\n\x1a\n\x00\x00")
    return path


def truncated_parquet(path: Path) -> Path:
    pd.DataFrame(
        {"session_id": [f"S{i}" for i in range(200)], "timing": ["pre"] * 200, "pain": 3.0}
    ).to_parquet(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def merged_cells_xlsx(path: Path) -> Path:
    """First sheet: sessions with a merged client_id block; second sheet: other data."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "sessions"
    ws.append(SESSIONS_HEADER)
    ws.append(["S0101", "C001", "T01", "2026-09-10T10:00:00", "first"])
    ws.append(["S0102", "C001", "T01", "2026-09-11T10:00:00", "second"])  # C001 merged away
    ws.append(["S0103", "C003", "T02", "2026-09-12T10:00:00", "notes merged"])
    ws.append(["S0104", "C003", "T02", "2026-09-13T10:00:00", None])
    ws.merge_cells("B2:B3")  # client_id of S0102 becomes a blank cell
    ws.merge_cells("E4:E5")  # notes of S0104 blank (not required: still loads)
    other = wb.create_sheet("summary")
    other.append(["session_id", "client_id", "therapist_id", "started_at"])
    other.append(["S9999", "C001", "T01", "2026-09-10T10:00:00"])
    wb.active = 1  # opened on the second sheet: the first one is still the one read
    wb.save(path)
    return path


def one_huge_line(path: Path) -> Path:
    chunk = b"client_id,birth_date," + b"x" * (1024 * 1024 - 21)
    with path.open("wb") as fh:  # 50 MB, no newline at all
        for _ in range(BIG_LINE_BYTES // len(chunk)):
            fh.write(chunk)
    return path


def latin1_text(path: Path) -> Path:
    path.write_bytes("client_id,name,birth_date\nC901,José,1990-01-01\n".encode("latin-1"))
    return path


def duplicate_columns(path: Path) -> Path:
    path.write_text("therapist_id,Name, NAME \nT9,A,B\n")
    return path


def nested_jsonl(path: Path) -> Path:
    lines = [
        {"session_id": "S0002", "timing": "post", "pain": 3, "muscle_tone": 4, "mobility": 6},
        {"session_id": "S0003", "timing": "post", "pain": {"value": 2}, "mobility": 5},
        {"session_id": "S0004", "client_id": ["C002"], "timing": "pre", "pain": 5},
        {"session_id": {"id": "S0001"}, "timing": "post", "pain": 1},
        {"session_id": "S0004", "timing": "post", "pain": [[1, 2]], "mobility": 1},
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n")
    return path


def formula_notes(path: Path) -> Path:
    quoted = FORMULA.replace('"', '""')
    path.write_text(
        ",".join(SESSIONS_HEADER) + "\n"
        f'S0201,C002,T02,2026-09-20T09:00:00,"{quoted}"\n'
        "S0202,C002,T02,2026-09-21T09:00:00,+1 tender\n"
    )
    return path


# --- unit level ---------------------------------------------------------------------------


def _read(path: Path, entity: str, fmt: str):
    return read_delivery_file(path, entity, fmt)


@pytest.mark.parametrize(
    ("name", "entity", "fmt"),
    [
        ("clients.csv", "clients", "csv"),
        ("scores.jsonl", "scores", "jsonl"),
        ("clients.xlsx", "clients", "xlsx"),
        ("sessions.parquet", "sessions", "parquet"),
    ],
)
def test_an_empty_file_of_any_format_is_rejected_as_empty(tmp_path, name, entity, fmt):
    with pytest.raises(FileRejected, match=rf"{name}: the file is empty \(0 bytes\)"):
        _read(empty_file(tmp_path / name), entity, fmt)


def test_a_header_only_csv_reads_as_zero_rows(tmp_path):
    table = _read(header_only(tmp_path / "therapists.csv"), "therapists", "csv")
    assert len(table.frame) == 0
    assert "therapist_id" in table.frame.columns
    typed = normalise(table.frame, "therapists", "UTC")
    assert len(typed.typed) == 0 and typed.parse_errors == {}


def test_binary_garbage_named_csv_is_rejected_as_binary(tmp_path):
    with pytest.raises(FileRejected, match=r"sessions.csv: binary content"):
        _read(binary_garbage(tmp_path / "sessions.csv"), "sessions", "csv")


def test_binary_garbage_named_jsonl_is_rejected_as_binary(tmp_path):
    with pytest.raises(FileRejected, match=r"scores.jsonl: binary content"):
        _read(binary_garbage(tmp_path / "scores.jsonl"), "scores", "jsonl")


def test_truncated_parquet_is_rejected_with_the_reader_s_reason(tmp_path):
    with pytest.raises(FileRejected, match=r"cannot read scores.parquet as parquet: .*"):
        _read(truncated_parquet(tmp_path / "scores.parquet"), "scores", "parquet")


def test_xlsx_uses_the_first_sheet_and_merged_cells_read_as_blank(tmp_path):
    frame = _read(merged_cells_xlsx(tmp_path / "sessions.xlsx"), "sessions", "xlsx").frame
    assert frame["session_id"].tolist() == ["S0101", "S0102", "S0103", "S0104"]
    assert frame["client_id"].tolist() == ["C001", None, "C003", "C003"]
    assert frame["notes"].tolist() == ["first", "second", "notes merged", None]
    assert frame["_row_number"].tolist() == [2, 3, 4, 5]


def test_a_50_mb_line_is_rejected_quickly_without_reading_it_into_memory(tmp_path):
    path = one_huge_line(tmp_path / "clients.csv")
    assert path.stat().st_size >= BIG_LINE_BYTES - 1024 * 1024
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(FileRejected, match=r"clients.csv: line 1 is longer than"):
            _read(path, "clients", "csv")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - t0 < 5
    assert peak < 16 * 1024 * 1024  # far less than the 50 MB line


def test_a_huge_jsonl_line_is_rejected_too(tmp_path):
    path = tmp_path / "scores.jsonl"
    path.write_text(json.dumps({"session_id": "S1", "notes": "x" * 3_000_000}) + "\n")
    with pytest.raises(FileRejected, match=r"scores.jsonl: line 1 is longer than"):
        _read(path, "scores", "jsonl")


def test_latin1_text_is_rejected_naming_the_byte_offset_and_line(tmp_path):
    path = latin1_text(tmp_path / "clients.csv")
    offset = path.read_bytes().index(b"\xe9")
    with pytest.raises(
        FileRejected, match=rf"not UTF-8 text \(byte 0xe9 at offset {offset}, line 2\)"
    ):
        _read(path, "clients", "csv")


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_duplicate_column_names_reject_the_file(tmp_path, fmt):
    path = tmp_path / f"therapists.{fmt}"
    if fmt == "csv":
        duplicate_columns(path)
    elif fmt == "xlsx":
        wb = openpyxl.Workbook()
        wb.active.append(["therapist_id", "Name", " NAME "])
        wb.active.append(["T9", "A", "B"])
        wb.save(path)
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(
            pa.table([["T9"], ["A"], ["B"]], names=["therapist_id", "Name", " NAME "]), path
        )
    with pytest.raises(FileRejected, match=r"duplicate column name\(s\) name"):
        _read(path, "therapists", fmt)


def _reasons(path: Path, entity: str, fmt: str) -> dict[str, list[str]]:
    """Row number -> reasons from reading and typing (the GX rules are not involved)."""
    frame = _read(path, entity, fmt).frame
    normalised = normalise(frame, entity, "UTC")
    reasons = combine_reasons(normalised.parse_errors, {})
    return {int(frame.at[pos, "_row_number"]): r for pos, r in reasons.items()}


def test_nested_json_values_quarantine_their_row_with_a_reason(tmp_path):
    reasons = _reasons(nested_jsonl(tmp_path / "scores.jsonl"), "scores", "jsonl")
    assert set(reasons) == {2, 3, 4, 5}  # line 1 is fine
    assert any("pain: a JSON object where a single value is expected" in r for r in reasons[2])
    assert any("client_id: a JSON list where a single value is expected" in r for r in reasons[3])
    assert any("session_id: a JSON object" in r for r in reasons[4])
    assert any("pain: a JSON list" in r for r in reasons[5])


def test_a_flat_json_list_in_a_list_column_is_still_accepted(tmp_path):
    path = tmp_path / "sessions.jsonl"
    row = {"session_id": "S1", "client_id": "C1", "therapist_id": "T1",
           "started_at": "2026-09-02T10:00:00", "techniques": ["Rubbing", "kneading"]}  # fmt: skip
    path.write_text(json.dumps(row) + "\n")
    assert _reasons(path, "sessions", "jsonl") == {}
    frame = _read(path, "sessions", "jsonl").frame
    assert frame.at[0, "techniques"] == "Rubbing;kneading"


def test_jsonl_keys_that_collide_after_trimming_and_case_folding_quarantine_the_row(tmp_path):
    path = tmp_path / "scores.jsonl"
    path.write_text(
        '{"session_id": "S1", "timing": "pre", "pain": 3}\n'
        '{"session_id": "S2", "Pain": 3, "pain ": 4, "timing": "pre"}\n'
    )
    reasons = _reasons(path, "scores", "jsonl")
    assert list(reasons) == [2]
    assert any("duplicate key(s) pain" in r for r in reasons[2])


def test_jsonl_lines_split_only_at_newlines_not_at_unicode_line_separators(tmp_path):
    path = tmp_path / "sessions.jsonl"
    rows = [
        {"session_id": "S1", "client_id": "C1", "therapist_id": "T1",
         "started_at": "2026-09-02T10:00:00", "notes": "left\u2028right\x0cmid\x85end"},
        {"session_id": "S2", "client_id": "C1", "therapist_id": "T1",
         "started_at": "2026-09-03T10:00:00"},
    ]  # fmt: skip
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\r\n")
    frame = _read(path, "sessions", "jsonl").frame
    assert frame["_row_number"].tolist() == [1, 2]
    assert frame.at[0, "notes"] == "left\u2028right\x0cmid\x85end"
    assert frame[READ_ERROR].isna().all()


def test_deeply_nested_json_is_a_row_fault_not_a_crash(tmp_path):
    path = tmp_path / "scores.jsonl"
    path.write_text(
        '{"session_id": "S1", "timing": "pre", "pain": 3}\n'
        '{"session_id": "S2", "timing": "pre", "pain": ' + "[" * 100_000 + "]" * 100_000 + "}\n"
    )
    reasons = _reasons(path, "scores", "jsonl")
    assert list(reasons) == [2]


def test_formula_like_text_is_read_unchanged(tmp_path):
    frame = _read(formula_notes(tmp_path / "sessions.csv"), "sessions", "csv").frame
    assert frame["notes"].tolist() == [FORMULA, "+1 tender"]


# --- end to end: one real `outcomes ingest` of everything ---------------------------------

HOSTILE = {
    "clients_empty.csv": empty_file,
    "therapists_header_only.csv": header_only,
    "sessions_garbage.csv": binary_garbage,
    "scores_truncated.parquet": truncated_parquet,
    "sessions_merged.xlsx": merged_cells_xlsx,
    "clients_one_line.csv": one_huge_line,
    "clients_latin1.csv": latin1_text,
    "therapists_dupcols.csv": duplicate_columns,
    "scores_nested.jsonl": nested_jsonl,
    "sessions_formula.csv": formula_notes,
}
REJECTED = {
    "clients_empty.csv": "the file is empty (0 bytes)",
    "sessions_garbage.csv": "binary content",
    "scores_truncated.parquet": "cannot read scores_truncated.parquet as parquet",
    "clients_one_line.csv": "line 1 is longer than",
    "clients_latin1.csv": "not UTF-8 text (byte 0xe9 at offset",
    "therapists_dupcols.csv": "duplicate column name(s) name",
}


@pytest.fixture(scope="module")
def hostile_run(prefect_api, module_cli, examples_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    delivery = folder / "delivery"
    delivery.mkdir()
    for example in examples_dir.iterdir():
        shutil.copyfile(example, delivery / example.name)
    for name, make in HOSTILE.items():
        make(delivery / name)
    db = folder / "warehouse.duckdb"
    t0 = time.perf_counter()
    proc = module_cli("ingest", str(delivery), "--db", str(db), api_url=prefect_api, check=False)
    return proc, db, time.perf_counter() - t0


def _log(query, db) -> dict[str, tuple]:
    rows = query(
        db,
        "SELECT source_file, status, rows_read, rows_loaded, rows_quarantined, message "
        "FROM load_log",
    )
    return {Path(r[0]).name: r[1:] for r in rows}


def test_the_run_succeeds_and_prints_each_rejection(hostile_run):
    proc, _, elapsed = hostile_run
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = " ".join(proc.stdout.split())  # rich wraps long lines
    for name in REJECTED:
        assert name in out
    assert "files: 8 loaded, 6 rejected" in out
    assert elapsed < 120


def test_every_valid_example_file_loads_fully(hostile_run, query):
    _, db, _ = hostile_run
    log = _log(query, db)
    for name in ("clients.csv", "therapists.csv", "sessions.csv", "scores.jsonl"):
        status, read, loaded, quarantined, _ = log[name]
        assert (status, quarantined) == ("loaded", 0) and read == loaded > 0, name
    assert query(db, "SELECT count(*) FROM clients") == [(3,)]
    assert query(db, "SELECT count(*) FROM therapists") == [(2,)]


def test_each_hostile_file_has_its_message(hostile_run, query, examples_dir):
    _, db, _ = hostile_run
    log = _log(query, db)
    assert set(log) == set(HOSTILE) | {p.name for p in examples_dir.iterdir()}
    for name, message in REJECTED.items():
        status, read, loaded, _, text = log[name]
        assert status == "rejected" and (read, loaded) == (0, 0), name
        assert name in text and message in text, (name, text)
    assert log["therapists_header_only.csv"][:4] == ("loaded", 0, 0, 0)
    assert log["sessions_merged.xlsx"][:4] == ("loaded", 4, 3, 1)
    assert log["scores_nested.jsonl"][:4] == ("loaded", 5, 1, 4)
    assert log["sessions_formula.csv"][:4] == ("loaded", 2, 2, 0)


def test_row_level_faults_are_quarantined_with_reasons(hostile_run, query):
    _, db, _ = hostile_run
    rows = query(db, "SELECT source_file, row_number, reasons FROM quarantine")
    by_row = {(Path(f).name, n): r for f, n, r in rows}
    assert set(by_row) == {("sessions_merged.xlsx", 3)} | {
        ("scores_nested.jsonl", n) for n in (2, 3, 4, 5)
    }
    assert any(
        "client_id: required value is missing" in r for r in by_row[("sessions_merged.xlsx", 3)]
    )
    assert any(
        "a JSON object where a single value" in r for r in by_row[("scores_nested.jsonl", 2)]
    )
    assert any("a JSON list where a single value" in r for r in by_row[("scores_nested.jsonl", 3)])
    sessions = dict(query(db, "SELECT session_id, client_id FROM sessions"))
    assert {"S0101", "S0103", "S0104"} <= set(sessions) and "S0102" not in sessions
    assert "S9999" not in sessions  # second sheet ignored
    scores = query(db, "SELECT session_id, timing, pain FROM scores WHERE timing = 'post'")
    assert ("S0002", "post", 3.0) in scores


def test_formula_text_is_stored_unchanged(hostile_run, query):
    _, db, _ = hostile_run
    notes = dict(query(db, "SELECT session_id, notes FROM sessions WHERE session_id LIKE 'S02%'"))
    assert notes == {"S0201": FORMULA, "S0202": "+1 tender"}
