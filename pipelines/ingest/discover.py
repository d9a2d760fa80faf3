"""Which entity and format a delivery file holds, decided from its name (spec §2)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from pipelines.schema import ENTITY_ORDER

FORMATS_BY_SUFFIX: dict[str, str] = {
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".xlsx": "xlsx",
    ".parquet": "parquet",
}


@dataclass(frozen=True)
class DeliveryFile:
    path: Path
    entity: str | None
    format: str | None
    problem: str | None = None
    """Why the file cannot be loaded at all (unknown entity or format), else None."""


def classify(path: Path) -> DeliveryFile:
    """Entity from the start of the name (case-insensitive), format from the suffix."""
    name = path.name.lower()
    entity = next((e for e in ENTITY_ORDER if name.startswith(e)), None)
    fmt = FORMATS_BY_SUFFIX.get(path.suffix.lower())
    problems = []
    if entity is None:
        problems.append(
            f"file name must start with one of {', '.join(ENTITY_ORDER)} to say what it holds"
        )
    if fmt is None:
        problems.append(
            f"format {path.suffix or '(no extension)'!r} is not accepted "
            f"(use {', '.join(sorted(FORMATS_BY_SUFFIX))})"
        )
    return DeliveryFile(path, entity, fmt, "; ".join(problems) or None)


def discover(paths: list[Path]) -> list[DeliveryFile]:
    """Every file under the given files/folders, in processing order.

    Order: entity (clients, therapists, sessions, scores), then path, so that within one
    load a later file of an entity (by name) corrects an earlier one. Unrecognised files
    come last; hidden files (``.name``) are ignored.
    """
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files.extend(f for f in sorted(p.rglob("*")) if f.is_file())
        else:
            files.append(p)
    found = [classify(f) for f in files if not f.name.startswith(".")]
    rank = {e: i for i, e in enumerate(ENTITY_ORDER)}
    return sorted(found, key=lambda f: (rank.get(f.entity or "", len(rank)), str(f.path)))


def content_hash(path: Path) -> str:
    """sha256 of the file's bytes: the identity used for idempotent re-delivery."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
