"""Two groups compared on one measure: the difference and its uncertainty.

Used wherever the report says "renewed customers do X more than churned
ones": every difference comes with a 95% confidence interval and a p-value,
and the p-values of one table are adjusted together (Benjamini-Hochberg), so
that a long table of comparisons does not flag noise.

- A yes/no measure (a milestone completed, a feature used): the share in each
  group, the difference of shares (first minus second) with Newcombe's
  interval (statsmodels ``confint_proportions_2indep``), and Fisher's exact
  test (scipy), two-sided.
- A numeric measure (days to first value, tickets): the mean and median in
  each group, the difference of means with Welch's interval (statsmodels
  ``CompareMeans``), and Welch's t-test.

Missing values are left out of each group (``*_n`` counts what was used).
A measure with no value in either group is left out of a table (there is
nothing to compare); one with fewer than ``min_n`` values in either group
is listed and not tested (empty interval and p-value), and never flagged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..stats import adjust_table, fisher_p, share_difference_interval, welch

COMPARISON_COLUMNS = [
    "measure", "kind", "first_n", "first_value", "second_n", "second_value", "difference", "ci_lower", "ci_upper",
    "p_value", "q_value", "flagged", "tested",
]
#: The types of a comparison table's columns, for reading it back (``results/``).
COMPARISON_TYPES = {"kind": "str", "first_n": "int", "first_value": "float", "second_n": "int", "second_value": "float",
                    "difference": "float", "ci_lower": "float", "ci_upper": "float", "p_value": "float",
                    "q_value": "float", "flagged": "bool", "tested": "bool"}


def compare(first: pd.Series, second: pd.Series, min_n: int = 10) -> dict:
    """One comparison of ``first`` against ``second`` (see the module
    docstring). Booleans are compared as shares, numbers as means."""
    a, b = first.dropna(), second.dropna()
    # A yes/no measure arrives as bool (or pandas "boolean", which holds missing values).
    kind = "share" if pd.api.types.is_bool_dtype(first) or pd.api.types.is_bool_dtype(second) else "mean"
    if kind == "share":
        a, b = a.astype(bool), b.astype(bool)
    else:
        a, b = a.astype(float), b.astype(float)
    row = {"kind": kind, "first_n": int(len(a)), "second_n": int(len(b)),
           "first_value": float(a.mean()) if len(a) else np.nan, "second_value": float(b.mean()) if len(b) else np.nan}
    row["difference"] = row["first_value"] - row["second_value"]
    row.update(ci_lower=np.nan, ci_upper=np.nan, p_value=np.nan, tested=False)
    if len(a) < min_n or len(b) < min_n:
        return row
    if kind == "share":
        ka, kb = int(a.sum()), int(b.sum())
        low, high = share_difference_interval(ka, len(a), kb, len(b))
        p = fisher_p(ka, len(a), kb, len(b))
    else:
        low, high, p = welch(a.to_numpy(), b.to_numpy())
    row.update(ci_lower=float(low), ci_upper=float(high), p_value=float(p), tested=True)
    return row


def compare_table(rows: list[tuple[str, pd.Series, pd.Series]], alpha: float = 0.05, min_n: int = 10) -> pd.DataFrame:
    """Each (measure, first, second) compared; p-values of the tested rows
    adjusted together by Benjamini-Hochberg into ``q_value``; ``flagged``
    where q < ``alpha``. Columns :data:`COMPARISON_COLUMNS`."""
    table = pd.DataFrame([{"measure": name, **compare(first, second, min_n)} for name, first, second in rows],
                         columns=[c for c in COMPARISON_COLUMNS if c not in ("q_value", "flagged")])
    # A measure with no value in one of the groups compares nothing: it is
    # left out, never shown as a figure against an empty group.
    table = table[(table["first_n"] > 0) & (table["second_n"] > 0)].reset_index(drop=True)
    return adjust_table(table, alpha)[COMPARISON_COLUMNS]
