"""XLSX files read in a worker process: the same result (or rejection) as reading them here."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from pipelines.ingest.discover import classify
from pipelines.ingest.read_ahead import ReadAhead
from pipelines.ingest.readers import FileRejected, read_delivery_file

MAX_LINE = 1 << 20


def _clients_xlsx(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Client_ID", "birth_date", "height_cm", "notes"])
    ws.append(["00731", pd.Timestamp("1990-01-02").to_pydatetime(), 168.0, "x"])
    ws.append(["C2", "1991-05-06", 170.5, None])
    wb.save(path)
    return path


def test_a_file_read_ahead_gives_what_reading_it_here_gives(tmp_path):
    f = classify(_clients_xlsx(tmp_path / "clients.xlsx"))
    here = read_delivery_file(f.path, f.entity, f.format, MAX_LINE)
    with ReadAhead([f], MAX_LINE) as ahead:
        assert ahead.pending
        got = ahead.read(f)
        assert not ahead.pending
    pd.testing.assert_frame_equal(got.frame, here.frame)
    assert got.extra_columns == here.extra_columns == ["notes"]


def test_a_rejection_in_the_worker_is_the_same_rejection(tmp_path):
    f = classify(tmp_path / "clients.xlsx")
    f.path.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(FileRejected) as here:
        read_delivery_file(f.path, f.entity, f.format, MAX_LINE)
    with ReadAhead([f], MAX_LINE) as ahead, pytest.raises(FileRejected) as there:
        ahead.read(f)
    assert str(there.value) == str(here.value) and "clients.xlsx" in str(there.value)


def test_files_not_read_ahead_and_a_dead_worker_leave_the_read_to_the_caller(tmp_path):
    one = classify(_clients_xlsx(tmp_path / "clients.xlsx"))
    other = classify(_clients_xlsx(tmp_path / "clients_b.xlsx"))
    with ReadAhead([], MAX_LINE) as nothing:
        assert not nothing.pending and nothing.read(one) is None
    with ReadAhead([one], MAX_LINE) as ahead:
        assert ahead.read(other) is None
        # the worker dies while it is still starting (it imports pandas first): kill -9, OOM
        for pid in list(ahead._pool._processes):
            os.kill(pid, signal.SIGKILL)
        assert ahead.read(one) is None
