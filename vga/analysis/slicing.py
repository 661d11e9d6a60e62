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

Those are the spec's columns. Because "the rest" there holds the accounts
with no value, a slice can be flagged only because the unknowns churn
unlike everyone else (a gender M "churning more than the rest" when the
rest is F plus members with no gender who hardly churn). So each slice is
also compared with the other *known* values of its dimension only:
``known_rest_accounts``, ``known_rest_churned``, ``known_rest_churn_rate``,
``known_p_value`` (Fisher's exact test, two-sided), ``known_q_value``
(Benjamini-Hochberg over every slice tested this way) and
``known_flagged``. Unknown values are empty ones and the placeholders of
:data:`NOT_RECORDED` ("unknown", "n/a", "not recorded", ...; "NA" is a
value: it may be North America); they form their own group per dimension,
reported on every row of the dimension as ``unknown_accounts``,
``unknown_churned`` and ``unknown_churn_rate``, never part of a rest. A
placeholder value is still a slice as the spec says, with no known
comparison. Everything the report says of a slice, and every quick win,
uses the known comparison.
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

#: The known comparison and the dimension's unknowns (module docstring).
KNOWN_COLUMNS = [
    "known",
    "known_rest_accounts",
    "known_rest_churned",
    "known_rest_churn_rate",
    "known_p_value",
    "known_q_value",
    "known_flagged",
    "unknown_accounts",
    "unknown_churned",
    "unknown_churn_rate",
]

#: Values that say a dimension was not recorded (compared lower-cased, without
#: surrounding spaces, brackets or dots). "NA" is not among them: a region NA
#: is North America.
NOT_RECORDED = frozenset({
    "unknown", "not recorded", "not known", "not set", "not specified", "unspecified", "not available", "n/a",
    "n.a", "none", "null", "nil", "nan", "-", "--", "---", "?", "??", "blank", "empty", "missing", "undefined",
    "(blank)", "(none)", "(unknown)", "(empty)", "tbd", "other/unknown", "#n/a",
})


def is_unknown(value) -> bool:
    """Whether a dimension value says nothing: empty, or a placeholder of
    :data:`NOT_RECORDED`."""
    if value is None or (isinstance(value, float) and value != value):
        return True
    text = str(value).strip()
    if not text:
        return True
    lowered = text.lower()
    return lowered in NOT_RECORDED or lowered.strip("()[]. ") in NOT_RECORDED


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
        unknown = values.map(is_unknown)
        unknown_n, unknown_c = int(unknown.sum()), int(churned[unknown].sum())
        known_n, known_c = total - unknown_n, total_churned - unknown_c
        for value in sorted(v for v in values.unique() if v != ""):
            members = values == value
            n, c = int(members.sum()), int(churned[members].sum())
            rest_n, rest_c = total - n, total_churned - c
            tested = n >= min_accounts
            p = np.nan
            if tested:
                p = fisher_p(c, n, rest_c, rest_n)
            known = not is_unknown(value)
            known_rest_n, known_rest_c = (known_n - n, known_c - c) if known else (0, 0)
            known_tested = known and tested and known_rest_n > 0
            known_p = fisher_p(c, n, known_rest_c, known_rest_n) if known_tested else np.nan
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
                    "known": known,
                    "known_rest_accounts": known_rest_n,
                    "known_rest_churned": known_rest_c,
                    "known_rest_churn_rate": (known_rest_c / known_rest_n) if known_rest_n else np.nan,
                    "known_p_value": float(known_p),
                    "known_tested": known_tested,
                    "unknown_accounts": unknown_n,
                    "unknown_churned": unknown_c,
                    "unknown_churn_rate": (unknown_c / unknown_n) if unknown_n else np.nan,
                }
            )
    base = [c for c in SLICE_COLUMNS if c not in ("q_value", "flagged")]
    known = [c for c in KNOWN_COLUMNS if c not in ("known_q_value", "known_flagged")] + ["known_tested"]
    table = pd.DataFrame(rows, columns=base + known)
    table = adjust_table(table, alpha)
    # The known comparison adjusted on its own, over the slices it tests.
    second = pd.DataFrame({"p_value": table["known_p_value"], "tested": table["known_tested"]})
    second = adjust_table(second, alpha)
    table["known_q_value"], table["known_flagged"] = second["q_value"], second["flagged"].astype(bool)
    return table[SLICE_COLUMNS + KNOWN_COLUMNS]


def mostly_unknown(slices: pd.DataFrame, share: float = 0.5) -> pd.DataFrame:
    """Dimensions whose values are unknown for more than ``share`` of the
    cohort: ``dimension``, ``unknown_accounts``, ``cohort_accounts``,
    ``unknown_share``."""
    columns = ["dimension", "unknown_accounts", "cohort_accounts", "unknown_share"]
    if slices is None or slices.empty or "unknown_accounts" not in slices.columns:
        return pd.DataFrame(columns=columns)
    first = slices.drop_duplicates("dimension").copy()
    first["cohort_accounts"] = first["accounts"] + first["rest_accounts"]
    first["unknown_share"] = first["unknown_accounts"] / first["cohort_accounts"]
    return first.loc[first["unknown_share"] > share, columns].reset_index(drop=True)
