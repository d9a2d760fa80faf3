"""The temporary Prefect API server the CLI starts dies with it, even on kill -9.

A real `outcomes ingest` without PREFECT_API_URL starts Prefect's temporary server; the
test lets it run until its first file is read (the server is up: the flow run is under
way), then the ingest kills itself with SIGKILL (pipelines/crash_points.py). Its server
processes are found by a tag in their environment (they inherit it) and must be gone
within a few seconds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from pipelines.crash_points import KILL_AT_ENV

ROOT = Path(__file__).resolve().parents[1]
TAG_ENV = "OUTCOMES_TEST_TAG"


def _tagged(tag: str) -> set[int]:
    """Processes whose environment holds `tag` (descendants of the tagged ingest)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if f"{TAG_ENV}={tag}".encode() in environ.split(b"\0"):
            found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_killed_ingest_leaves_no_temporary_prefect_server(tmp_path, examples_dir):
    tag = uuid.uuid4().hex
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update({TAG_ENV: tag, KILL_AT_ENV: "after_read"})
    log = tmp_path / "ingest.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pipelines.cli", "ingest", str(examples_dir),
             "--db", str(tmp_path / "warehouse.duckdb")],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    servers: set[int] = set()
    try:
        deadline = time.monotonic() + 300
        while proc.poll() is None and time.monotonic() < deadline:
            servers |= _tagged(tag) - {proc.pid}
            time.sleep(0.1)
        assert proc.wait(timeout=5) == -signal.SIGKILL, log.read_text()
        assert servers, "no temporary server was seen while the ingest ran"
        gone_by = time.monotonic() + 10
        while any(map(_alive, servers)) and time.monotonic() < gone_by:
            time.sleep(0.1)
        assert not any(map(_alive, servers)), "the temporary Prefect server outlived the ingest"
    finally:
        for pid in _tagged(tag):  # whatever this test started and is still there
            os.kill(pid, signal.SIGKILL)
