"""XLSX reads are bounded: a sheet reaching beyond the row/column bounds is rejected at once
(the 5 KB file with one formatted cell at XFD1048576 took minutes), and a read that takes
longer than read_timeout_s is stopped and its file rejected, in the reader process, while
the files after it still load.
"""

from __future__ import annotations

import re
import shutil
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from openpyxl.styles import Font

from pipelines.ingest.discover import classify
from pipelines.ingest.read_ahead import ReadAhead
from pipelines.ingest.readers import FileRejected, read_delivery_file
from pipelines.ingest.snapshot import take_snapshot


def far_cell_xlsx(path: Path, lie: bool = False) -> Path:
    """Two therapists and one formatted empty cell at the sheet's last address; with `lie`,
    the sheet declares a small used range all the same."""
    wb = openpyxl.Workbook()
    wb.active.append(["therapist_id", "name"])
    wb.active.append(["T1", "A"])
    wb.active["XFD1048576"].font = Font(bold=True)
    wb.save(path)
    if lie:
        with zipfile.ZipFile(path) as z:
            parts = {n: z.read(n) for n in z.namelist()}
        sheet = "xl/worksheets/sheet1.xml"
        parts[sheet] = re.sub(
            rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:B2"/>', parts[sheet]
        )
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in parts.items():
                z.writestr(name, data)
    return path


def slow_xlsx(path: Path, rows: int = 40_000) -> Path:
    """A valid workbook that takes several seconds to read."""
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append(["therapist_id", "name", *(f"extra_{i}" for i in range(10))])
    for i in range(rows):
        ws.append([f"T{i}", "name", *range(10)])
    wb.save(path)
    return path


@pytest.mark.parametrize("lie", [False, True], ids=["declared", "found"])
def test_a_cell_at_the_last_address_rejects_the_file_at_once(tmp_path, lie):
    path = far_cell_xlsx(tmp_path / "therapists.xlsx", lie)
    assert path.stat().st_size < 10_000
    t0 = time.perf_counter()
    with pytest.raises(FileRejected) as rejected:
        read_delivery_file(path, "therapists", "xlsx")
    assert time.perf_counter() - t0 < 10
    message = str(rejected.value)
    assert "its first sheet reaches" in message and "16,384" in message
    assert "settings xlsx_max_rows, xlsx_max_columns" in message


def test_a_sheet_within_the_bounds_still_reads(tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(["therapist_id", "name"])
    wb.active.append(["T1", "A"])
    wb.active["H40"].font = Font(bold=True)  # a stray formatted cell, well within bounds
    wb.save(tmp_path / "therapists.xlsx")
    frame = read_delivery_file(tmp_path / "therapists.xlsx", "therapists", "xlsx").frame
    assert frame["therapist_id"].tolist() == ["T1"]


def test_a_read_over_the_time_limit_is_stopped_and_the_next_file_still_reads(tmp_path):
    slow = classify(slow_xlsx(tmp_path / "therapists_slow.xlsx"))
    wb = openpyxl.Workbook()
    wb.active.append(["therapist_id"])
    wb.active.append(["T9"])
    wb.save(tmp_path / "therapists_fine.xlsx")
    fine = classify(tmp_path / "therapists_fine.xlsx")
    t0 = time.perf_counter()
    with ReadAhead([(f, take_snapshot(f.path)) for f in (slow, fine)], timeout_s=3) as ahead:
        with pytest.raises(FileRejected, match=r"took longer than 3 s \(setting read_timeout_s\)"):
            ahead.read(slow)
        stopped = time.perf_counter() - t0
        assert ahead.read(fine).frame["therapist_id"].tolist() == ["T9"]
    assert stopped < 8
    t0 = time.perf_counter()  # unbounded, the same read takes longer than the limit
    read_delivery_file(slow.path, "therapists", "xlsx")
    assert time.perf_counter() - t0 > 3


def test_ingest_rejects_the_slow_and_the_far_workbooks_and_loads_the_rest(
    tmp_path, examples_dir, prefect_api, module_cli, query
):
    delivery = tmp_path / "delivery"
    shutil.copytree(examples_dir, delivery)
    far_cell_xlsx(delivery / "therapists_far.xlsx")
    slow_xlsx(delivery / "therapists_slow.xlsx")
    db = tmp_path / "warehouse.duckdb"
    t0 = time.perf_counter()
    proc = module_cli("ingest", str(delivery), "--db", str(db), api_url=prefect_api,
                      check=False, OUTCOMES_READ_TIMEOUT_S="3")  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert time.perf_counter() - t0 < 120
    log = {Path(f).name: (s, m) for f, s, m in query(
        db, "SELECT source_file, status, message FROM load_log")}  # fmt: skip
    assert log["therapists_far.xlsx"][0] == "rejected"
    assert "its first sheet reaches" in log["therapists_far.xlsx"][1]
    assert log["therapists_slow.xlsx"] == (
        "rejected",
        "therapists_slow.xlsx: reading it took longer than 3 s (setting read_timeout_s); "
        "the read was stopped",
    )
    assert {s for n, (s, _) in log.items() if not n.startswith("therapists_")} == {"loaded"}
