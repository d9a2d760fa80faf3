"""A delivery file's bytes read once, with the hash of exactly those bytes.

The hash is the file's identity for idempotent re-delivery (spec §3). It used to be taken
from the path apart from the read, so a file swapped in between was recorded with the new
file's hash and the old file's rows, and the new file was then skipped forever. Here one
descriptor is opened (never following a link, never blocking on a FIFO), checked to be a
regular file, read in chunks that are hashed as they come and kept for the parser; a file
whose size, modification time or inode moved while it was read is rejected — nothing of it
is loaded, and it can be delivered again (docs/reliability.md, "Files that change").

For CSV and JSONL the chunks are also checked as they come: UTF-16 or binary content, and a
line longer than ``max_line_bytes``, reject the file before the rest is kept in memory.
"""

from __future__ import annotations

import errno
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipelines.crash_points import pause_point
from pipelines.ingest.rejection import FileRejected, display_name
from pipelines.ingest.safe_files import refusal_of_kind

CHUNK_BYTES = 1 << 20
_SNIFF_BYTES = 8192
_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


@dataclass(frozen=True)
class FileState:
    """What says a file is still the one that was read."""

    device: int
    inode: int
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, st: os.stat_result) -> FileState:
        return cls(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)

    @classmethod
    def now(cls, path: Path) -> FileState | None:
        try:
            return cls.of(os.lstat(path))
        except OSError:
            return None


@dataclass(frozen=True)
class Snapshot:
    digest: str
    """sha256 of every byte read."""
    state: FileState
    data: bytearray | None
    """The bytes (None when not kept, or when `rejection` is set)."""
    rejection: FileRejected | None = None
    """Why the content is refused (binary, a runaway line), found while reading."""


def take_snapshot(path: Path, *, keep: bool = True, max_line_bytes: int | None = None) -> Snapshot:
    """Read `path` once: its hash, its bytes (when `keep`), and a check of its lines (when
    `max_line_bytes` is given). Raises FileRejected when it is not a regular file or changed
    while it was read; OSError for a failed read (the caller may try again)."""
    name = display_name(path.name)
    fd = _open_regular(path, name)
    with os.fdopen(fd, "rb", buffering=0) as fh:
        before = os.fstat(fd)
        digest = hashlib.sha256()
        data = bytearray() if keep else None
        lines = _LineCheck(name, max_line_bytes) if max_line_bytes else None
        rejection, total = None, 0
        while chunk := fh.read(CHUNK_BYTES):
            total += len(chunk)
            digest.update(chunk)
            if lines is not None and rejection is None:
                try:
                    lines.feed(chunk)
                except FileRejected as exc:
                    rejection, data = exc, None  # keep hashing; keep nothing more
            if data is not None:
                data += chunk
            pause_point("reading")
        after = os.fstat(fd)
    state = FileState.of(before)
    if FileState.of(after) != state or total != before.st_size or FileState.now(path) != state:
        raise FileRejected(
            f"{name}: the file changed while it was read (its size, modification time or the "
            "file itself); nothing of it is loaded: deliver it again once it is complete"
        )
    return Snapshot(digest.hexdigest(), state, data, rejection)


def read_checked(path: Path, max_line_bytes: int | None) -> bytearray:
    """The bytes of `path`, its lines checked unless `max_line_bytes` is 0 (None: the
    ``max_line_bytes`` setting); FileRejected when they are refused."""
    if max_line_bytes is None:
        from pipelines.settings import get_settings

        max_line_bytes = get_settings().max_line_bytes
    snap = take_snapshot(path, max_line_bytes=max_line_bytes or None)
    if snap.rejection is not None:
        raise snap.rejection
    assert snap.data is not None
    return snap.data


def _open_regular(path: Path, name: str) -> int:
    """A descriptor of `path` if it is a regular file; FileRejected otherwise (a link is
    not followed, a FIFO not waited on)."""
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # O_NOFOLLOW on a link
            raise FileRejected(f"{name}: {refusal_of_kind(0o120000)}") from exc
        raise
    why = refusal_of_kind(os.fstat(fd).st_mode)
    if why:
        os.close(fd)
        raise FileRejected(f"{name}: {why}")
    return fd


class _LineCheck:
    """Refuses binary content and over-long lines as chunks arrive (never holding a whole
    runaway line: a 50 MB file without a newline costs one chunk past the limit)."""

    def __init__(self, name: str, max_line_bytes: int) -> None:
        self.name, self.max = name, max_line_bytes
        self.line_no, self.current, self.first = 1, 0, True  # current: bytes of the open line

    def feed(self, chunk: bytes) -> None:
        if self.first:
            self.first = False
            head = chunk[:_SNIFF_BYTES]
            if head.startswith((b"\xff\xfe", b"\xfe\xff")):
                raise FileRejected(f"{self.name}: UTF-16 text, not UTF-8; export it as UTF-8")
            if b"\x00" in head:
                raise FileRejected(
                    f"{self.name}: binary content (NUL bytes), not a text file; "
                    "is it really a .csv/.jsonl export?"
                )
        newlines = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 0x0A)
        if len(newlines):  # lengths of the lines that end in this chunk
            ended = np.concatenate(([self.current + int(newlines[0])], np.diff(newlines) - 1))
            over = np.flatnonzero(ended > self.max)
            if len(over):
                self._too_long(self.line_no + int(over[0]))
            self.line_no += len(newlines)
            self.current = len(chunk) - int(newlines[-1]) - 1
        else:
            self.current += len(chunk)
        if self.current > self.max:
            self._too_long(self.line_no)

    def _too_long(self, line_no: int) -> None:
        raise FileRejected(
            f"{self.name}: line {line_no} is longer than {self.max:,} bytes (setting "
            "max_line_bytes); is the file cut or missing its line breaks?"
        )
