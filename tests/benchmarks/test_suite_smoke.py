"""The benchmark command runs end to end at a tiny size, so it cannot rot.

No figure is asserted (speed is measured by `python -m benchmarks`, not by tests); what
is asserted is that every measurement ran and that the floor and the pipeline agree.
"""

from __future__ import annotations

import os
import subprocess
import sys

from pipelines.settings import PROJECT_ROOT


def test_benchmark_command_runs_at_a_tiny_size(tmp_path):
    docs = tmp_path / "performance.md"
    docs.write_text(
        "# Performance\n\nprose before\n<!-- results:start -->\nstale figures\n"
        "<!-- results:end -->\nprose after\n"
    )
    env = {**os.environ, "OUTCOMES_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--clients", "40", "--runs", "2",
         "--generator-clients", "20", "--docs", str(docs)],
        capture_output=True, text=True, env=env, cwd=PROJECT_ROOT, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "courses 0, course_progress 0, cohort_outcomes 0" in out
    for figure in ("full load", "Prefect server start-up", "`outcomes serve` warm-up",
                   "incremental day (warm `outcomes serve`, delivery to archived)",
                   "incremental peak memory (warm worker's process tree)",
                   "incremental day (cold `outcomes ingest`", "generator", "client_detail",
                   "full callback"):  # fmt: skip
        assert figure in out, figure
    written = docs.read_text()
    assert "prose before" in written and "prose after" in written and "stale figures" not in written
    assert "full load (`outcomes ingest`, wall)" in written
    assert (tmp_path / "data" / "benchmarks").is_dir()  # cached where the setting says
