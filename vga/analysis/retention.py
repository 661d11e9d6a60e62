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

from ..contract import derived_outcome  # noqa: F401  (re-exported: retention follows the numbers)

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
    ``accounts.arr`` except before ``contract_start``. The rule itself is
    :func:`arr_for_pairs`, here for one day and every account.
    """
    ids = accounts.drop_duplicates("account_id")["account_id"]
    pairs = pd.DataFrame({"account_id": ids.to_numpy(), "day": _day(day)})
    values = arr_for_pairs(accounts, renewals, pairs).to_numpy()
    return pd.Series(values, index=pd.Index(ids.to_numpy(), name="account_id"), name="arr")


def arr_for_pairs(accounts: pd.DataFrame, renewals: pd.DataFrame | None, pairs: pd.DataFrame) -> pd.Series:
    """:func:`arr_at` for many (account, day) pairs at once (``pairs``:
    ``account_id`` and ``day``), position-aligned with ``pairs``; the same
    rules, row for row (tested)."""
    accounts = accounts.drop_duplicates("account_id").set_index("account_id")
    keys = pd.DataFrame({"account_id": pairs["account_id"].astype(str).to_numpy(dtype=object),
                         "day": pd.to_datetime(pairs["day"]).dt.normalize().astype("datetime64[ns]").to_numpy(),
                         "_pos": np.arange(len(pairs))})
    result = keys["account_id"].map(accounts["arr"].astype(float)).to_numpy(dtype=float).copy()
    if renewals is not None and len(renewals):
        r = _ordered_renewals(renewals)
        r = r.assign(_seq=np.arange(len(r)), account_id=r["account_id"].astype(str).to_numpy(dtype=object),
                     renewal_date=r["renewal_date"].astype("datetime64[ns]"))
        left = keys.sort_values("day", kind="stable")
        before = pd.merge_asof(left, r.sort_values(["renewal_date", "_seq"])[["account_id", "renewal_date", "arr_after"]],
                               left_on="day", right_on="renewal_date", by="account_id", direction="backward")
        after = pd.merge_asof(left, r.sort_values(["renewal_date", "_seq"])[["account_id", "renewal_date", "arr_before"]],
                              left_on="day", right_on="renewal_date", by="account_id", direction="forward",
                              allow_exact_matches=False)
        pos = left["_pos"].to_numpy()
        later = after["arr_before"].to_numpy(dtype=float)
        earlier = before["arr_after"].to_numpy(dtype=float)
        take_later = ~np.isnan(later)
        result[pos[take_later]] = later[take_later]
        take_earlier = ~np.isnan(earlier)
        result[pos[take_earlier]] = earlier[take_earlier]
    if "contract_start" in accounts.columns:
        starts = keys["account_id"].map(pd.to_datetime(accounts["contract_start"])).to_numpy()
        result[pd.notna(starts) & (starts > keys["day"].to_numpy())] = 0.0
    return pd.Series(result, index=pairs.index)


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
    out.update(cohort_figures(cohort))
    out["reason"] = None
    return out


def cohort_figures(cohort: pd.DataFrame) -> dict:
    """NRR, GRR, logo churn and the three ARR movements of a cohort table
    (:func:`cohort_table`, or any part of one: a slice's accounts), by the
    metric definitions. The one place these formulas are written: the
    headline, the trend and the retention by slice all come from here.
    Rates are None for an empty cohort or one that started with no ARR."""
    start, end = cohort["arr_start"].astype(float), cohort["arr_end"].astype(float)
    denominator = float(start.sum())
    churned = cohort["churned"].astype(bool)
    out = {"cohort_accounts": int(len(cohort)), "arr_start": denominator, "arr_end": float(end.sum())}
    if not len(cohort) or denominator <= 0:
        return {**out, "nrr": None, "grr": None, "logo_churn_rate": None, "arr_churned": None,
                "arr_contracted": None, "arr_expanded": None}
    out["nrr"] = float(end.sum()) / denominator
    out["grr"] = float(np.minimum(start, end).sum()) / denominator
    out["logo_churn_rate"] = float(churned.sum()) / len(cohort)
    out["arr_churned"] = float(start[churned].sum())
    shrank = (end < start) & ~churned
    out["arr_contracted"] = float((start - end)[shrank].sum())
    out["arr_expanded"] = float((end - start)[end > start].sum())
    return out


def arr_bridge(cohort: pd.DataFrame, arr_total: float) -> dict:
    """The ARR bridge of the retention window, in the data's currency:
    ``start`` (the cohort's ARR at the window start), ``expanded`` (+),
    ``contracted`` and ``churned`` (both -), ``end`` (the cohort's ARR at the
    as-of date: start + expanded - contracted - churned, exactly), then
    ``new`` (ARR at the as-of date of accounts outside the cohort: new
    customers and those that came back) and ``total`` (every account's ARR
    at the as-of date, ``arr_total``)."""
    f = cohort_figures(cohort)
    if f["nrr"] is None:
        return {}
    return {"start": f["arr_start"], "expanded": f["arr_expanded"], "contracted": f["arr_contracted"],
            "churned": f["arr_churned"], "end": f["arr_end"], "new": float(arr_total) - f["arr_end"],
            "total": float(arr_total)}


def retention_by_slice(cohort: pd.DataFrame, accounts: pd.DataFrame, dimensions: list[str],
                       min_accounts: int) -> pd.DataFrame:
    """NRR, GRR and logo churn of each slicing dimension's values with at
    least ``min_accounts`` cohort accounts (:func:`cohort_figures` over the
    slice's cohort accounts): ``dimension``, ``value``, ``cohort_accounts``,
    ``arr_start``, ``nrr``, ``grr``, ``logo_churn_rate``; largest first."""
    columns = ["dimension", "value", "cohort_accounts", "arr_start", "nrr", "grr", "logo_churn_rate"]
    attrs = accounts.drop_duplicates("account_id").set_index("account_id")
    rows = []
    for dim in dimensions:
        if dim not in attrs.columns:
            continue
        values = attrs[dim].reindex(cohort["account_id"]).astype(object)
        values = values.where(values.notna(), "").map(lambda v: str(v).strip()).to_numpy()
        for value in sorted(set(values) - {""}):
            part = cohort[values == value]
            if len(part) < min_accounts:
                continue
            f = cohort_figures(part)
            rows.append({"dimension": dim, "value": value, **{k: f[k] for k in columns[2:]}})
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values(["dimension", "arr_start"], ascending=[True, False], kind="stable").reset_index(drop=True)


#: Quarters of the retention trend, the latest included.
TREND_QUARTERS = 8


def retention_trend(accounts: pd.DataFrame, renewals: pd.DataFrame | None, as_of: date, covered,
                    quarters: int = TREND_QUARTERS) -> pd.DataFrame:
    """NRR, GRR and logo churn as of ``as_of`` and each of the
    ``quarters - 1`` dates three calendar months apart before it (each over
    its own 12 months, by the same definitions), oldest first, back to the
    first date ``covered(day)`` refuses (the data does not cover that
    date's 12 months) or whose cohort is empty. Columns
    ``as_of``, ``cohort_accounts``, ``nrr``, ``grr``, ``logo_churn_rate``."""
    from dateutil.relativedelta import relativedelta

    from ..periods import one_year_before

    columns = ["as_of", "cohort_accounts", "nrr", "grr", "logo_churn_rate"]
    if renewals is None:
        return pd.DataFrame(columns=columns)
    rows = []
    for k in range(quarters):
        day = (pd.Timestamp(as_of) - relativedelta(months=3 * k)).date()
        day = (pd.Timestamp(day) + pd.offsets.MonthEnd(0)).date() if as_of == (
            pd.Timestamp(as_of) + pd.offsets.MonthEnd(0)).date() else day
        if not covered(day):
            break
        f = cohort_figures(cohort_table(accounts, renewals, day, one_year_before(day)))
        if f["nrr"] is None:
            break
        rows.append({"as_of": day.isoformat(), **{c: f[c] for c in columns[1:]}})
    return pd.DataFrame(rows[::-1], columns=columns)


#: Why an account is not in the retention cohort, in words.
STARTED_IN_WINDOW = "started after the window start"
PAID_LATER = "no ARR at the window start, paying only later"
LEFT_BEFORE = "had already left before the window start"
NEVER_PAID = "never paid"


def cohort_exclusions(accounts: pd.DataFrame, renewals: pd.DataFrame | None, as_of: date,
                      window_start: date) -> dict[str, int]:
    """Accounts left out of the cohort, counted by why: a ``contract_start``
    after ``window_start`` (:data:`STARTED_IN_WINDOW`); otherwise no ARR at
    ``window_start`` and ARR later (:data:`PAID_LATER`: new business of an
    account without a contract_start); no ARR at either end after a paid
    renewals row on or before the window start (:data:`LEFT_BEFORE`); or
    none of these (:data:`NEVER_PAID`). Only reasons that occur are keys."""
    unique = accounts.drop_duplicates("account_id")
    start = arr_at(unique, renewals, window_start)
    cohort = set(cohort_table(unique, renewals, as_of, window_start)["account_id"])
    out = unique[~unique["account_id"].isin(cohort)]
    if out.empty:
        return {}
    ids = out["account_id"]
    why = pd.Series(NEVER_PAID, index=ids.to_numpy(), dtype=object)
    paid_before = set()
    paid_after = set(arr_at(unique, renewals, as_of).loc[lambda a: a > 0].index)
    if renewals is not None and len(renewals):
        dates = pd.to_datetime(renewals["renewal_date"])
        paid_before = set(renewals.loc[(renewals["arr_before"] > 0) & (dates <= _day(window_start)), "account_id"])
        paid_after |= set(renewals.loc[(dates > _day(window_start)) & ((renewals["arr_after"] > 0)
                                                                         | (renewals["arr_before"] > 0)), "account_id"])
    why[why.index.isin(list(paid_before))] = LEFT_BEFORE
    why[why.index.isin(list(paid_after)) & ~why.index.isin(list(paid_before))] = PAID_LATER
    if "contract_start" in out.columns:
        late = (pd.to_datetime(out["contract_start"]) > _day(window_start)).to_numpy()
        why[late] = STARTED_IN_WINDOW
    # An account with ARR at the window start is out only for a late start.
    why[(start.reindex(why.index) > 0).to_numpy() & (why != STARTED_IN_WINDOW).to_numpy()] = STARTED_IN_WINDOW
    counts = why.value_counts()
    return {reason: int(counts[reason]) for reason in (STARTED_IN_WINDOW, PAID_LATER, LEFT_BEFORE, NEVER_PAID)
            if reason in counts.index}
