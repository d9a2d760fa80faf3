"""dashboard.data.client on the example warehouse (facts: conftest.py)."""

from __future__ import annotations

from dashboard import data


def test_search_clients_by_id_prefix_and_name(example_warehouse):
    assert list(data.search_clients("c00", db=example_warehouse)["client_id"]) == [
        "C001", "C002", "C003",
    ]  # fmt: skip
    assert list(data.search_clients("C002", db=example_warehouse)["client_id"]) == ["C002"]
    assert list(data.search_clients("anna", db=example_warehouse)["client_id"]) == ["C001"]
    assert data.search_clients("%", db=example_warehouse).empty  # no LIKE wildcards
    assert len(data.search_clients("c", limit=2, db=example_warehouse)) == 2


def test_client_detail_c001(example_warehouse):
    d = data.client_detail("C001", example_warehouse)
    assert d.client["name"] == "Anna K." and d.client["cohort"] == "athlete"
    assert d.current_course["course_id"] == "C001-1"
    assert d.current_course["status"] == "in_progress"
    assert d.current_course["sessions_completed"] == 2
    assert d.discomfort_at_last_session
    assert d.last_session["session_id"] == "S0002" and d.last_session["notes"] == "calf tender"
    assert list(d.alerts["alert_type"]) == ["discomfort"]
    assert bool(d.alerts["at_last_session"].iloc[0])
    assert list(d.sessions["pre_pain"]) == [7.0, 6.0]
    assert d.sessions["post_pain"].iloc[0] == 5.0
    pain = d.progress.set_index("metric").loc["pain"]
    assert (pain["baseline"], pain["latest"], pain["improvement"]) == (7.0, 6.0, 1.0)
    assert pain["responder_label"] == "below MCID 2"
    mobility = d.progress.set_index("metric").loc["mobility"]
    assert mobility["improvement_label"] == "not enough scores yet"  # S0002 mobility is null
    assert d.courses["course_id"].tolist() == ["C001-1"]


def test_client_detail_other_clients(example_warehouse):
    c2 = data.client_detail("C002", example_warehouse)
    assert c2.current_course["course_id"] == "K-17"
    assert not c2.discomfort_at_last_session
    assert list(c2.alerts["alert_type"]) == ["unqualified_therapist"]
    c3 = data.client_detail("C003", example_warehouse)
    assert c3.current_course is None and c3.sessions.empty
    assert c3.client["contraindications"] == ["bronchial_asthma"]
    assert data.client_detail("nobody", example_warehouse) is None
