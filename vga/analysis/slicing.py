"""Pattern slicing: which segments, regions, CSMs or partners lose customers.

Definition (metric definitions, "Pattern slicing"): for every slicing
dimension and each non-empty value with at least ``min_accounts`` cohort
accounts, the slice's logo churn is compared with the rest of the cohort
(every other cohort account, those with an empty value included) by
Fisher's exact test, two-sided, as ``scipy.stats.fisher_exact`` computes it.
The p-values of all tested slices of a run are adjusted together by
Benjamini-Hochberg (``statsmodels`` ``fdr_bh``); a slice is flagged when its
adjusted value (q) is below ``alpha``, in either direction. Smaller slices
are listed but neither tested nor flagged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..stats import adjust_table, fisher_p

#: Optional ``accounts`` columns that are slicing dimensions when present.
STANDARD_DIMENSIONS = (
    "segment",
    "region",
    "vertical",
    "product",
    "persona",
    "use_case",
    "csm",
    "sales_rep",
    "channel_partner",
)

SLICE_COLUMNS = [
    "dimension",
    "value",
    "accounts",
    "churned",
    "churn_rate",
    "rest_accounts",
    "rest_churned",
    "rest_churn_rate",
    "p_value",
    "q_value",
    "flagged",
    "tested",
]


def slicing_dimensions(accounts: pd.DataFrame, extra: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The standard dimension columns present in ``accounts``, then ``extra``."""
    dims = [d for d in STANDARD_DIMENSIONS if d in accounts.columns]
    dims += [d for d in extra if d in accounts.columns and d not in dims]
    return dims


def slice_churn(
    cohort: pd.DataFrame,
    accounts: pd.DataFrame,
    dimensions: list[str],
    min_accounts: int = 10,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Churn per (dimension, value) against the rest of the cohort.

    ``cohort`` is :func:`vga.analysis.retention.cohort_table` output (``account_id``,
    ``churned``); ``accounts`` supplies the dimension values. Returns one
    row per (dimension, value) with at least one cohort account, columns
    :data:`SLICE_COLUMNS`; ``p_value``/``q_value`` are NaN when not tested.
    """
    attrs = accounts.drop_duplicates("account_id").set_index("account_id")
    churned = cohort.set_index("account_id")["churned"].astype(bool)
    total, total_churned = len(churned), int(churned.sum())
    rows = []
    for dim in dimensions:
        values = attrs[dim].reindex(churned.index) if dim in attrs.columns else pd.Series(index=churned.index, dtype=object)
        values = values.astype(object).where(values.notna(), "")
        values = values.map(lambda v: str(v).strip())
        for value in sorted(v for v in values.unique() if v != ""):
            members = values == value
            n, c = int(members.sum()), int(churned[members].sum())
            rest_n, rest_c = total - n, total_churned - c
            tested = n >= min_accounts
            p = np.nan
            if tested:
                p = fisher_p(c, n, rest_c, rest_n)
            rows.append(
                {
                    "dimension": dim,
                    "value": value,
                    "accounts": n,
                    "churned": c,
                    "churn_rate": c / n,
                    "rest_accounts": rest_n,
                    "rest_churned": rest_c,
                    "rest_churn_rate": (rest_c / rest_n) if rest_n else np.nan,
                    "p_value": float(p),
                    "tested": tested,
                }
            )
    table = pd.DataFrame(rows, columns=[c for c in SLICE_COLUMNS if c not in ("q_value", "flagged")])
    return adjust_table(table, alpha)[SLICE_COLUMNS]
