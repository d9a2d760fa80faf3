"""The files made from the model contracts are exactly what the contracts render: the
checked-in GX suites byte for byte, docs/sql.md's reference; and a change to a contract
shows in the rendering (so the checks can fail)."""

from __future__ import annotations

import dataclasses
import json
import shutil

from pipelines.contracts import suite_expectations
from pipelines.schema import ENTITIES
from pipelines.warehouse import render
from pipelines.warehouse.catalog import VIEWS


def test_checked_in_suites_are_the_rendering_of_the_contracts():
    for name, expectations in suite_expectations().items():
        committed = (render.suites_dir() / f"{name}.json").read_text(encoding="utf-8")
        assert committed == render.render_suite(name, expectations, committed), (
            f"{name}.json is stale: run `.venv/bin/python -m pipelines.warehouse.render`"
        )


def test_every_checked_in_suite_is_an_entity_s_or_a_contract_s():
    files = {p.stem for p in render.suites_dir().glob("*.json")}
    assert files == set(ENTITIES) | set(suite_expectations())
    assert set(suite_expectations()) == {"mart_courses", "mart_course_progress",
                                         "mart_cohort_outcomes", "int_course_lead_therapist",
                                         "mart_cohort_outcomes_adjusted",
                                         "mart_therapist_outcomes", "mart_course_expectations",
                                         "mart_off_track_alerts"}  # fmt: skip


def test_a_changed_expectation_changes_the_suite_and_keeps_the_other_ids():
    committed = (render.suites_dir() / "mart_courses.json").read_text(encoding="utf-8")
    expectations = suite_expectations()["mart_courses"]
    expectations[1] = {**expectations[1], "min_value": 2}
    text = render.render_suite("mart_courses", expectations, committed)
    assert text != committed
    old, new = json.loads(committed), json.loads(text)
    assert new["id"] == old["id"]
    assert [e["id"] for e in new["expectations"]][::2] == [e["id"] for e in old["expectations"]][
        ::2
    ]
    assert new["expectations"][1]["id"] != old["expectations"][1]["id"]
    assert new["expectations"][1]["kwargs"] == {"column": "sessions_completed", "min_value": 2.0}


def test_a_new_suite_renders_the_same_every_time_as_gx_writes_it():
    expectations = [
        {"type": "expect_column_values_to_be_between", "column": "x", "min_value": 0},
        {"type": "expect_column_values_to_be_in_set", "column": "y", "value_set": ["a", True]},
    ]
    text = render.render_suite("mart_new", expectations)
    assert text == render.render_suite("mart_new", expectations)
    data = json.loads(text)
    assert list(data) == sorted(data) and data["name"] == "mart_new" and data["notes"] is None
    assert [e["kwargs"] for e in data["expectations"]] == [
        {"column": "x", "min_value": 0.0},
        {"column": "y", "value_set": ["a", True]},
    ]
    assert all(e["severity"] == "critical" and e["meta"] == {} for e in data["expectations"])
    assert len({data["id"], *(e["id"] for e in data["expectations"])}) == 3


def test_the_maintenance_command_rewrites_nothing_when_current(tmp_path):
    shutil.copytree(render.suites_dir(), tmp_path / "suites")
    shutil.copy(render.DOC_PATH, tmp_path / "sql.md")
    assert render.write_suites(tmp_path / "suites") == []
    assert render.write_reference(tmp_path / "sql.md") is False
    for path in (tmp_path / "suites").iterdir():
        assert path.read_bytes() == (render.suites_dir() / path.name).read_bytes()
    assert (tmp_path / "sql.md").read_bytes() == render.DOC_PATH.read_bytes()


def test_a_changed_column_doc_shows_in_docs_and_comments(monkeypatch):
    before = render.render_reference()
    doc = VIEWS["scores"]
    changed = dataclasses.replace(doc.columns[0], doc="Session | of the score.")
    monkeypatch.setitem(VIEWS, "scores", dataclasses.replace(doc, columns=(changed,)))
    after = render.render_reference()
    assert after != before
    assert "| `session_id` | VARCHAR | Session \\| of the score. |" in after
    assert "| `pain` |" in before and "| `pain` |" not in after.split("### `courses`")[0]
    assert render.comment_statements("scores", VIEWS["scores"], ["session_id", "pain"]) == [
        f"COMMENT ON VIEW scores IS 'One row per {doc.grain}. {doc.doc}'",
        "COMMENT ON COLUMN scores.session_id IS 'Session | of the score.'",
    ]
