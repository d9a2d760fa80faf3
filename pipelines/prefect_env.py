"""Environment Prefect needs before it is imported (shared/notes/dependencies.md).

By default the CLI runs flows against a temporary local Prefect API that Prefect
starts itself. To use a long-running server instead, start `prefect server start`
and export ``PREFECT_API_URL=http://127.0.0.1:4200/api``; nothing else changes.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from pipelines.settings import Settings

DEFAULTS = {
    # analytics on a fresh PREFECT_HOME make the server fail with "database is locked"
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    # the temporary server needs ~25 s to start on a new home on a 2-core machine
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
    "PREFECT_LOGGING_LEVEL": "WARNING",
}


def configure_prefect(settings: Settings) -> None:
    """Set Prefect's environment unless the user already chose (call before importing it)."""
    home = settings.path("prefect_home")
    home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("PREFECT_HOME", str(home))
    for key, value in DEFAULTS.items():
        os.environ.setdefault(key, value)


class LocalPrefectServer:
    """A `prefect server start` of our own on a free loopback port, for tests and benchmarks.

    Used as a context manager; ``url`` is its API URL and ``startup_s`` how long it took
    to answer its health check (reported apart from the work measured against it).
    """

    def __init__(self, home: Path, log: Path, timeout_s: float = 180) -> None:
        self.home, self.log_path, self.timeout_s = home, log, timeout_s
        self.url = ""
        self.startup_s = 0.0
        self._proc: subprocess.Popen | None = None

    def __enter__(self) -> LocalPrefectServer:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {**os.environ, **DEFAULTS, "PREFECT_HOME": str(self.home),
               "PREFECT_UI_ENABLED": "false"}  # fmt: skip
        env.pop("PREFECT_API_URL", None)
        self.home.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("w")
        started = time.perf_counter()
        self._proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "prefect"), "server", "start",
             "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=self._log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        self.url = f"http://127.0.0.1:{port}/api"
        try:
            self._wait_healthy()
        except BaseException:
            self.__exit__()
            raise
        self.startup_s = time.perf_counter() - started
        return self

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise RuntimeError(f"prefect server exited with {self._proc.returncode}; "
                                   f"see {self.log_path}")  # fmt: skip
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        raise TimeoutError(f"prefect server did not answer within {self.timeout_s} s")

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
        self._log.close()
