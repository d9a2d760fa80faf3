"""The Prefect flow `watch-inbox`: load whatever was dropped into the inbox, then move it
to the archive (`outcomes serve` runs it: pipelines/worker.py).

A file is archived only if it is still the file the load read; one replaced or written to
since stays in the inbox for the next look.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from prefect import flow, get_run_logger, task

from pipelines.flows import TASK, build_docs_task, ingest_flow
from pipelines.folders import remove_if_empty
from pipelines.ingest.rejection import display_name
from pipelines.ingest.safe_files import entries
from pipelines.ingest.snapshot import FileState
from pipelines.settings import get_settings
from pipelines.store.bookkeeping import RunSummary


@flow(name="watch-inbox")
def watch_inbox_flow(
    db: str | None = None, inbox: str | None = None, archive: str | None = None
) -> RunSummary | None:
    """Ingest whatever was dropped into the inbox, then move it to the archive."""
    settings = get_settings()
    inbox_dir = Path(inbox) if inbox else settings.path("inbox_dir")
    archive_dir = Path(archive) if archive else settings.path("archive_dir")
    inbox_dir.mkdir(parents=True, exist_ok=True)
    files = inbox_files(inbox_dir)
    if not files:
        return None
    summary = ingest_flow([str(p) for p in files], db, data_docs=False)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    done = [p for p in files if not _changed_since_read(p, summary)]
    for path in done:
        _archive_task(path, archive_dir / stamp / path.relative_to(inbox_dir))
    _remove_emptied_folders(inbox_dir, done)
    build_docs_task(summary.started_at)  # the delivery is loaded and archived already
    return summary


def _changed_since_read(path: Path, summary: RunSummary) -> bool:
    """Whether the file at `path` is no longer the one the run read (replaced or written
    to since): it stays in the inbox and is loaded by the next look, instead of being
    archived unread."""
    read = next((f.state for f in summary.files if f.path == path), None)
    if read is None or read == FileState.now(path):
        return False
    get_run_logger().warning(
        "%s changed after it was read; left in the inbox for the next load", display_name(str(path))
    )
    return True


def _remove_emptied_folders(inbox_dir: Path, files: list[Path]) -> None:
    """The delivery folders its files left empty; never the inbox."""
    remove_if_empty(
        parent for path in files for parent in path.parents if inbox_dir in parent.parents
    )


def inbox_files(inbox_dir: Path) -> list[Path]:
    """The files waiting in the inbox, in name order: every entry under it, at any depth,
    that is not a folder (links, FIFOs … too: they are refused, recorded and archived),
    except those whose name starts with '.' (a file still being written under a hidden
    name, e.g. rsync's, is not picked up before it is renamed). Links are not followed."""
    return entries(inbox_dir)


@task(name="archive file", retries=2, retry_delay_seconds=1, **TASK)
def _archive_task(path: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(path), str(target))
