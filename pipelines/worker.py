"""The warm inbox worker behind `outcomes serve`: one long-running process that loads
every delivery dropped into the inbox itself.

A fresh process spends seconds before it reads a byte (importing GX and Prefect, setting
up: docs/performance.md); Prefect's `flow.serve()` starts a new process for every
scheduled run, so each daily load paid that again. Here GX and Prefect are imported once,
at start-up, a look into the inbox is a directory listing, and a delivery found is one
`watch-inbox` flow run in this process (pipelines/inbox.py), tracked by the Prefect API
like any other. Call `configure_prefect` before importing this
module (it imports Prefect).
"""

from __future__ import annotations

import datetime as dt
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipelines.inbox import inbox_files, watch_inbox_flow
from pipelines.prefect_env import without_flow_heartbeats
from pipelines.store.bookkeeping import RunSummary
from pipelines.store.connection import describe_load_failure

READY = "watching"
"""Start of the line printed once the worker is warm (tests and the benchmark wait for it)."""
LOADED = "loaded"
"""Start of the line printed once a delivery's flow run has finished."""
FAILED = "load failed"
"""Start of the line printed when a delivery's flow run failed."""


def next_wait(interval_s: float, retry_s: float, last_run_failed: bool) -> float:
    """Seconds until the next look into the inbox: a failed load backs off the next try."""
    return retry_s if last_run_failed else interval_s


def describe_run(summary: RunSummary, seconds: float) -> str:
    """One line per delivery loaded."""
    return (
        f"{LOADED} {len(summary.files)} file(s) in {seconds:.1f} s: {summary.count('loaded')} "
        f"loaded, {summary.count('rejected')} rejected, {summary.count('skipped')} skipped; "
        f"alerts {summary.alerts}; run {summary.run_id} {summary.status}"
    )


def describe_failure(reason: str, retry_s: float) -> str:
    """One line per failed load: why, and what happens to the files."""
    one_line = " ".join(reason.split())
    return f"{FAILED}: {one_line} The files stay in the inbox; next try in {retry_s:g} s."


def say(message: str) -> None:
    """A line on stdout with the time, flushed (a pipe or a log file sees it at once)."""
    stamp = dt.datetime.now().astimezone().strftime("%H:%M:%S")
    print(f"{stamp} {message}", flush=True)


def warm_up() -> None:
    """What the first load would otherwise pay: GX's import and context, and the Prefect
    API's connection (starting the temporary local API when PREFECT_API_URL is not set)."""
    from prefect.client.orchestration import get_client

    from pipelines.validation.gx_context import get_context

    get_context()
    with get_client(sync_client=True) as client:
        failure = client.api_healthcheck()
    if failure is not None:
        raise failure


@contextmanager
def stop_signals_as_ctrl_c() -> Iterator[None]:
    """Handle SIGTERM and SIGINT as Ctrl-C (KeyboardInterrupt) while inside, so both stop
    the worker the same way — SIGINT too when the worker was started with it ignored (as
    `nohup` or a background job of a script start it), like other servers do."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def load_once(db: Path, inbox: Path, archive: Path, retry_s: float) -> bool:
    """One `watch-inbox` flow run in this process; False when it failed (said why; the
    traceback is in the flow run's logs)."""
    started = time.perf_counter()
    try:
        summary = watch_inbox_flow(str(db), str(inbox), str(archive))
    except Exception as exc:  # the files stay in the inbox (any loaded are skipped next time)
        say(describe_failure(describe_load_failure(exc, db), retry_s))
        return False
    if summary is not None:  # None: the files went away between the look and the run
        say(describe_run(summary, time.perf_counter() - started))
    return True


def serve(db: Path, inbox: Path, archive: Path, interval_s: float, retry_s: float) -> None:
    """Warm up, then load whatever arrives in `inbox` until SIGTERM or Ctrl-C.

    Stopped between runs, it returns; stopped during a run, the KeyboardInterrupt
    propagates through the run (which discards its working copy: the published warehouse
    stays as it was and the files stay in the inbox).
    """
    warm_up()
    inbox.mkdir(parents=True, exist_ok=True)
    say(f"{READY} {inbox} every {interval_s:g} s (Ctrl-C to stop)")
    failed = False
    with stop_signals_as_ctrl_c(), without_flow_heartbeats():
        while True:
            try:
                time.sleep(next_wait(interval_s, retry_s, failed))
                waiting = inbox_files(inbox)
            except KeyboardInterrupt:
                say("stopped")
                return
            if not waiting:
                failed = False  # nothing left to try again
                continue
            say(f"loading {len(waiting)} file(s) from {inbox}")
            failed = not load_once(db, inbox, archive, retry_s)
