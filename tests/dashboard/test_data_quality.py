"""dashboard.data.quality (and the view browser's columns) on the example warehouse and on
a delivery with bad rows (facts: conftest.py)."""

from __future__ import annotations

import shutil

from dashboard import data


def test_quality_tables(example_warehouse):
    log = data.load_log(example_warehouse)
    assert sorted(log["entity"]) == ["clients", "scores", "sessions", "therapists"]
    assert (log["rows_read"] == log["rows_loaded"]).all()
    assert data.quarantine(db=example_warehouse).empty
    assert data.quarantine("sessions", "unknown", example_warehouse).empty
    gx = data.gx_results(example_warehouse)
    assert len(gx) > 0 and gx["success"].all() and (gx["failed"] == "").all()
    assert len(data.runs(example_warehouse)) == 1
    schema = data.view_columns(example_warehouse)
    assert list(dict.fromkeys(schema["view"])) == list(data.ANALYST_VIEWS)
    assert {"client_id", "cohort", "bmi"} <= set(schema.loc[schema["view"] == "clients", "column"])


def test_quarantine_filters(tmp_path, module_cli, prefect_api, examples_dir):
    """A delivery with a bad score row: it shows up, and the filters narrow it."""
    delivery = tmp_path / "in"
    shutil.copytree(examples_dir, delivery)
    with (delivery / "scores.jsonl").open("a") as f:
        f.write('{"session_id": "S9999", "timing": "pre", "pain": 3}\n')
        f.write('{"session_id": "S0003", "timing": "post", "pain": 14}\n')
    db = tmp_path / "w.duckdb"
    module_cli("ingest", str(delivery), "--db", str(db), api_url=prefect_api)
    q = data.quarantine(db=db)
    assert len(q) == 2 and set(q["entity"]) == {"scores"}
    assert data.quarantine("clients", db=db).empty
    assert (
        len(data.quarantine("scores", "S9999", db=db)) + len(data.quarantine("scores", "14", db=db))
        >= 1
    )
    assert data.overview(db)["open_quarantine"] == 2
