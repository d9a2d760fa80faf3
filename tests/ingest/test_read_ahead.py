"""XLSX files read in a reader process: the same result (or rejection) as reading them here,
from the bytes the run hashed, and never for longer than the time limit."""

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
from pipelines.ingest.snapshot import take_snapshot

MAX_LINE = 1 << 20
TIMEOUT_S = 120.0


def _clients_xlsx(path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Client_ID", "birth_date", "height_cm", "notes"])
    ws.append(["00731", pd.Timestamp("1990-01-02").to_pydatetime(), 168.0, "x"])
    ws.append(["C2", "1991-05-06", 170.5, None])
    wb.save(path)
    return path


def _ahead(*files, timeout_s: float = TIMEOUT_S) -> ReadAhead:
    return ReadAhead([(f, take_snapshot(f.path)) for f in files], timeout_s)


def test_a_file_read_ahead_gives_what_reading_it_here_gives(tmp_path):
    f = classify(_clients_xlsx(tmp_path / "clients.xlsx"))
    here = read_delivery_file(f.path, f.entity, f.format, MAX_LINE)
    with _ahead(f) as ahead:
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
    with _ahead(f) as ahead, pytest.raises(FileRejected) as there:
        ahead.read(f)
    assert str(there.value) == str(here.value) and "clients.xlsx" in str(there.value)


def test_a_file_not_read_ahead_is_read_in_the_worker_when_asked(tmp_path):
    one = classify(_clients_xlsx(tmp_path / "clients.xlsx"))
    with _ahead() as nothing:
        assert not nothing.pending and nothing.snapshot(one) is None
        got = nothing.read(one, take_snapshot(one.path))
    assert got.frame["client_id"].tolist() == ["00731", "C2"]


def test_a_dead_worker_is_replaced_and_the_file_read_again(tmp_path):
    one = classify(_clients_xlsx(tmp_path / "clients.xlsx"))
    with _ahead(one) as ahead:
        # the worker dies while it is still starting (it imports pandas first): kill -9, OOM
        for pid in list(ahead._pool._processes):
            os.kill(pid, signal.SIGKILL)
        assert ahead.read(one).frame["client_id"].tolist() == ["00731", "C2"]


def test_the_worker_parses_the_bytes_that_were_hashed_not_the_file_now(tmp_path):
    f = classify(_clients_xlsx(tmp_path / "clients.xlsx"))
    snap = take_snapshot(f.path)
    wb = openpyxl.Workbook()
    wb.active.append(["client_id", "birth_date"])
    wb.active.append(["SWAPPED", "1990-01-01"])
    wb.save(f.path)  # the file changes after it was read and hashed
    with ReadAhead([(f, snap)], TIMEOUT_S) as ahead:
        assert ahead.snapshot(f).digest == snap.digest
        assert ahead.read(f).frame["client_id"].tolist() == ["00731", "C2"]
