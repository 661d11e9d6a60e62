"""ARR at a date, the retention cohort, NRR, GRR, logo churn and ARR movements.

All functions are pure: they take the accepted ``accounts`` and ``renewals``
frames (as returned by :mod:`vga.load`) and plain dates, and return frames,
series or plain values. Money is in the data folder's one currency. Rates are
fractions (0.93), never percentages, and are never rounded here.

Definitions (metric definitions, "ARR and retention"):

- ARR of an account at day d: the ``arr_after`` of its latest ``renewals``
  row dated on or before d (same-date rows in source-row order); if none,
  the ``arr_before`` of its earliest row after d; if it has no rows at all,
  ``accounts.arr``. An account whose ``contract_start`` is after d has ARR 0.
- Cohort: accounts with ARR(window_start) > 0 whose ``contract_start`` is
  empty or on or before window_start.
- NRR = sum ARR(as_of) / sum ARR(window_start) over the cohort.
- GRR = sum min(ARR(as_of), ARR(window_start)) / the same denominator.
- Logo churn rate = cohort accounts with ARR(as_of) = 0 / cohort accounts.
- ARR churned / contracted / expanded compare ARR(window_start) with
  ARR(as_of) per cohort account, whatever happened in between.
"""

from __future__ import annotations

from datetime import date


import numpy as np
import pandas as pd

from .contract import derived_outcome  # noqa: F401  (re-exported: retention follows the numbers)

RETENTION_KEYS = (
    "cohort_accounts",
    "nrr",
    "grr",
    "logo_churn_rate",
    "arr_churned",
    "arr_contracted",
    "arr_expanded",
)


def _day(value) -> pd.Timestamp:
    return pd.Timestamp(value).normalize()


def _ordered_renewals(renewals: pd.DataFrame) -> pd.DataFrame:
    """Renewals sorted by account, date, then source-row order."""
    r = renewals.copy()
    r["_order"] = r["source_row"] if "source_row" in r.columns else np.arange(len(r))
    r["renewal_date"] = pd.to_datetime(r["renewal_date"])
    return r.sort_values(["account_id", "renewal_date", "_order"], kind="stable")


def arr_at(accounts: pd.DataFrame, renewals: pd.DataFrame | None, day: date) -> pd.Series:
    """ARR of every account at ``day`` (a float Series indexed by account_id).

    ``renewals`` may be None (no renewals table): then ARR is
    ``accounts.arr`` except before ``contract_start``.
    """
    d = _day(day)
    accounts = accounts.drop_duplicates("account_id")
    result = pd.Series(
        accounts["arr"].astype(float).to_numpy(), index=pd.Index(accounts["account_id"], name="account_id"), name="arr"
    )
    if renewals is not None and len(renewals):
        r = _ordered_renewals(renewals)
        later = r[r["renewal_date"] > d]
        first_later = later.groupby("account_id", sort=False).head(1).set_index("account_id")["arr_before"]
        earlier = r[r["renewal_date"] <= d]
        last_earlier = earlier.groupby("account_id", sort=False).tail(1).set_index("account_id")["arr_after"]
        first_later = first_later[first_later.index.isin(result.index)]
        last_earlier = last_earlier[last_earlier.index.isin(result.index)]
        result.loc[first_later.index] = first_later.astype(float).to_numpy()
        # A row on or before d wins over the look-ahead to a later row.
        result.loc[last_earlier.index] = last_earlier.astype(float).to_numpy()
    if "contract_start" in accounts.columns:
        starts = pd.to_datetime(accounts["contract_start"]).to_numpy()
        not_started = pd.notna(starts) & (starts > d.to_datetime64())
        result[not_started] = 0.0
    return result


def cohort_table(
    accounts: pd.DataFrame, renewals: pd.DataFrame | None, as_of: date, window_start: date
) -> pd.DataFrame:
    """One row per cohort account with its ARR at both ends of the window.

    Columns: ``account_id``, ``arr_start`` (ARR at window_start),
    ``arr_end`` (ARR at as_of), ``churned`` (ARR at as_of is 0) and
    ``movement`` (``churned``, ``contracted``, ``expanded`` or ``flat``).
    """
    start = arr_at(accounts, renewals, window_start)
    end = arr_at(accounts, renewals, as_of)
    in_cohort = start > 0
    if "contract_start" in accounts.columns:
        starts = pd.to_datetime(accounts.drop_duplicates("account_id").set_index("account_id")["contract_start"])
        in_cohort &= starts.reindex(start.index).isna() | (starts.reindex(start.index) <= _day(window_start))
    table = pd.DataFrame(
        {"account_id": start.index[in_cohort], "arr_start": start[in_cohort].to_numpy(), "arr_end": end[in_cohort].to_numpy()}
    )
    table["churned"] = table["arr_end"] == 0
    table["movement"] = np.select(
        [table["churned"], table["arr_end"] < table["arr_start"], table["arr_end"] > table["arr_start"]],
        ["churned", "contracted", "expanded"],
        default="flat",
    )
    return table.reset_index(drop=True)


def retention_summary(
    accounts: pd.DataFrame, renewals: pd.DataFrame | None, as_of: date, window_start: date
) -> dict:
    """NRR, GRR, logo churn and ARR movements over ``(window_start, as_of]``.

    Returns a dict with the keys of :data:`RETENTION_KEYS` plus ``reason``
    (None, or why the figures are null). Without a renewals table, or with
    an empty cohort, every figure but ``cohort_accounts`` is None.
    """
    cohort = cohort_table(accounts, renewals, as_of, window_start)
    out: dict = {"cohort_accounts": int(len(cohort))}
    reason = None
    if renewals is None:
        reason = "no renewals table was given, so ARR changes over the window are unknown"
    elif cohort.empty:
        reason = "no account had ARR at the start of the retention window"
    if reason:
        out.update({k: None for k in RETENTION_KEYS if k != "cohort_accounts"})
        out["reason"] = reason
        return out
    start, end = cohort["arr_start"], cohort["arr_end"]
    denominator = float(start.sum())
    out["nrr"] = float(end.sum()) / denominator
    out["grr"] = float(np.minimum(start, end).sum()) / denominator
    out["logo_churn_rate"] = float(cohort["churned"].sum()) / len(cohort)
    out["arr_churned"] = float(start[cohort["churned"]].sum())
    shrank = (end < start) & ~cohort["churned"]
    out["arr_contracted"] = float((start - end)[shrank].sum())
    grew = end > start
    out["arr_expanded"] = float((end - start)[grew].sum())
    out["reason"] = None
    return out
