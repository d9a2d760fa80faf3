"""Named moments at which the crash-safety tests kill or pause a load.

`outcomes ingest` calls :func:`crash_point` at each moment; when the environment
variable ``OUTCOMES_TEST_KILL_AT`` names it, the process kills itself with SIGKILL —
no clean-up, no `finally`, exactly like a power cut. Unset, it costs one dict lookup.

:func:`pause_point` lets a test change the world at a moment of the load (a file swapped
while it is read): with ``OUTCOMES_TEST_PAUSE_AT=<name>:<folder>`` the first call of that
name creates ``<folder>/reached`` and waits until ``<folder>/go`` exists (at most 120 s).
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

KILL_AT_ENV = "OUTCOMES_TEST_KILL_AT"
PAUSE_AT_ENV = "OUTCOMES_TEST_PAUSE_AT"
POINTS = (
    "after_read",  # a file has been read, nothing written yet
    "mid_transaction",  # history rows inserted, transaction not committed
    "writing_load_log",  # load_log row written, transaction not committed
    "after_file_commit",  # a file committed to the working copy, run not published
    "rebuilding_derived",  # marts rebuilt, transaction not committed
    "before_publish",  # the working copy is complete, not yet moved into place
)
PAUSE_POINTS = ("reading", *POINTS)
"""`reading`: a chunk of a delivery file has been read and hashed (snapshot.py)."""
_paused: set[str] = set()


def crash_point(name: str) -> None:
    if os.environ.get(KILL_AT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
    pause_point(name)


def pause_point(name: str) -> None:
    wanted = os.environ.get(PAUSE_AT_ENV)
    if not wanted or name in _paused or not wanted.startswith(f"{name}:"):
        return
    _paused.add(name)
    folder = Path(wanted.split(":", 1)[1])
    (folder / "reached").touch()
    deadline = time.monotonic() + 120
    while not (folder / "go").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
