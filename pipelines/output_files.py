"""Files the CLI writes where a user asks (`outcomes sql --csv PATH`): never over an
existing file unless told to, and never over the product's own files.

The product's own files are the warehouse and everything beside it that shares its name
(working copy, lock, analysts' copy), the accounts database and the secrets: writing a
query's answer over one of them would destroy data or a key, whatever `--force` says.
They are recognised by what they are (same file on disk: device and inode), not only by
their names, so a symbolic or hard link elsewhere does not get past.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from pipelines.settings import Settings


class OutputRefused(ValueError):
    """The path may not be written; the message says why, for the user."""


def protected_files(settings: Settings, warehouse: Path) -> list[Path]:
    """The product's own files for a warehouse: never an output path."""
    from pipelines.settings import analyst_copy_path
    from pipelines.store.connection import working_copy_path

    analyst = analyst_copy_path(warehouse)
    beside = [
        warehouse,
        working_copy_path(warehouse),
        warehouse.with_name(warehouse.name + ".lock"),
        warehouse.with_name(warehouse.name + ".wal"),
        analyst,
        working_copy_path(analyst),
        settings.db_path,
        analyst_copy_path(settings.db_path),
    ]
    secrets = [settings.path("session_secret_file"), settings.path("pseudonym_secret_file")]
    return [*beside, settings.path("users_db"), *secrets, *_files_in(secrets)]


def _files_in(secrets: Iterable[Path]) -> list[Path]:
    """Every file in the folders holding the secrets (older keys, backups of them)."""
    out: list[Path] = []
    for folder in {p.parent for p in secrets}:
        if folder.is_dir():
            out.extend(p for p in folder.iterdir() if p.is_file())
    return out


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def check_output(path: Path, *, force: bool, protected: Iterable[Path]) -> int:
    """The os.open flags to write `path` with, or OutputRefused: a missing folder, a
    symbolic link, anything but a regular file, an existing file without `force`, and any
    of the `protected` files (by path or by identity)."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise OutputRefused(f"cannot write {path}: the folder {folder} does not exist")
    if path.is_symlink():
        raise OutputRefused(f"cannot write {path}: it is a symbolic link; give the real path")
    guarded = {p.resolve() for p in protected}
    identities = {i for p in protected if (i := _identity(p)) is not None}
    if path.resolve() in guarded or _identity(path) in identities:
        raise OutputRefused(
            f"cannot write {path}: it is one of the product's own files (warehouse, accounts "
            "or secrets); choose another file"
        )
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW
    if path.exists():
        if not stat.S_ISREG(os.stat(path).st_mode):
            raise OutputRefused(f"cannot write {path}: it is not a regular file")
        if not force:
            raise OutputRefused(f"{path} exists: add --force to overwrite it")
        flags |= os.O_TRUNC
    else:
        flags |= os.O_EXCL  # a file appearing meanwhile is not overwritten
    return flags


def open_output(path: Path, *, force: bool, protected: Iterable[Path]):
    """`path` opened for writing text (the caller closes it), after check_output."""
    flags = check_output(path, force=force, protected=protected)
    try:
        fd = os.open(path, flags, 0o644)
    except OSError as exc:
        raise OutputRefused(f"cannot write {path}: {exc.strerror}") from exc
    return os.fdopen(fd, "w", encoding="utf-8", newline="")
