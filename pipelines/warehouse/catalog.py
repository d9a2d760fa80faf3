"""The documentation of the analysts' SQL surface (spec §6), as Python objects.

The documentation itself is each view's YAML contract beside its SQL
(``pipelines/warehouse/models/<view>.yml``; ``pipelines/store/models/`` for the loading
layer's ``quarantine`` and ``load_log``), read by :mod:`pipelines.contracts`. Used for
``COMMENT ON VIEW`` / ``COMMENT ON COLUMN`` (:func:`pipelines.warehouse.views.comment_on`),
for the analysts' copy (:mod:`pipelines.warehouse.analyst_copy`), and to generate the reference
section of ``docs/sql.md`` (``python -m pipelines.warehouse.catalog`` rewrites it; a test
checks it is current).
"""

from __future__ import annotations

import sys
from pathlib import Path

from pipelines.contracts import ModelDoc, model_contracts
from pipelines.settings import PROJECT_ROOT

SPEC_VIEWS: tuple[str, ...] = (
    "clients",
    "therapists",
    "sessions",
    "scores",
    "courses",
    "course_progress",
    "cohort_outcomes",
    "alerts",
    "quarantine",
    "load_log",
)
"""The views of spec §6, in its order (also that of docs/sql.md)."""

VIEWS: dict[str, ModelDoc] = {name: model_contracts()[name] for name in SPEC_VIEWS}


# --- docs/sql.md ----------------------------------------------------------------------
DOC_PATH: Path = PROJECT_ROOT / "docs" / "sql.md"
BEGIN = "<!-- BEGIN GENERATED REFERENCE (python -m pipelines.warehouse.catalog) -->"
END = "<!-- END GENERATED REFERENCE -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render_reference() -> str:
    """The reference section of docs/sql.md: every view, column, type and meaning."""
    out: list[str] = []
    for v in VIEWS.values():
        out += [
            f"### `{v.name}`",
            "",
            f"One row per {v.grain}. {v.doc} *(Built by `{v.sql_path}`.)*",
            "",
            "| column | type | meaning |",
            "|---|---|---|",
        ]
        out += [f"| `{c.name}` | {c.type} | {_cell(c.doc)} |" for c in v.columns]
        out.append("")
    return "\n".join(out).strip("\n")


def documented_reference(text: str) -> str:
    """The generated section as it stands in a docs/sql.md text."""
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[start:end].strip("\n")


def write_reference(path: Path = DOC_PATH) -> None:
    """Replace the generated section of docs/sql.md with the current catalog."""
    text = path.read_text(encoding="utf-8")
    head, tail = text[: text.index(BEGIN) + len(BEGIN)], text[text.index(END) :]
    path.write_text(f"{head}\n{render_reference()}\n{tail}", encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover - maintenance command
    write_reference(Path(sys.argv[1]) if len(sys.argv) > 1 else DOC_PATH)
