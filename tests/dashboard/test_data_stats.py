"""dashboard.data.stats: the t interval of a mean (as cohort_outcomes) and Wilson's of a rate."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from dashboard import data


def test_mean_ci_matches_t_interval():
    stats = data.mean_ci(pd.Series([1.0, 2.0, 3.0]))
    # mean 2, s = 1, t(0.975, 2) = 4.303: half width 4.303 / sqrt(3) = 2.484
    assert stats["n"] == 3 and stats["mean"] == 2.0
    assert stats["ci_high"] - 2.0 == pytest.approx(4.302653 / math.sqrt(3), rel=1e-5)
    rate, low, high = data.wilson_ci(5, 10)
    assert (
        rate == 0.5
        and low == pytest.approx(0.2366, abs=1e-3)
        and high == pytest.approx(0.7634, abs=1e-3)
    )


def test_mean_ci_by_gives_each_group_its_own_mean_ci():
    values = pd.Series([1.0, 2.0, 3.0, 5.0, None, 4.0, None])
    keys = pd.Series(["a", "a", "a", "b", "b", "c", "d"])  # b: one value; d: none
    stats = data.mean_ci_by(values, keys)
    assert list(stats.index) == ["a", "b", "c"]  # a key without values has no row
    for key in ("a", "b", "c"):
        expected = data.mean_ci(values[keys == key])
        row = stats.loc[key]
        assert row["n"] == expected["n"] and row["mean"] == pytest.approx(expected["mean"])
        for bound in ("ci_low", "ci_high"):
            if expected[bound] is None:
                assert math.isnan(row[bound])
            else:
                assert row[bound] == pytest.approx(expected[bound], rel=1e-12)
    assert stats.loc["a", "ci_high"] - 2.0 == pytest.approx(4.302653 / math.sqrt(3), rel=1e-5)
