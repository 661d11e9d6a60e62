"""Totals over trailing windows for many (account, day) pairs at once.

A point-in-time measure asks, for each (account, day) pair, about an
account's rows dated in the window ``(day - days, day]`` (whole days: from
midnight ``days - 1`` days before the day up to, not including, the
midnight after it). Joining every row of an account to every pair of the
account grows with rows x pairs per account: millions of rows for a
backtest that asks about each of 180 days before each of 20,000 decisions.
Here the rows are sorted once by account and time, and each pair's window
is found by binary search, so the work grows with ``(rows + pairs) x
log(rows)``, and memory with rows + pairs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_NS_PER_SECOND = 10**9
_SECONDS_PER_DAY = 86_400


def _seconds(values) -> np.ndarray:
    """Whole seconds since the epoch, rounded down (NaT -> the int64 minimum)."""
    ns = pd.to_datetime(pd.Series(values)).astype("datetime64[ns]").to_numpy().astype(np.int64)
    return np.floor_divide(ns, _NS_PER_SECOND)


def window_totals(frame: pd.DataFrame | None, column: str, pairs: pd.DataFrame, days: int,
                  values: dict[str, np.ndarray] | None = None, rows: np.ndarray | None = None) -> pd.DataFrame | None:
    """Per pair (position-aligned with ``pairs``: ``account_id``, ``day``):
    ``rows``, the number of ``frame`` rows of the pair's account whose
    ``column`` (a timestamp) falls in ``(day - days, day]``; and for each
    ``values`` entry (an array aligned with ``frame``), ``<name>_sum``, the
    sum of its non-missing values over those rows, and ``<name>_n``, their
    number (so a mean is ``sum / n``, missing where ``n`` is 0).

    ``rows``: a boolean mask of ``frame`` rows to count at all (default all).
    Rows with a missing time never fall in a window. Returns None when
    ``frame`` is None or empty. Sums restart at each account, so they are
    as exact as the account's own values allow.
    """
    if frame is None or frame.empty:
        return None
    day = pd.to_datetime(pd.Series(pairs["day"]).to_numpy()).normalize()
    pair_account = pd.Series(pairs["account_id"]).astype(str).to_numpy(dtype=object)
    accounts = pd.Index(pd.unique(pair_account))
    code = accounts.get_indexer(frame["account_id"].astype(str).to_numpy(dtype=object))
    seconds = _seconds(frame[column].to_numpy())
    keep = (code >= 0) & pd.notna(frame[column]).to_numpy()
    if rows is not None:
        keep &= np.asarray(rows, dtype=bool)
    code, seconds = code[keep], seconds[keep]
    pair_code = accounts.get_indexer(pair_account)
    end = _seconds(day) + _SECONDS_PER_DAY  # the midnight after the day
    start = end - int(days) * _SECONDS_PER_DAY
    known_day = ~pd.isna(day)
    base = min(seconds.min() if len(seconds) else 0, start[known_day].min() if known_day.any() else 0)
    top = max(seconds.max() if len(seconds) else 0, end[known_day].max() if known_day.any() else 0)
    width = int(top - base) + 1
    if width * (len(accounts) + 1) >= 2**62:  # cannot happen with dates a contract accepts
        raise ValueError(f"{column}: times span too wide to search ({width} s)")
    key = code.astype(np.int64) * width + (seconds - base)
    order = np.argsort(key, kind="stable")
    key = key[order]
    low = np.searchsorted(key, pair_code.astype(np.int64) * width + (start - base), side="left")
    high = np.searchsorted(key, pair_code.astype(np.int64) * width + (end - base), side="left")
    low[~known_day], high[~known_day] = 0, 0
    out = pd.DataFrame({"rows": (high - low).astype(np.int64)}, index=pairs.index)
    sorted_code = code[order]
    first = np.searchsorted(sorted_code, pair_code, side="left")  # each pair's account's first row
    for name, given in (values or {}).items():
        v = np.asarray(given, dtype=float)[keep][order]
        present = ~np.isnan(v)
        for suffix, series in (("sum", np.where(present, v, 0.0)), ("n", present.astype(float))):
            # A running total that restarts at each account: a window's sum is
            # the difference of two totals of one account, never of the whole table.
            running = pd.Series(series).groupby(sorted_code, sort=False).cumsum().to_numpy()
            before = np.concatenate([[0.0], running])
            # The total up to (not including) position p, within the pair's account.
            upto_high = np.where(high > first, before[high], 0.0)
            upto_low = np.where(low > first, before[low], 0.0)
            total = upto_high - upto_low
            out[f"{name}_{suffix}"] = total if suffix == "sum" else np.rint(total).astype(np.int64)
    return out
