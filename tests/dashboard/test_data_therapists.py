"""dashboard.data.therapists on the example warehouse (facts: conftest.py)."""

from __future__ import annotations

import datetime as dt

from dashboard import data


def test_therapists_table(example_warehouse):
    t = data.therapists_table("pain", example_warehouse, today=dt.date(2026, 11, 1)).set_index(
        "therapist_id"
    )
    assert t.loc["T01", "qualification_status"] == "valid"
    assert t.loc["T02", "qualification_status"] == "not qualified"
    assert (t.loc["T01", "sessions"], t.loc["T02", "sessions"]) == (2, 1)  # no-show not counted
    assert (t.loc["T01", "safety_alerts"], t.loc["T02", "safety_alerts"]) == (1, 1)
    assert t.loc["T01", "n"] == 0 and bool(t.loc["T01", "small_n"])
    assert data.qualification_status("X", dt.date(2026, 12, 1), dt.date(2026, 11, 1)).startswith(
        "expires"
    )
    assert data.qualification_status("X", dt.date(2026, 1, 1), dt.date(2026, 11, 1)).startswith(
        "expired"
    )
