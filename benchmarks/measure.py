"""Run one command as a child and report its wall time and peak memory.

    python -m benchmarks.measure RESULT.json -- COMMAND ARGS...

A separate process per measurement, so the peak RSS (``RUSAGE_CHILDREN``: the largest
child waited for) belongs to that command alone.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    result, separator, *command = argv
    assert separator == "--", "usage: python -m benchmarks.measure RESULT.json -- COMMAND..."
    started = time.perf_counter()
    code = subprocess.run(command).returncode
    seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    Path(result).write_text(json.dumps(
        {"seconds": seconds, "peak_rss_mb": peak_kb / 1024, "returncode": code}
    ))  # fmt: skip
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
