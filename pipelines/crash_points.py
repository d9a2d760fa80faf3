"""Named moments at which the crash-safety tests kill a load with SIGKILL.

`outcomes ingest` calls :func:`crash_point` at each moment; when the environment
variable ``OUTCOMES_TEST_KILL_AT`` names it, the process kills itself with SIGKILL —
no clean-up, no `finally`, exactly like a power cut. Unset, it costs one dict lookup.
"""

from __future__ import annotations

import os
import signal

KILL_AT_ENV = "OUTCOMES_TEST_KILL_AT"
POINTS = (
    "after_read",  # a file has been read, nothing written yet
    "mid_transaction",  # history rows inserted, transaction not committed
    "writing_load_log",  # load_log row written, transaction not committed
    "after_file_commit",  # a file committed to the working copy, run not published
    "rebuilding_derived",  # marts rebuilt, transaction not committed
    "before_publish",  # the working copy is complete, not yet moved into place
)


def crash_point(name: str) -> None:
    if os.environ.get(KILL_AT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
