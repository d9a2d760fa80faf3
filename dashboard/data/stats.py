"""Statistics of the dashboard's figures: the 95 % t interval of a mean and the Wilson
interval of a rate.

The marts compute the t interval of every cohort's mean improvement at load time
(cohort_outcomes.ci95_low/ci95_high): the dashboard reads those. It computes an interval
only for groups no mart holds (a filtered set of courses, a therapist, all cohorts at once,
a trajectory point), and always with `t_half_width`, the same formula.
"""

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


def t_half_width(n: pd.Series, sd: pd.Series) -> pd.Series:
    """Half width of the 95 % t interval of each mean, t(0.975, n − 1) × sd / √n, the
    formula of cohort_outcomes' ci95_low/ci95_high; NaN when n < 2 or sd is missing."""
    counts = n.astype(int)
    quantiles = [t975(k - 1) if k >= 2 else math.nan for k in counts]  # one scipy call per df
    return pd.Series(quantiles, index=n.index, dtype=float) * sd / counts.pow(0.5)


def mean_ci_by(values: pd.Series, keys: pd.Series) -> pd.DataFrame:
    """For each key at once: n, mean and its 95 % t interval (NaN when n < 2), like
    cohort_outcomes; indexed by key, keys in order of first appearance."""
    numbers = pd.to_numeric(values, errors="coerce").astype(float)
    groups = numbers.groupby(keys.to_numpy(), sort=False).agg(["count", "mean", "std"])
    groups = groups[groups["count"] > 0]
    n = groups["count"].astype(int)
    half = t_half_width(n, groups["std"])
    return pd.DataFrame(
        {
            "n": n,
            "mean": groups["mean"],
            "ci_low": groups["mean"] - half,
            "ci_high": groups["mean"] + half,
        }  # fmt: skip
    )


def interval_of(groups: pd.DataFrame, key: Any) -> dict[str, Any]:
    """One group of a table shaped like mean_ci_by's (indexed by key; n, mean, ci_low,
    ci_high) as a dict, None where there is no value; n 0 for a key without a row."""
    if key not in groups.index:
        return {"n": 0, "mean": None, "ci_low": None, "ci_high": None}
    row = groups.loc[key]
    found: dict[str, Any] = {"n": int(row["n"])}
    for name in ("mean", "ci_low", "ci_high"):
        found[name] = None if pd.isna(row[name]) else float(row[name])
    return found


def mean_ci(values: pd.Series) -> dict[str, Any]:
    """n, mean and its 95 % t interval (None when n < 2), like cohort_outcomes."""
    return interval_of(mean_ci_by(values, pd.Series(0, index=values.index)), 0)


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
