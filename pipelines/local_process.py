"""Local helper processes (a Prefect server, the dashboard) for tests, benchmarks and
screenshots: a free loopback port, and a process that is ready once its URL answers."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(
    command: list[str], ready_url: str, log_path: Path, timeout_s: float, **popen_kwargs
) -> Iterator[subprocess.Popen]:
    """Start `command` (output to `log_path`), yield it once `ready_url` answers 200, and
    stop it on exit (terminate, then kill after 30 s)."""
    with log_path.open("w") as log:
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, **popen_kwargs)
        try:
            _wait_until_ready(proc, ready_url, log_path, timeout_s)
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def _wait_until_ready(proc: subprocess.Popen, url: str, log_path: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"{' '.join(map(str, proc.args[:4]))} exited with {proc.returncode}; "
                f"its output ({log_path}):\n{log_path.read_text()[-4000:]}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout_s} s; see {log_path}")
