"""Qualitative evidence counted by the money behind it.

Interview and observation notes carry ``themes`` (tags separated by ``;``)
and renewals carry a ``churn_reason``. A theme mentioned by one large
account can matter more than one mentioned by five small ones, so themes and
reasons are weighted by ARR: each account counts once per theme, with its
ARR (the caller decides which ARR: at the as-of date for active accounts, the
ARR lost for churned ones).
"""

from __future__ import annotations

from typing import Iterable

import pandas as pd

THEME_COLUMNS = ["theme", "accounts", "mentions", "arr", "arr_share"]


def split_themes(themes: pd.Series) -> pd.Series:
    """One row per (row, theme): tags split on ``;``, trimmed, lower-cased, empty ones left out."""
    tags = themes.fillna("").astype(str).str.split(";").explode().str.strip().str.lower()
    return tags[tags != ""]


def weigh_by_arr(labels: pd.DataFrame, arr: pd.Series, label: str = "theme") -> pd.DataFrame:
    """``labels`` (columns ``account_id`` and ``label``, one row per mention)
    summed by ``label``: distinct accounts, mentions, the ARR of those
    accounts (``arr``: account_id -> amount; accounts not in it count 0) and
    that ARR's share of the ARR of every account mentioned at all. Sorted by
    ARR, then accounts, largest first."""
    columns = [label] + THEME_COLUMNS[1:]
    if labels.empty:
        return pd.DataFrame({c: pd.Series(dtype=object if c == label else float) for c in columns})
    mentions = labels.groupby(label)["account_id"].size()
    distinct = labels.drop_duplicates(["account_id", label])
    distinct = distinct.assign(arr=distinct["account_id"].map(arr).fillna(0.0).astype(float))
    out = distinct.groupby(label).agg(accounts=("account_id", "size"), arr=("arr", "sum"))
    out["mentions"] = mentions
    everyone = float(arr.reindex(labels["account_id"].unique()).fillna(0.0).sum())
    out["arr_share"] = out["arr"] / everyone if everyone else float("nan")
    out = out.reset_index().sort_values(["arr", "accounts", label], ascending=[False, False, True])
    out["accounts"] = out["accounts"].astype(int)
    out["mentions"] = out["mentions"].astype(int)
    return out[columns].reset_index(drop=True)


def themes_by_arr(interviews: pd.DataFrame | None, arr: pd.Series, accounts: Iterable[str] | None = None,
                  sources: Iterable[str] | None = None) -> pd.DataFrame:
    """Interview themes weighted by ARR (see :func:`weigh_by_arr`).

    ``accounts`` keeps only those accounts' interviews; ``sources`` only
    those interview sources (``churn_interview``, ``observation``...). The
    caller filters by date (point-in-time). Columns :data:`THEME_COLUMNS`.
    """
    if interviews is None or interviews.empty or "themes" not in interviews.columns:
        return weigh_by_arr(pd.DataFrame(columns=["account_id", "theme"]), arr)
    rows = interviews
    if accounts is not None:
        rows = rows[rows["account_id"].isin(set(accounts))]
    if sources is not None:
        rows = rows[rows["source"].isin(set(sources))]
    tags = split_themes(rows["themes"])
    labels = pd.DataFrame({"account_id": rows.loc[tags.index, "account_id"].to_numpy(), "theme": tags.to_numpy()})
    return weigh_by_arr(labels, arr)
