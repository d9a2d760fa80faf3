"""Which entity and format a delivery file holds, decided from its name (spec §2)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from pipelines.ingest.safe_files import OwnFiles, entries, refusal
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
    """Why the file cannot be loaded at all (unknown entity or format, or refused), else None."""
    refused: bool = False
    """The file must not even be opened (not a regular file, or one of the product's own
    files: pipelines/ingest/safe_files.py); its `problem` says why."""


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


def discover(paths: list[Path], own: OwnFiles | None = None) -> list[DeliveryFile]:
    """Every file under the given files/folders, in processing order.

    Order: entity (clients, therapists, sessions, scores), then path, so that within one
    load a later file of an entity (by name) corrects an earlier one. Unrecognised files
    come last; hidden files (``.name``) are ignored. Links, FIFOs, sockets, devices and
    the product's own files (`own`) are listed as refused (safe_files.py).
    """
    found = []
    for path in (entry for p in paths for entry in entries(p)):
        why = refusal(path, own)
        found.append(replace(classify(path), problem=why, refused=True) if why else classify(path))
    rank = {e: i for i, e in enumerate(ENTITY_ORDER)}
    return sorted(found, key=lambda f: (rank.get(f.entity or "", len(rank)), str(f.path)))
