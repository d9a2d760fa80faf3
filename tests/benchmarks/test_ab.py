"""benchmarks/ab.py runs end to end at a tiny size, a checkout against itself (no figure is
asserted: speed is measured by running it, not by tests)."""

from __future__ import annotations

import os
import subprocess
import sys

from pipelines.settings import PROJECT_ROOT


def test_ab_times_both_loads_of_both_checkouts_in_pairs(tmp_path):
    env = {**os.environ, "OUTCOMES_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.ab", "--baseline", str(PROJECT_ROOT),
         "--clients", "30", "--pairs", "2"],
        capture_output=True, text=True, env=env, cwd=PROJECT_ROOT, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    for side, pair in (("A", 1), ("B", 1), ("B", 2), ("A", 2)):  # the order alternates
        assert f"pair {pair} {side}: full load" in out
    rows = [line for line in out.splitlines() if line.startswith("| full load")
            or line.startswith("| incremental day")]  # fmt: skip
    assert len(rows) == 2 and all(" × |" in row for row in rows)


def test_ab_refuses_a_folder_that_is_not_a_checkout(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.ab", "--baseline", str(tmp_path)],
        capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2 and "is not a checkout of this product" in done.stderr
