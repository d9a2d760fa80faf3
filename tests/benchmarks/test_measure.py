"""The benchmark's memory figure counts the whole process tree, not just its biggest process."""

from __future__ import annotations

import json
import subprocess
import sys

from pipelines.settings import PROJECT_ROOT

# a parent holding ~150 MB starts a child holding ~150 MB: one process never holds 250 MB
COMMAND = [
    sys.executable,
    "-c",
    "import subprocess, sys, time\n"
    "held = b'x' * 150_000_000\n"
    "subprocess.run([sys.executable, '-c', \"held = b'y' * 150_000_000; import time; "
    'time.sleep(1.5)"])\n',
]


def test_peak_memory_sums_a_command_and_its_children(tmp_path):
    result = tmp_path / "m.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.measure", str(result), "--", *COMMAND],
        cwd=PROJECT_ROOT, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0
    measured = json.loads(result.read_text())
    assert measured["tree_peak_rss_mb"] > 250
    assert measured["peak_rss_mb"] >= measured["tree_peak_rss_mb"]
