"""dashboard.data.overview_kpis on the example warehouse (facts: conftest.py)."""

from __future__ import annotations

import datetime as dt

from dashboard import data


def test_overview_kpis(example_warehouse):
    o = data.overview(example_warehouse)
    assert o["as_of"] == dt.date(2026, 9, 5)
    assert (o["active_clients"], o["in_progress"], o["completed"], o["dropped_out"]) == (2, 2, 0, 0)
    assert o["completion_rate"] is None and o["dropout_rate"] is None  # 0/0, not 0
    assert o["improvement"] == {"n": 0, "mean": None, "ci_low": None, "ci_high": None}
    assert o["open_safety_alerts"] == 2  # discomfort S0002 + unqualified T02 on S0003
    assert o["open_quarantine"] == 0
    assert o["weekly"]["sessions"].sum() == 3  # completed sessions only
    assert o["last_run"]["status"] == "succeeded" and o["last_run"]["files_loaded"] == 4
