"""Environment Prefect needs before it is imported (shared/notes/dependencies.md).

By default the CLI runs flows against a temporary local Prefect API that Prefect
starts itself. To use a long-running server instead, start `prefect server start`
and export ``PREFECT_API_URL=http://127.0.0.1:4200/api``; nothing else changes.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from pipelines.local_process import free_port, serving
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


@contextmanager
def without_flow_heartbeats() -> Iterator[None]:
    """Prefect's flow-run heartbeats off for the flow runs started inside (`outcomes ingest`,
    `demo`, `serve`). At its end a flow run waits up to 1 s for its heartbeat thread to
    notice, and heartbeats only feed crashed-run detection by automations, which we do not
    configure: the runs' states and our own output say whether a load finished."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


PR_SET_PDEATHSIG = 1


def dying_with_this_process() -> Callable[[], None] | None:
    """A `preexec_fn` giving the child SIGKILL when this process dies, however it dies
    (kill -9 included), on Linux; None elsewhere. Call it in the thread that starts the
    child and outlives it (the signal comes when that thread ends)."""
    if not sys.platform.startswith("linux"):
        return None
    parent = os.getpid()

    def preexec() -> None:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the parent died before the signal was set up
            os._exit(1)

    return preexec


class _PopenDyingWithUs:
    """`subprocess` as Prefect's server module sees it while it starts the temporary
    server: Popen gets `dying_with_this_process`, everything else is the real module."""

    def __getattr__(self, name: str) -> Any:
        return getattr(subprocess, name)

    @staticmethod
    def Popen(*args: Any, **kwargs: Any) -> subprocess.Popen:  # noqa: N802 - subprocess's name
        return subprocess.Popen(*args, preexec_fn=dying_with_this_process(), **kwargs)


def start_temporary_api() -> None:
    """Start Prefect's temporary API server now, in this (the main) thread, so that it dies
    with this process: when PREFECT_API_URL is not set, Prefect starts one at its first
    call, and a kill -9 of `outcomes ingest` left it running. Call after
    `configure_prefect`; nothing happens when a server URL is set."""
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED

    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        return
    from prefect.server.api import server as prefect_server

    class DyingWithUs(prefect_server.SubprocessASGIServer):
        """Prefect's temporary server (the same instance Prefect's client asks for),
        started with a parent-death signal."""

        def _run_uvicorn_command(self) -> subprocess.Popen:
            prefect_server.subprocess = _PopenDyingWithUs()  # only for this one call
            try:
                return super()._run_uvicorn_command()
            finally:
                prefect_server.subprocess = subprocess

    DyingWithUs().start()


class LocalPrefectServer:
    """A `prefect server start` of our own on a free loopback port, for tests and benchmarks.

    Used as a context manager; ``url`` is its API URL and ``startup_s`` how long it took
    to answer its health check (reported apart from the work measured against it).
    """

    def __init__(self, home: Path, log: Path, timeout_s: float = 180) -> None:
        self.home, self.log_path, self.timeout_s = home, log, timeout_s
        self.url = ""
        self.startup_s = 0.0
        self._stack = ExitStack()

    def __enter__(self) -> LocalPrefectServer:
        port = free_port()
        env = {**os.environ, **DEFAULTS, "PREFECT_HOME": str(self.home),
               "PREFECT_UI_ENABLED": "false"}  # fmt: skip
        env.pop("PREFECT_API_URL", None)
        self.home.mkdir(parents=True, exist_ok=True)
        self.url = f"http://127.0.0.1:{port}/api"
        command = [str(Path(sys.executable).parent / "prefect"), "server", "start",
                   "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
        started = time.perf_counter()
        self._stack.enter_context(
            serving(
                command,
                f"{self.url}/health",
                self.log_path,
                self.timeout_s,
                env=env,
                preexec_fn=dying_with_this_process(),
            )  # fmt: skip
        )
        self.startup_s = time.perf_counter() - started
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()
