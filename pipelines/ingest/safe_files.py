"""Which entries of a delivery may be opened at all (docs/security.md, "Hostile files").

Only regular files are read. A symbolic link is refused, not followed — one pointing at the
pseudonym key once put the key into a rejection message — and so is a link given on the
command line: give the real path. A FIFO would block the load forever on open; sockets and
devices are no exports either. Each is refused from its `lstat`, without opening it, and
recorded like any rejected file. A folder is walked without following links.

The product's own files are never read as a delivery, whatever folder is given (`outcomes
ingest data/`): the secret keys and anything under the secrets folder, the accounts
database, the warehouse and every companion of it (working copy, lock, WAL, analyst copy:
any ``<warehouse name>.*`` beside it). They are matched by real path and by inode, so a
hard link to the key is refused too.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from pipelines.settings import Settings, analyst_copy_path

_KINDS = (
    (stat.S_ISLNK, "a symbolic link (links are not followed)"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)
OWN_FILE = (
    "is one of the product's own files (a secret key, the accounts database or the "
    "warehouse); it is never read as a delivery"
)


def not_regular(mode: int) -> str | None:
    """What a file of `mode` is when it is not a regular file (a folder is not asked)."""
    if stat.S_ISREG(mode):
        return None
    return next((what for test, what in _KINDS if test(mode)), "not a regular file")


def refusal_of_kind(mode: int) -> str | None:
    """The problem of an entry that is not a regular file, else None."""
    kind = not_regular(mode)
    return f"is {kind}; only regular files are read" if kind else None


@dataclass(frozen=True)
class OwnFiles:
    """The product's own files, by real path, folder, name prefix and inode."""

    folders: tuple[Path, ...] = ()
    """Anything under these is refused (the secrets folder)."""
    paths: frozenset[Path] = frozenset()
    prefixes: tuple[Path, ...] = ()
    """A file whose real path starts with one of these (``…/warehouse.duckdb``) is refused."""
    inodes: frozenset[tuple[int, int]] = frozenset()

    def holds(self, path: Path, st: os.stat_result) -> bool:
        if (st.st_dev, st.st_ino) in self.inodes:
            return True
        real = path.resolve()
        return (
            real in self.paths
            or any(real.is_relative_to(folder) for folder in self.folders)
            or any(str(real).startswith(str(p)) for p in self.prefixes)
        )


def own_files(settings: Settings, db_path: Path) -> OwnFiles:
    """The own files of `settings` and of the warehouse this run loads into (`db_path`)."""
    secrets = [settings.path("session_secret_file"), settings.path("pseudonym_secret_file")]
    users = settings.path("users_db")
    sidecars = (users.with_name(users.name + s) for s in ("-wal", "-shm", "-journal"))
    paths = {*secrets, users, *sidecars}
    warehouses = {settings.db_path.resolve(), db_path.resolve()}
    warehouses |= {analyst_copy_path(w) for w in warehouses}  # and their analysts' copies
    inodes = set()
    for path in [*paths, *warehouses]:
        try:
            st = os.stat(path)
        except OSError:
            continue
        inodes.add((st.st_dev, st.st_ino))
    return OwnFiles(
        folders=(settings.path("secrets_dir").resolve(),),
        paths=frozenset(p.resolve() for p in paths),
        prefixes=tuple(warehouses),
        inodes=frozenset(inodes),
    )


def entries(path: Path) -> list[Path]:
    """Every entry under `path` that is not a folder (`path` itself when it is not a real
    folder), in name order, hidden names (``.name``) left out; links are not followed."""
    if not stat.S_ISDIR(os.lstat(path).st_mode):
        return [] if path.name.startswith(".") else [path]
    found: list[Path] = []
    with os.scandir(path) as it:
        children = sorted(it, key=lambda e: e.name)
    for child in children:
        if child.name.startswith("."):
            continue
        if child.is_dir(follow_symlinks=False):
            found.extend(entries(Path(child.path)))
        else:
            found.append(Path(child.path))
    return found


def refusal(path: Path, own: OwnFiles | None) -> str | None:
    """Why `path` must not be opened at all, else None (from its lstat: nothing is opened)."""
    st = os.lstat(path)
    kind = refusal_of_kind(st.st_mode)
    if kind:
        return kind
    return OWN_FILE if own is not None and own.holds(path, st) else None
