"""The single source of the SQL documentation and docs/sql.md stay in step."""

from __future__ import annotations

from pipelines.warehouse.catalog import VIEWS
from pipelines.warehouse.render import DOC_PATH, documented_reference, render_reference
from pipelines.warehouse.views import WAREHOUSE_VIEWS


def test_catalog_covers_every_view_of_the_spec():
    assert set(VIEWS) == {*WAREHOUSE_VIEWS, "quarantine", "load_log"}
    for view in VIEWS.values():
        names = view.column_names
        assert len(names) == len(set(names)), view.name
        assert all(c.doc.strip() and c.type for c in view.columns), view.name


def test_docs_sql_md_reference_is_current():
    text = DOC_PATH.read_text(encoding="utf-8")
    assert documented_reference(text) == render_reference(), (
        "docs/sql.md is stale: run `.venv/bin/python -m pipelines.warehouse.render`"
    )
    for view in VIEWS.values():
        assert f"### `{view.name}`" in text
        for c in view.columns:
            assert f"| `{c.name}` | {c.type} |" in text, (view.name, c.name)


def test_docs_sql_md_records_the_decisions():
    text = DOC_PATH.read_text(encoding="utf-8")
    for topic in (
        "course_id used by sessions of two clients",
        "Rounding",
        "t quantile",
        "as_of",
        "Example queries",
    ):
        assert topic.lower() in text.lower(), topic
