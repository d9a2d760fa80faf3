import re

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from pipelines.ingest import normalise as normalise_module
from pipelines.ingest.normalise import normalise, parse_timestamps


def _frame(**cols):
    n = len(next(iter(cols.values())))
    return pd.DataFrame({**cols, "_row_number": range(2, n + 2)}, dtype=object)


def test_naive_timestamps_are_clinic_time_and_offsets_are_respected():
    raw = pd.Series(["2026-09-02T10:00:00", "2026-09-02T10:00:00+02:00", "2026-09-02", None])
    ts = parse_timestamps(raw, "Europe/Berlin")
    assert ts[0] == pd.Timestamp("2026-09-02 08:00", tz="UTC")  # CEST is UTC+2
    assert ts[1] == pd.Timestamp("2026-09-02 08:00", tz="UTC")
    assert ts[2] == pd.Timestamp("2026-09-01 22:00", tz="UTC")  # a bare date is midnight
    assert pd.isna(ts[3])


def test_type_failures_become_null_with_a_reason():
    raw = _frame(
        client_id=["C1", "C2"],
        name=[None, None],
        birth_date=["1990-02-30", "1990-01-01"],
        sex=["f", "M"],
        height_cm=["17O", "180,5"],
        weight_kg=[None, "80"],
        athlete=["maybe", "Y"],
        contraindications=[" Pregnancy ;; bronchial_asthma", None],
        intake_date=[None, None],
    )
    out = normalise(raw, "clients", "UTC")
    assert pd.isna(out.typed.loc[0, "birth_date"]) and pd.isna(out.typed.loc[0, "height_cm"])
    assert len(out.parse_errors[0]) == 3  # birth_date, height_cm, athlete
    assert any("'17O' is not a number" in r for r in out.parse_errors[0])
    assert 1 not in out.parse_errors
    assert out.typed.loc[1, "height_cm"] == 180.5  # a decimal comma is accepted
    assert bool(out.typed.loc[1, "athlete"]) is True
    assert out.typed.loc[0, "sex"] == "F"  # codes are matched case-insensitively
    assert out.typed.loc[0, "contraindications"] == "pregnancy;bronchial_asthma"


def test_scores_count_how_many_metrics_were_given():
    raw = _frame(
        session_id=["S1", "S2"],
        client_id=[None, None],
        timing=["pre", "post"],
        pain=["3", None],
        muscle_tone=[None, None],
        mobility=["7", None],
        recorded_at=[None, None],
    )
    assert normalise(raw, "scores", "UTC").typed["_scores_given"].tolist() == [2, 0]


# --- timestamp shapes are matched by Arrow's RE2: Python's re verdicts, ASCII digits --------

_TIMESTAMP_ALPHABET = "0123456789-:+.TZ tz\u0663\u00e9"  # Arabic-Indic 3, a letter


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(_TIMESTAMP_ALPHABET, max_size=30),
            st.datetimes().map(lambda d: d.isoformat()),
            st.datetimes().map(lambda d: d.isoformat(timespec="minutes") + "+01:00"),
        ).map(str.strip),
        min_size=1,
        max_size=20,
    )
)
def test_timestamp_shapes_match_as_python_re_says(values):
    text = pd.Series(values, dtype=object)
    for pattern in (normalise_module._ISO_TIMESTAMP, normalise_module._HAS_OFFSET):
        expected = [re.search(pattern, v, re.ASCII) is not None for v in values]
        assert normalise_module._matches(text, pattern).tolist() == expected


def test_other_digits_are_no_timestamp_as_before():
    # Python's \d took them, then pandas refused them: NaT and a reason either way
    parsed = parse_timestamps(pd.Series(["\u0662\u0660\u0662\u0666-03-01T10:00"]), "UTC")
    assert parsed.isna().all()


def test_a_value_that_is_not_text_is_no_timestamp():
    parsed = parse_timestamps(pd.Series(["2026-03-01T10:00", 20260301], dtype=object), "UTC")
    assert parsed.iloc[0] == pd.Timestamp("2026-03-01T10:00", tz="UTC")
    assert pd.isna(parsed.iloc[1])
