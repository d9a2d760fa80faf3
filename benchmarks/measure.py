"""Run one command as a child and report its wall time and peak memory.

    python -m benchmarks.measure RESULT.json -- COMMAND ARGS...

A separate process per measurement, so the peak belongs to that command alone. The peak is
the larger of the biggest single process (``RUSAGE_CHILDREN``, exact) and the largest sum
of resident memory over the command's whole process tree, sampled every
:data:`SAMPLE_S` (the load reads XLSX files in a worker process beside its own).
"""

from __future__ import annotations

import contextlib
import json
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

SAMPLE_S = 0.05
"""How often the process tree's memory is summed."""


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):  # the process ended meanwhile
            found += [int(p) for p in task.read_text().split()]
    return found


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_kb(root: int) -> int:
    """Resident memory of `root` and all its descendants, in KB (Linux /proc)."""
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += _rss_kb(pid)
        todo += _children(pid)
    return total


def _sample_peak(proc: subprocess.Popen, peak: list[int]) -> None:
    while proc.poll() is None:
        peak[0] = max(peak[0], tree_rss_kb(proc.pid))
        time.sleep(SAMPLE_S)


def main(argv: list[str]) -> int:
    result, separator, *command = argv
    assert separator == "--", "usage: python -m benchmarks.measure RESULT.json -- COMMAND..."
    started = time.perf_counter()
    proc = subprocess.Popen(command)
    tree_peak = [0]
    sampler = threading.Thread(target=_sample_peak, args=(proc, tree_peak), daemon=True)
    sampler.start()
    code = proc.wait()
    seconds = time.perf_counter() - started
    sampler.join()
    single_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    Path(result).write_text(json.dumps(
        {"seconds": seconds, "peak_rss_mb": max(single_kb, tree_peak[0]) / 1024,
         "tree_peak_rss_mb": tree_peak[0] / 1024, "returncode": code}
    ))  # fmt: skip
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
