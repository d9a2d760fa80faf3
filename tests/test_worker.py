"""The warm inbox worker's pieces (pipelines/worker.py). The worker as a whole, `outcomes
serve` against a real Prefect server, is tested in tests/test_flows.py."""

from __future__ import annotations

import datetime as dt
import os
import signal
import time

import pytest

from pipelines.store.bookkeeping import FileOutcome, RunSummary
from pipelines.worker import describe_failure, describe_run, next_wait, stop_signals_as_ctrl_c


def test_the_next_look_comes_after_the_interval_or_after_the_retry_wait_when_a_load_failed():
    assert next_wait(interval_s=5, retry_s=60, last_run_failed=False) == 5
    assert next_wait(interval_s=5, retry_s=60, last_run_failed=True) == 60


def test_a_loaded_delivery_is_one_line_with_its_counts():
    summary = RunSummary(run_id="abc123", started_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    summary.files = [FileOutcome("clients.csv", "clients", "loaded"),
                     FileOutcome("visits.csv", None, "rejected", "must start with one of"),
                     FileOutcome("old.csv", "clients", "skipped")]  # fmt: skip
    summary.alerts, summary.status = 2, "succeeded"
    line = describe_run(summary, 1.234)
    assert line == ("loaded 3 file(s) in 1.2 s: 1 loaded, 1 rejected, 1 skipped; alerts 2; "
                    "run abc123 succeeded")  # fmt: skip


def test_a_failure_is_one_line_that_says_the_files_stay_and_when_they_are_tried_again():
    line = describe_failure("WarehouseBusy: another load\n  holds it.", retry_s=60)
    assert "\n" not in line
    assert line == ("load failed: WarehouseBusy: another load holds it. The files stay in the "
                    "inbox; next try in 60 s.")  # fmt: skip


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_and_sigint_stop_like_ctrl_c_inside_and_are_left_as_they_were_outside(signum):
    before = signal.signal(signum, signal.SIG_IGN)  # e.g. SIGINT under nohup
    try:
        with pytest.raises(KeyboardInterrupt), stop_signals_as_ctrl_c():
            os.kill(os.getpid(), signum)
            time.sleep(5)  # interrupted at once
        assert signal.getsignal(signum) is signal.SIG_IGN
    finally:
        signal.signal(signum, before)
