"""The committed GX suites are the contract of pipelines/schema.py, and they catch each rule."""

import datetime as dt
import json

import pandas as pd
import pytest

from pipelines.ingest.normalise import normalise
from pipelines.schema import ENTITIES
from pipelines.settings import PROJECT_ROOT, load_settings
from pipelines.validation.rows import suite_parameters, validate_frame
from pipelines.validation.suites import all_suites

SUITES_DIR = PROJECT_ROOT / "expectations" / "gx" / "expectations"
LOAD_TIME = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def _canonical(expectation: dict) -> str:
    """Comparable text of an expectation: no nulls, every number a float."""
    clean = {
        k: float(v) if isinstance(v, int | float) and not isinstance(v, bool) else v
        for k, v in expectation.items()
        if v is not None
    }
    return json.dumps(clean, sort_keys=True)


@pytest.mark.parametrize("name", sorted(all_suites()))
def test_committed_suite_matches_the_contract(name):
    data = json.loads((SUITES_DIR / f"{name}.json").read_text())
    committed = sorted(_canonical({"type": e["type"], **e["kwargs"]}) for e in data["expectations"])
    built = sorted(_canonical(e) for e in all_suites()[name])
    assert committed == built, "run `outcomes write-suites` and commit"


def _validate(entity, rows):
    columns = ENTITIES[entity].column_names
    raw = pd.DataFrame([{c: r.get(c) for c in columns} for r in rows], dtype=object)
    raw = raw.where(raw.notna(), None)
    raw["_row_number"] = range(2, len(raw) + 2)
    typed = normalise(raw, entity, "UTC").typed
    params = suite_parameters(load_settings(env={}), LOAD_TIME)
    return validate_frame(entity, typed, params).row_reasons


def test_session_rules_each_give_a_reason_naming_the_expectation():
    base = {
        "session_id": "S1",
        "client_id": "C1",
        "therapist_id": "T1",
        "course_id": None,
        "started_at": "2026-11-20T10:00:00",
        "status": None,
        "duration_min": "60",
        "warmup_min": "7",
        "feet": "both",
        "direction": "both",
        "techniques": "rubbing;kneading",
        "spine_pressure": None,
        "discomfort_reported": None,
        "notes": None,
    }
    rows = [
        base,
        {**base, "session_id": None},
        {**base, "started_at": "2026-11-24T13:00:00"},  # > 1 day after loading
        {**base, "started_at": "2026-11-24T11:00:00"},  # < 1 day after loading: fine
        {**base, "status": "postponed"},
        {**base, "duration_min": "241"},
        {**base, "warmup_min": "-1"},
        {**base, "feet": "three"},
        {**base, "techniques": "rubbing;tapping"},
    ]
    reasons = _validate("sessions", rows)
    assert set(reasons) == {1, 2, 4, 5, 6, 7, 8}
    assert reasons[1] == [
        "session_id: required value is missing [expect_column_values_to_not_be_null]"
    ]
    assert "started_at" in reasons[2][0] and "be_between" in reasons[2][0]
    assert "'postponed' is not one of completed, cancelled, no_show" in reasons[4][0]
    assert reasons[5] == ["duration_min: 241 is outside 1–240 [expect_column_values_to_be_between]"]
    assert "tapping" in reasons[8][0] and "match_regex" in reasons[8][0]


def test_client_birth_date_not_in_future_and_age_at_most_120():
    base = {"client_id": "C1", "birth_date": "1990-01-01"}
    rows = [
        base,
        {**base, "birth_date": "2026-11-24"},
        {**base, "birth_date": "1906-11-22"},
        {**base, "birth_date": "1906-11-23"},
    ]
    assert set(_validate("clients", rows)) == {1, 2}


def test_score_rows_need_one_score_and_scores_stay_within_0_to_10():
    base = {"session_id": "S1", "timing": "pre", "pain": "3"}
    rows = [
        base,
        {"session_id": "S1", "timing": "post"},
        {**base, "pain": "10.5"},
        {**base, "timing": "during"},
    ]
    reasons = _validate("scores", rows)
    assert set(reasons) == {1, 2, 3}
    assert reasons[1][0].startswith("all three scores")


def _validate_sessions_in(tz: str, starts: list[str], **env: str) -> dict[int, list[str]]:
    base = {"session_id": "S1", "client_id": "C1", "therapist_id": "T1"}
    columns = ENTITIES["sessions"].column_names
    raw = pd.DataFrame(
        [{c: {**base, "started_at": s}.get(c) for c in columns} for s in starts], dtype=object
    )
    raw = raw.where(raw.notna(), None)
    raw["_row_number"] = range(2, len(raw) + 2)
    settings = load_settings(env={"OUTCOMES_CLINIC_TIMEZONE": tz, **env})
    typed = normalise(raw, "sessions", tz).typed
    return validate_frame("sessions", typed, suite_parameters(settings, LOAD_TIME)).row_reasons


def test_sessions_before_the_earliest_start_are_quarantined_at_the_clinic_s_midnight():
    starts = [
        "1989-12-31T23:59:00",  # the clinic's last minute of 1989: before
        "1990-01-01T00:00:00",  # the clinic's first minute of 1990: fine
        "1989-12-31T23:30:00+00:00",  # 00:30 in Warsaw on 1990-01-01: fine
        "1990-01-01T00:30:00+02:00",  # 23:30 in Warsaw on 1989-12-31: before
        "0001-01-01T00:00:00",
    ]
    reasons = _validate_sessions_in("Europe/Warsaw", starts)
    assert set(reasons) == {0, 3, 4}
    for pos in (0, 3, 4):
        [reason] = reasons[pos]
        assert reason.startswith("started_at: ")
        assert "is before 1990-01-01 in the clinic's time zone (setting min_started_at)" in reason
        assert reason.endswith("[expect_column_values_to_be_between]")


def test_the_earliest_start_is_a_setting():
    reasons = _validate_sessions_in(
        "UTC", ["1999-12-31T23:59:59", "2000-01-01T00:00:00"], OUTCOMES_MIN_STARTED_AT="2000-01-01"
    )
    assert set(reasons) == {0}
    assert "is before 2000-01-01" in reasons[0][0]
