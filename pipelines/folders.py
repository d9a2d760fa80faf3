"""Tidying the folders a run emptied: an inbox's delivery folders, GX's result folders."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


def remove_if_empty(folders: Iterable[Path]) -> None:
    """Remove each of `folders` that is empty, deepest first, so that one holding only
    folders emptied here goes too."""
    for folder in sorted(set(folders), key=lambda f: len(f.parts), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
