"""The statistics every analysis uses, each written once.

- **Multiple testing**: :func:`bh_q_values` (Benjamini-Hochberg false
  discovery rate, statsmodels ``fdr_bh``) and :func:`adjust_table`, which
  gives a table's tested rows their q values and flags those below alpha.
  A table's rows are adjusted together: a long table does not flag noise.
- **Two groups, yes/no outcome (a 2x2 table)**: :func:`fisher_p` (Fisher's
  exact test, scipy) and :func:`share_difference_interval` (Newcombe's
  hybrid score interval of the difference of two shares, statsmodels) with
  :func:`share_difference_p` (the Agresti-Caffo test of that difference).
- **One share**: :func:`share_interval` (Wilson score interval).
- **Two groups, numeric outcome**: :func:`welch` (difference of means, its
  Welch interval and Welch's t-test); one group: :func:`mean_interval`
  (t-interval and one-sample t-test against 0).
- **Effect size of a rate**: :func:`rate_ratio`.
- **Words for evidence**: :func:`confidence` ("high", "medium", "low", "uncertain") from
  a q value and the configured ``[analysis] alpha``.

Shares are fractions in 0..1; intervals are two-sided at ``1 - alpha``
(95% by default). Every function returns plain floats (NaN where a figure is
undefined, never an exception for an empty group).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.stats import fisher_exact
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint, test_proportions_2indep
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

#: The default significance level (``[analysis] alpha``).
ALPHA = 0.05


def bh_q_values(p_values) -> np.ndarray:
    """Benjamini-Hochberg adjusted p values (q values), in the given order;
    an empty input gives an empty array."""
    p = np.asarray(list(p_values), dtype=float)
    if not len(p):
        return p
    return multipletests(p, method="fdr_bh")[1]


def adjust_table(table: pd.DataFrame, alpha: float = ALPHA) -> pd.DataFrame:
    """``table`` with ``q_value`` (BH over the rows whose ``tested`` is true,
    NaN elsewhere), ``flagged`` (tested and q < ``alpha``) and ``tested`` as a
    plain bool column. The table is changed in place and returned."""
    table["q_value"] = np.nan
    tested = table["tested"].astype(bool) if len(table) else pd.Series(False, index=table.index, dtype=bool)
    if tested.any():
        table.loc[tested, "q_value"] = bh_q_values(table.loc[tested, "p_value"].to_numpy(float))
    table["flagged"] = tested & (table["q_value"] < alpha)
    table["tested"] = tested
    return table


def fisher_p(hits_a: int, n_a: int, hits_b: int, n_b: int, alternative: str = "two-sided") -> float:
    """Fisher's exact test of ``hits_a`` of ``n_a`` against ``hits_b`` of
    ``n_b``; ``alternative="greater"``: group a has the larger share."""
    return float(fisher_exact([[hits_a, n_a - hits_a], [hits_b, n_b - hits_b]], alternative=alternative)[1])


def share_difference_interval(hits_a: int, n_a: int, hits_b: int, n_b: int,
                              alpha: float = ALPHA) -> tuple[float, float]:
    """Newcombe's interval of ``hits_a/n_a - hits_b/n_b``."""
    with warnings.catch_warnings():  # statsmodels also forms ratios, undefined when both shares are 0
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = confint_proportions_2indep(hits_a, n_a, hits_b, n_b, method="newcomb", compare="diff", alpha=alpha)
    return float(low), float(high)


def share_difference_p(hits_a: int, n_a: int, hits_b: int, n_b: int) -> float:
    """The Agresti-Caffo test's two-sided p value of ``hits_a/n_a - hits_b/n_b``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(test_proportions_2indep(hits_a, n_a, hits_b, n_b, compare="diff").pvalue)


def share_interval(hits: int, n: int, alpha: float = ALPHA) -> tuple[float, float]:
    """Wilson's interval of the share ``hits/n``; NaN for an empty group."""
    if not n:
        return np.nan, np.nan
    low, high = proportion_confint(hits, n, alpha=alpha, method="wilson")
    return float(low), float(high)


def welch(first, second, alpha: float = ALPHA) -> tuple[float, float, float]:
    """``(low, high, p)``: Welch's interval of mean(first) - mean(second) and
    Welch's two-sided t-test. Two groups without spread: the interval is the
    difference itself and p is 1 when it is 0, else 0."""
    a, b = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    if a.std() == 0 and b.std() == 0:
        difference = float(a.mean() - b.mean())
        return difference, difference, 1.0 if difference == 0 else 0.0
    means = CompareMeans(DescrStatsW(a), DescrStatsW(b))
    low, high = means.tconfint_diff(alpha=alpha, usevar="unequal")
    return float(low), float(high), float(means.ttest_ind(usevar="unequal")[1])


def mean_interval(values, alpha: float = ALPHA) -> tuple[float, float, float]:
    """``(low, high, p)``: the t-interval of the mean and the one-sample
    t-test against 0. Values without spread: the interval is the value and p
    is 1 when it is 0, else 0."""
    v = np.asarray(values, dtype=float)
    if np.std(v) == 0:
        value = float(v[0])
        return value, value, 1.0 if value == 0 else 0.0
    described = DescrStatsW(v)
    low, high = described.tconfint_mean(alpha=alpha)
    return float(low), float(high), float(described.ttest_mean(0)[1])


def rate_ratio(rate: float, reference: float) -> float:
    """``rate / reference``: infinite when only the reference is 0, NaN when both are."""
    if reference == 0:
        return np.nan if rate == 0 else np.inf
    return rate / reference


def confidence(q_value, alpha: float = ALPHA, interval_low=None) -> str:
    """A word for how sure the analysis is that a gap is real: "high" below
    a fifth of ``alpha`` (q < 0.01 at the default 0.05), "medium" below
    ``alpha``, "low" otherwise; "descriptive" without a test (no q value).
    ``interval_low``: the lower end of the 95% interval of what the gap
    costs, where one is known; at or below 0 the gap may cost nothing, and
    a gap that passed its test is "uncertain" (tested, but its money may be
    zero), never "high" or "medium"."""
    if q_value is None or q_value != q_value:
        return "descriptive"
    word = "high" if q_value < alpha / 5 else "medium" if q_value < alpha else "low"
    if word != "low" and interval_low is not None and interval_low == interval_low and interval_low <= 0:
        return "uncertain"
    return word
