"""What is made from the model contracts (the YAML beside each model's SQL), made here only.

- :func:`comment_statements`: the ``COMMENT ON`` statements of an analysts' view (run by
  :func:`pipelines.warehouse.views.comment_on`);
- :func:`render_reference`: the reference section of ``docs/sql.md``;
- :func:`render_suite`: the GX suite of a model with expectations, as GX 1.x writes it to
  ``expectations/gx/expectations/<model>.json`` (validation reads the same expectations
  through :func:`pipelines.contracts.suite_expectations`).

docs/sql.md and the suites are checked in: ``python -m pipelines.warehouse.render`` rewrites
them after a contract changed, and tests/warehouse/test_render.py fails while they differ
from the rendering.
"""

from __future__ import annotations

import json
import uuid
from importlib.metadata import version
from pathlib import Path
from typing import Any

from pipelines.contracts import ModelDoc, suite_expectations
from pipelines.settings import PROJECT_ROOT, get_settings
from pipelines.warehouse.catalog import VIEWS

DOC_PATH: Path = PROJECT_ROOT / "docs" / "sql.md"
BEGIN = "<!-- BEGIN GENERATED REFERENCE (python -m pipelines.warehouse.render) -->"
END = "<!-- END GENERATED REFERENCE -->"
_SUITE_IDS = uuid.UUID("5a1c6f0e-3c1b-4f5e-9d47-0b6d2f4e8a11")
"""Namespace of the ids a new suite or expectation gets (uuid5: the same every rendering)."""


def suites_dir() -> Path:
    """Where GX keeps the suites (under the setting expectations_dir)."""
    return get_settings().path("expectations_dir") / "gx" / "expectations"


# --- COMMENT ON ------------------------------------------------------------------------
def sql_literal(text: str) -> str:
    """`text` as an SQL string literal (quotes doubled), for the places DuckDB takes no
    parameter: comments, ATTACH paths."""
    return "'" + text.replace("'", "''") + "'"


def comment_statements(view_name: str, doc: ModelDoc, columns: list[str]) -> list[str]:
    """COMMENT ON the view and each of its documented `columns` (those it has)."""
    statements = [
        f"COMMENT ON VIEW {view_name} IS {sql_literal(f'One row per {doc.grain}. {doc.doc}')}"
    ]
    statements += [
        f"COMMENT ON COLUMN {view_name}.{c.name} IS {sql_literal(c.doc)}"
        for c in doc.columns
        if c.name in columns
    ]
    return statements


# --- docs/sql.md --------------------------------------------------------------------------
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


def write_reference(path: Path = DOC_PATH) -> bool:
    """Replace the generated section of docs/sql.md with the rendering; True if it changed."""
    text = path.read_text(encoding="utf-8")
    head, tail = text[: text.index(BEGIN) + len(BEGIN)], text[text.index(END) :]
    new = f"{head}\n{render_reference()}\n{tail}"
    path.write_text(new, encoding="utf-8")
    return new != text


# --- GX suites ----------------------------------------------------------------------------
def _gx_kwarg(value: Any) -> Any:
    """A kwarg as GX stores it: a whole number of a bound becomes a float (1 -> 1.0)."""
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    return float(value) if is_number else value


def _identity(kind: str, kwargs: dict[str, Any]) -> str:
    return json.dumps({"type": kind, **kwargs}, sort_keys=True)


def render_suite(name: str, expectations: list[dict[str, Any]], committed: str = "") -> str:
    """The JSON of GX suite `name` as GX 1.x writes it (keys sorted, indent 2, no final
    newline). GX's ids of the `committed` file are kept, by expectation, so that rendering
    an unchanged contract changes no byte; a new one gets an id derived from its content."""
    old = json.loads(committed) if committed else {}
    old_ids = {_identity(e["type"], e["kwargs"]): e["id"] for e in old.get("expectations", [])}
    rendered = []
    for spec in expectations:
        kwargs = {k: _gx_kwarg(v) for k, v in spec.items() if k != "type"}
        identity = _identity(spec["type"], kwargs)
        rendered.append(
            {
                "id": old_ids.get(identity) or str(uuid.uuid5(_SUITE_IDS, f"{name}:{identity}")),
                "kwargs": kwargs,
                "meta": {},
                "severity": "critical",
                "type": spec["type"],
            }
        )
    suite = {
        "expectations": rendered,
        "id": old.get("id") or str(uuid.uuid5(_SUITE_IDS, name)),
        "meta": {"great_expectations_version": version("great_expectations")},
        "name": name,
        "notes": None,
    }
    return json.dumps(suite, indent=2, sort_keys=True)


def write_suites(folder: Path | None = None) -> list[str]:
    """(Re)write the suite of every model with expectations; returns those that changed.

    A new suite's validation definition is made by GX the first time it validates
    (pipelines/validation/gx_context.py)."""
    folder = folder or suites_dir()
    changed = []
    for name, expectations in suite_expectations().items():
        path = folder / f"{name}.json"
        committed = path.read_text(encoding="utf-8") if path.exists() else ""
        text = render_suite(name, expectations, committed)
        if text != committed:
            path.write_text(text, encoding="utf-8")
            changed.append(name)
    return changed


def main() -> None:  # pragma: no cover - maintenance command
    print(f"docs/sql.md {'rewritten' if write_reference() else 'unchanged'}")
    for name in write_suites():
        print(f"rewrote suite {name}")


if __name__ == "__main__":  # pragma: no cover
    main()
