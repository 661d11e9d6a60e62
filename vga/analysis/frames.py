"""Small frame operations that hold for every shape of data, empty included."""

from __future__ import annotations

import pandas as pd


def lookup(keys: pd.Series, values: pd.Series) -> pd.Series:
    """``values`` (indexed by a unique key) looked up for each of ``keys``,
    aligned with ``keys``; missing where a key has no value.

    ``Series.map`` with a Series does the same but fails when the mapping is
    empty and holds dates (pandas casts an empty mapping to float), which is
    the case as soon as no account has the date looked up.
    """
    values = values[~values.index.duplicated(keep="first")]
    return pd.Series(values.reindex(keys.to_numpy()).to_numpy(), index=keys.index, dtype=values.dtype,
                     name=values.name)


def account_names(accounts: pd.DataFrame, analysis) -> pd.Series:
    """account_id -> name to show; empty when redacted by configuration or absent."""
    ids = accounts["account_id"].to_numpy()
    if analysis.redact_account_names or "account_name" not in accounts.columns:
        return pd.Series("", index=ids)
    return pd.Series(accounts["account_name"].fillna("").to_numpy(), index=ids)
