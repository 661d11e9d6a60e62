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


def _account_codes(pair_accounts, row_accounts) -> tuple[np.ndarray, np.ndarray, int]:
    """(code of each pair's account, code of each row's account or -1 when
    no pair asks about it, number of accounts). Accounts are compared as
    text, without making a Python string per pair (millions, in a backtest)."""
    import pyarrow.compute as pc

    # Arrow's own hashing, over the strings where they are (pandas keeps text
    # in Arrow): ten times faster than factorising copies of them in Python
    # objects, which was half of a 50,000-account backtest.
    encoded = pc.dictionary_encode(_text(pair_accounts))
    if hasattr(encoded, "combine_chunks"):
        encoded = encoded.combine_chunks()
    pair_code = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    code = pc.index_in(_text(row_accounts), value_set=encoded.dictionary).fill_null(-1).to_numpy(zero_copy_only=False)
    return pair_code.astype(np.int64), code.astype(np.int64), len(encoded.dictionary)


def _text(values):
    """``values`` as an Arrow array of text, without copying a column that
    is Arrow text already (missing values stay missing)."""
    import pyarrow as pa

    series = pd.Series(values)
    if not isinstance(series.dtype, pd.StringDtype) or series.dtype.storage != "pyarrow":
        series = series.astype(pd.StringDtype("pyarrow"))
    return pa.array(series.array)


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
    pair_code, code, n_accounts = _account_codes(pairs["account_id"], frame["account_id"])
    seconds = _seconds(frame[column].to_numpy())
    keep = (code >= 0) & pd.notna(frame[column]).to_numpy()
    if rows is not None:
        keep &= np.asarray(rows, dtype=bool)
    code, seconds = code[keep], seconds[keep]
    end = _seconds(day) + _SECONDS_PER_DAY  # the midnight after the day
    start = end - int(days) * _SECONDS_PER_DAY
    known_day = ~pd.isna(day)
    base = min(seconds.min() if len(seconds) else 0, start[known_day].min() if known_day.any() else 0)
    top = max(seconds.max() if len(seconds) else 0, end[known_day].max() if known_day.any() else 0)
    width = int(top - base) + 1
    if width * (n_accounts + 1) >= 2**62:  # cannot happen with dates a contract accepts
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


#: A window reaching back past any date the data contract accepts: a
#: window of this many days counts every earlier row.
_EVER_DAYS = 200 * 366


def still_open(frame: pd.DataFrame | None, start: str, end: str, pairs: pd.DataFrame, days: int) -> np.ndarray:
    """Per pair (position-aligned with ``pairs``): the ``frame`` rows of the
    pair's account that started in the window ``(day - days, day]`` (their
    ``start`` time) but end at or after the midnight after the day (their
    ``end`` time): a workflow run begun in the window and not completed by
    the day's end. Rows missing either time count nowhere.

    Counted without pairing rows to pairs, from four searches: with ``a``
    the window's first and ``b`` its last instant, open = started in
    [a, b) - (ended before b - (started before a - started before a and
    ended at or after b)). The last term, rows spanning the whole window,
    is counted by joining only the rows that last longer than the window.
    """
    out = np.zeros(len(pairs), dtype=np.int64)
    if frame is None or frame.empty:
        return out
    both = frame[pd.notna(frame[start]) & pd.notna(frame[end])]
    if both.empty:
        return out
    keyed = pd.DataFrame({"account_id": pd.Series(pairs["account_id"]).astype(str).reset_index(drop=True),
                          "day": pd.to_datetime(pd.Series(pairs["day"]).to_numpy()).normalize()})
    started_in = window_totals(both, start, keyed, days)["rows"].to_numpy()
    ended_before_b = window_totals(both, end, keyed, _EVER_DAYS)["rows"].to_numpy()
    # The window's first instant a is the midnight after (day - days): the same search, days earlier.
    earlier = keyed.assign(day=keyed["day"] - pd.Timedelta(days=int(days)))
    started_before_a = window_totals(both, start, earlier, _EVER_DAYS)["rows"].to_numpy()
    long = both[(both[end] - both[start]) > pd.Timedelta(days=int(days))]
    spanning = np.zeros(len(pairs), dtype=np.int64)
    if len(long):
        m = long[["account_id", start, end]].assign(account_id=long["account_id"].astype(str)).merge(
            keyed.assign(position=np.arange(len(keyed))), on="account_id")
        b = m["day"] + pd.Timedelta(days=1)
        hit = (m[start] < b - pd.Timedelta(days=int(days))) & (m[end] >= b)
        spanning = np.bincount(m.loc[hit, "position"].to_numpy(), minlength=len(pairs)).astype(np.int64)
    return started_in - (ended_before_b - (started_before_a - spanning))


def latest_values(frame: pd.DataFrame | None, column: str, value: str, pairs: pd.DataFrame,
                  order: np.ndarray | None = None) -> np.ndarray:
    """Per pair (position-aligned with ``pairs``: ``account_id``, ``day``):
    ``value`` of the pair's account's latest ``frame`` row whose ``column``
    (a timestamp) is on or before the pair's ``day`` (compared as given: a
    day is its midnight); rows on the same time in ``order`` (default: row
    order), the last one winning. NaN where there is none.

    Found by one sort and a binary search per pair, as :func:`window_totals`.
    """
    out = np.full(len(pairs), np.nan)
    if frame is None or frame.empty or not len(pairs):
        return out
    pair_code, code, n_accounts = _account_codes(pairs["account_id"], frame["account_id"])
    stamps = pd.to_datetime(pd.Series(frame[column].to_numpy())).astype("datetime64[ns]")
    keep = (code >= 0) & stamps.notna().to_numpy()
    # A row counts on a day when its time is at or before the day's midnight:
    # rounding its time up to the second keeps that exact for whole-second days.
    ns = stamps.to_numpy().astype(np.int64)
    seconds = -np.floor_divide(-ns, _NS_PER_SECOND)
    code, seconds, ns = code[keep], seconds[keep], ns[keep]
    values = pd.to_numeric(pd.Series(frame[value].to_numpy()), errors="coerce").to_numpy(dtype=float)[keep]
    rank = (np.arange(len(frame)) if order is None else np.asarray(order))[keep]
    day = pd.to_datetime(pd.Series(pairs["day"]).to_numpy())
    known = ~pd.isna(day)
    day_seconds = _seconds(day)
    if not len(seconds) or not known.any():
        return out
    base = min(seconds.min(), day_seconds[known].min())
    width = int(max(seconds.max(), day_seconds[known].max()) - base) + 1
    if width * (n_accounts + 1) >= 2**62:
        raise ValueError(f"{column}: times span too wide to search ({width} s)")
    key = code.astype(np.int64) * width + (seconds - base)
    # By account and exact time, then the given order: the search key (whole
    # seconds) never decreases in this order, and the last row found is the latest.
    sort = np.lexsort((rank, ns, code))
    key, values, sorted_code = key[sort], values[sort], code[sort]
    at = np.searchsorted(key, pair_code.astype(np.int64) * width + (day_seconds - base), side="right") - 1
    hit = known & (at >= 0)
    hit[hit] &= sorted_code[at[hit]] == pair_code[hit]
    out[hit] = values[at[hit]]
    return out
