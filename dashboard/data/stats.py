"""Statistics of the dashboard's figures: the 95 % t interval of a mean (as
cohort_outcomes computes it) and the Wilson interval of a rate."""

from __future__ import annotations

import functools
import math
from typing import Any

import pandas as pd

SMALL_N = 10  # groups below this are labelled "small n" (never hidden)


@functools.cache
def t975(df: int) -> float:
    """The Student t 0.975 quantile with `df` degrees of freedom."""
    from scipy.stats import t  # lazy: scipy is only needed once a page asks for an interval

    return float(t.ppf(0.975, df))


def mean_ci_by(values: pd.Series, keys: pd.Series) -> pd.DataFrame:
    """For each key at once: n, mean and its 95 % t interval (NaN when n < 2), like
    cohort_outcomes; indexed by key, keys in order of first appearance."""
    numbers = pd.to_numeric(values, errors="coerce").astype(float)
    groups = numbers.groupby(keys.to_numpy(), sort=False).agg(["count", "mean", "std"])
    groups = groups[groups["count"] > 0]
    n = groups["count"].astype(int)
    quantiles = [t975(k - 1) if k >= 2 else math.nan for k in n]  # one scipy call per group
    half = pd.Series(quantiles, index=groups.index) * groups["std"] / n.pow(0.5)
    return pd.DataFrame(
        {
            "n": n,
            "mean": groups["mean"],
            "ci_low": groups["mean"] - half,
            "ci_high": groups["mean"] + half,
        }  # fmt: skip
    )


def mean_ci(values: pd.Series) -> dict[str, Any]:
    """n, mean and its 95 % t interval (None when n < 2), like cohort_outcomes."""
    groups = mean_ci_by(values, pd.Series(0, index=values.index))
    if groups.empty:
        return {"n": 0, "mean": None, "ci_low": None, "ci_high": None}
    row = groups.iloc[0]
    found: dict[str, Any] = {"n": int(row["n"])}
    for name in ("mean", "ci_low", "ci_high"):
        found[name] = None if math.isnan(row[name]) else float(row[name])
    return found


def wilson_ci(successes: int, n: int) -> tuple[float | None, float | None, float | None]:
    """Rate with its 95 % Wilson interval (good for small n and rates near 0 or 1)."""
    if n == 0:
        return None, None, None
    z = 1.959963984540054
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return p, max(0.0, centre - half), min(1.0, centre + half)


def ratio(part: int, whole: int) -> float | None:
    """part / whole; None when whole is 0 (a rate over nothing is not 0)."""
    return part / whole if whole else None
