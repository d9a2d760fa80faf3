"""Run a GX suite over a typed frame and turn its results into per-row reasons."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pandas as pd

from pipelines.schema import SCORES_GIVEN
from pipelines.settings import Settings
from pipelines.validation.gx_context import run_validation


@dataclass
class ValidationOutcome:
    suite: str
    success: bool
    evaluated: int
    failed: int
    row_reasons: dict[int, list[str]]
    """Row position -> every rule it broke, in words, naming the GX expectation."""
    details: list[dict[str, Any]]

    @property
    def unexpected_rows(self) -> int:
        return len(self.row_reasons)

    def details_json(self) -> str:
        return json.dumps(self.details, default=str)


def suite_parameters(settings: Settings, load_time: dt.datetime) -> dict[str, Any]:
    """Values of the date-dependent rules for a load that starts at `load_time` (UTC)."""
    today = pd.Timestamp(load_time).tz_convert(settings.clinic_timezone).normalize()
    today = today.tz_localize(None)
    earliest = pd.Timestamp(settings.min_started_at).tz_localize(settings.clinic_timezone)
    return {
        "earliest_start": earliest.tz_convert("UTC"),  # midnight in the clinic's zone
        "earliest_start_date": settings.min_started_at.isoformat(),  # for the reason's words
        "today": today,
        "oldest_birth_date": today - pd.DateOffset(years=settings.max_age_years),
        "latest_start": pd.Timestamp(load_time)
        + pd.Timedelta(days=settings.max_started_ahead_days),
    }


def _fmt(value: object) -> str:
    if isinstance(value, pd.Timestamp):
        return value.isoformat() if value.time() != dt.time(0) or value.tz else str(value.date())
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _reason(kind: str, kwargs: dict[str, Any], value: object, parameters: dict[str, Any]) -> str:
    """A sentence a clinic owner understands, ending with the expectation's name."""
    column = kwargs.get("column", "")
    if kind == "expect_column_values_to_not_be_null":
        text = f"{column}: required value is missing"
    elif kind == "expect_column_values_to_be_between" and column == SCORES_GIVEN:
        text = "all three scores (pain, muscle_tone, mobility) are blank"
    elif kind == "expect_column_values_to_be_between":
        low, high = kwargs.get("min_value"), kwargs.get("max_value")
        if column == "birth_date":
            text = f"birth_date: {_fmt(value)} is in the future or more than the maximum age ago"
        elif column == "started_at" and low is not None:
            earliest = parameters.get("earliest_start_date", "the earliest allowed start")
            text = (
                f"started_at: {_fmt(value)} is before {earliest} in the clinic's time zone "
                "(setting min_started_at)"
            )
        elif column == "started_at":
            text = f"started_at: {_fmt(value)} is more than the allowed time after loading"
        elif low is None:
            text = f"{column}: {_fmt(value)} is above {_fmt(high)}"
        elif high is None:
            text = f"{column}: {_fmt(value)} is below {_fmt(low)}"
        else:
            text = f"{column}: {_fmt(value)} is outside {_fmt(low)}–{_fmt(high)}"
    elif kind == "expect_column_values_to_be_in_set":
        allowed = ", ".join(kwargs.get("value_set", []))
        text = f"{column}: {value!r} is not one of {allowed}"
    elif kind == "expect_column_values_to_match_regex":
        text = f"{column}: {value!r} has an unknown code"
    else:
        text = f"{column}: {value!r} breaks the rule"
    return f"{text} [{kind}]"


def validate_frame(
    suite: str, frame: pd.DataFrame, parameters: dict[str, Any] | None = None
) -> ValidationOutcome:
    """Validate `frame` (positional index) with `suite`; reasons keyed by row position."""
    frame = frame.reset_index(drop=True)
    result = run_validation(suite, frame, parameters)
    reasons: dict[int, list[str]] = defaultdict(list)
    details = []
    for r in result.results:
        config = r.expectation_config
        kwargs = dict(config.kwargs)
        res = r.result or {}
        details.append(
            {
                "expectation": config.type,
                "column": kwargs.get("column"),
                "success": r.success,
                "unexpected_count": res.get("unexpected_count"),
                "sample": [_fmt(v) for v in (res.get("partial_unexpected_list") or [])[:10]],
                "error": (r.exception_info or {}).get("exception_message"),
            }
        )
        if r.success:
            continue
        column = kwargs.get("column")
        for pos in res.get("unexpected_index_list") or []:
            value = frame.at[pos, column] if column in frame else None
            reasons[int(pos)].append(_reason(config.type, kwargs, value, parameters or {}))
    stats = result.statistics
    return ValidationOutcome(
        suite=suite,
        success=bool(result.success),
        evaluated=int(stats.get("evaluated_expectations", 0)),
        failed=int(stats.get("unsuccessful_expectations", 0)),
        row_reasons=dict(reasons),
        details=details,
    )
