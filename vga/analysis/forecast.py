"""The next four quarters: ARR up for renewal, the ARR the renewal model
expects to lose, expected GRR, what the success-plan target is worth, and
the same forecast made a year earlier against what happened.

All functions are pure: frames and plain values in, frames and dicts out.
Money is in the data folder's one currency (the unit of ``arr``); rates and
probabilities are fractions (0.2), never rounded here; dates are calendar
days. Definitions (metric definitions, "Forecast: the next four quarters"):

- *Quarters*: quarter k (1..4) is ``(as_of + 3(k-1) months, as_of + 3k
  months]`` in calendar months. From a month's last day the boundaries are
  month ends (2026-09-30 gives the calendar quarters 2026-10-01..2026-12-31
  .. 2027-07-01..2027-09-30); from another day they are the same day of the
  month, clipped to the month's last day (2026-08-15 -> 2026-11-15).
- *Book*: the active accounts (ARR at the as-of date above 0), each with
  its ARR at the as-of date, its renewal probability (the renewal model's
  ``renewal_probability``: the chance its next decision is not a churn),
  its next decision date and its health colour at the as-of date. An
  account is *due* in the quarter holding its next decision date; one with
  no date, a date on or before the as-of date, or a date after the fourth
  quarter is due in none of them (counted apart, never guessed).
- *Expected loss* of a quarter: the sum over its due accounts of ARR x (1 -
  p). Each due account is taken to keep or lose its whole ARR at that one
  decision, independently of the others; downgrades and expansions are not
  forecast (the model predicts churn only).
- *Interval*: the 95% interval of the ARR lost, the 2.5th and 97.5th
  percentiles (``inverted_cdf``: amounts that can happen) of the Poisson-
  binomial sum of ARR x churn, by simulation (``draws`` draws with a fixed
  seed: the same figures every run). ``loss_sd`` is its exact standard
  deviation, ``sqrt(sum ARR^2 p (1-p))``. The interval counts only which
  accounts churn given their probabilities: it does not count that the
  probabilities are themselves estimates, nor churn that comes in waves,
  so it is narrow if anything; the backtest shows whether it held.
- *Expected GRR for the next 12 months*: ``1 - expected ARR lost over the
  four quarters / ARR of the active accounts at the as-of date`` (every
  active account in the denominator, due or not). Churn only: contraction
  is not forecast, so it is an upper bound of GRR over the next 12 months.
  Its interval comes from the same draws (``1 - high / ARR``, ``1 - low /
  ARR``).
- *Gate*: the forecast is shown only when the renewal model's out-of-time
  AUC is at least ``MIN_AUC`` (0.65) and its Brier score is below the
  Brier score of the training base rate, accounts have probabilities, and
  at most ``UNDATED_SHARE`` (90%) of the active ARR lacks a next renewal
  date; otherwise every model figure is missing and the reason is given in
  words. ARR up for renewal does not need the model and is always given.
- *Success plan*: the programme's target moves ``share`` (default 0.2) of
  the accounts of ``from_colors`` (red, yellow) to ``to_colors`` (lime,
  green). Valued over the accounts due in the four quarters that are in
  ``from_colors`` as a proportional slice of their ARR: ``share`` x the sum
  of ARR x (p_to - p) over them, where p_to is the mean probability of the
  scored active accounts in ``to_colors``. The assumption: an account that
  moves colour takes on the average renewal probability of the accounts
  already there. That is an association the model saw, not an effect of
  the plan; the figure can be negative when the target colours renew no
  better in the model.
- *Backtest*: the same forecast made as of ``as_of - 1 year`` with the
  model that would have been fitted then, each account due at the first
  decision it had after that date, against what those decisions were:
  ``actual_loss`` sums the ``arr_before`` of the due accounts whose
  decision churned, ``within_interval`` says whether it fell in the
  interval.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
from dateutil.relativedelta import relativedelta

#: The out-of-time AUC below which the model forecasts nothing.
MIN_AUC = 0.65
QUARTERS = 4
LEVEL = 0.95
DRAWS = 10_000
SEED = 34
_CHUNK = 256  # accounts simulated at a time (memory: draws x chunk)
RISK_COLORS = ("red", "yellow")

#: Columns of ``forecast.csv``; the model's columns are empty when the gate holds it back.
FORECAST_COLUMNS = ["quarter", "quarter_start", "quarter_end", "accounts_due", "arr_due", "expected_loss", "loss_sd",
                    "loss_low", "loss_high", "expected_churned_accounts", "red_yellow_accounts_due",
                    "red_yellow_arr_due", "red_yellow_expected_loss", "unscored_accounts_due"]
MODEL_COLUMNS = ["expected_loss", "loss_sd", "loss_low", "loss_high", "expected_churned_accounts",
                 "red_yellow_expected_loss"]
BACKTEST_COLUMNS = ["quarter", "quarter_start", "quarter_end", "accounts_due", "arr_due", "expected_loss", "loss_sd",
                    "loss_low", "loss_high", "expected_churned_accounts", "actual_accounts_churned", "actual_loss",
                    "within_interval"]
#: What each column of ``forecast.csv`` and ``forecast_backtest.csv`` holds, for the results' declaration.
COLUMN_TYPES = {"quarter": "int", "quarter_start": "date", "quarter_end": "date", "accounts_due": "int",
                "arr_due": "float", "expected_loss": "float", "loss_sd": "float", "loss_low": "float",
                "loss_high": "float", "expected_churned_accounts": "float", "red_yellow_accounts_due": "int",
                "red_yellow_arr_due": "float", "red_yellow_expected_loss": "float", "unscored_accounts_due": "int",
                "actual_accounts_churned": "int", "actual_loss": "float", "within_interval": "bool"}


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months: from a month's last day to
    the last day of the month reached, else the same day clipped to that
    month's last day."""
    out = day + relativedelta(months=int(months))
    if (day + timedelta(days=1)).month != day.month:
        out = out + relativedelta(day=31)
    return out


def quarter_bounds(as_of: date, quarters: int = QUARTERS) -> pd.DataFrame:
    """``quarter`` (1..), ``quarter_start`` and ``quarter_end`` (both
    included, midnight timestamps) of the quarters after ``as_of``."""
    ends = [add_months(as_of, 3 * k) for k in range(1, quarters + 1)]
    starts = [as_of + timedelta(days=1)] + [e + timedelta(days=1) for e in ends[:-1]]
    return pd.DataFrame({"quarter": np.arange(1, quarters + 1, dtype=np.int64),
                         "quarter_start": pd.to_datetime(starts).astype("datetime64[ns]"),
                         "quarter_end": pd.to_datetime(ends).astype("datetime64[ns]")})


def due_quarter(dates: pd.Series, bounds: pd.DataFrame) -> pd.Series:
    """The quarter (1..) of ``bounds`` holding each date; 0 where none does
    (no date, a date before the first quarter or after the last)."""
    days = pd.to_datetime(pd.Series(dates), errors="coerce").dt.normalize()
    out = pd.Series(0, index=days.index, dtype=np.int64)
    for row in bounds.itertuples():
        out[(days >= row.quarter_start) & (days <= row.quarter_end)] = int(row.quarter)
    return out


def simulate_losses(arr: np.ndarray, churn: np.ndarray, groups: np.ndarray, n_groups: int, draws: int = DRAWS,
                    seed: int = SEED) -> np.ndarray:
    """ARR lost per draw and group: a ``draws`` x ``n_groups`` array, each
    account (``arr``, ``churn`` probability, ``groups`` index 0..n_groups-1)
    lost whole with its probability, independently. Deterministic for a
    given seed and account order."""
    arr, churn, groups = (np.asarray(arr, dtype=float), np.asarray(churn, dtype=float),
                          np.asarray(groups, dtype=np.int64))
    rng = np.random.default_rng(seed)
    out = np.zeros((int(draws), int(n_groups)))
    for at in range(0, len(arr), _CHUNK):
        part = slice(at, at + _CHUNK)
        lost = rng.random((int(draws), len(arr[part]))) < churn[part]
        onehot = np.zeros((len(arr[part]), int(n_groups)))
        onehot[np.arange(len(arr[part])), groups[part]] = arr[part]
        out += lost.astype(float) @ onehot
    return out


def interval(values: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """The central ``level`` interval of simulated amounts (``inverted_cdf``
    percentiles: each end is an amount that occurred)."""
    tail = (1 - level) / 2
    return (float(np.quantile(values, tail, method="inverted_cdf")),
            float(np.quantile(values, 1 - tail, method="inverted_cdf")))


def gate(validation: dict | None, probabilities: pd.Series | None, min_auc: float = MIN_AUC) -> tuple[bool, str | None]:
    """Whether the renewal model may forecast, and why not in words.

    ``validation``: ``model_validation.json`` (``auc``, ``brier``,
    ``brier_base_rate``, ``reason``). Shown when some account has a
    probability, the AUC is at least ``min_auc`` and the Brier score is
    below the base rate's.
    """
    validation = validation or {}
    have = probabilities is not None and pd.Series(probabilities, dtype=float).notna().any()
    auc, brier, base = validation.get("auc"), validation.get("brier"), validation.get("brier_base_rate")
    if auc is None or brier is None or base is None:
        why = validation.get("reason") or "no out-of-time validation was made"
        return False, f"the renewal model could not be checked on newer decisions ({why}), so it forecasts nothing"
    if not have:
        return False, "no active account has a renewal probability, so nothing can be forecast"
    reasons = []
    if not auc >= min_auc:
        shown = f"{auc:.2f}" if f"{auc:.2f}" != f"{min_auc:.2f}" else f"{auc:.4f}"  # never "0.65 ... at least 0.65"
        reasons.append(f"the renewal model ranks churners little better than chance (AUC {shown} on decisions it "
                       f"had not seen; a forecast needs at least {min_auc:.2f})")
    if not brier < base:
        reasons.append(f"its probabilities are no closer to what happened than the base rate alone (Brier score "
                       f"{brier:.4f} against {base:.4f})")
    if reasons:
        return False, "; and ".join(reasons) + ", so no forecast is shown"
    return True, None


def calibration_gap(validation: dict | None) -> float | None:
    """Mean predicted renewal probability minus the observed renewal rate
    over the out-of-time decisions (from the calibration bins, weighted by
    n): above 0 the model expected more renewals than happened, so its
    expected loss is too low. None without bins."""
    bins = (validation or {}).get("calibration") or []
    n = sum(b["n"] for b in bins)
    if not n:
        return None
    return float(sum(b["n"] * (b["predicted"] - b["observed"]) for b in bins) / n)


def quarter_table(book: pd.DataFrame, as_of: date, quarters: int = QUARTERS, draws: int = DRAWS,
                  seed: int = SEED) -> tuple[pd.DataFrame, np.ndarray]:
    """Per quarter after ``as_of``: ``FORECAST_COLUMNS``, and the simulated
    ARR lost per draw and quarter (``draws`` x ``quarters``).

    ``book``: one row per active account with ``account_id``, ``arr`` (at
    the as-of date), ``renewal_probability`` (NaN: not scored),
    ``next_decision_date`` and ``health_color``. Unscored due accounts
    count in ``accounts_due`` and ``arr_due`` but in no model figure
    (``unscored_accounts_due``).
    """
    bounds = quarter_bounds(as_of, quarters)
    book = book.assign(account_id=book["account_id"].astype(str)).sort_values("account_id", kind="stable")
    q = due_quarter(book["next_decision_date"], bounds).to_numpy()
    arr = book["arr"].to_numpy(float)
    p = book["renewal_probability"].to_numpy(float)
    risky = book["health_color"].fillna("").astype(str).isin(RISK_COLORS).to_numpy()
    scored = ~np.isnan(p)
    sim = (q > 0) & scored
    draws_out = simulate_losses(arr[sim], 1 - p[sim], q[sim] - 1, quarters, draws, seed)
    rows = []
    for k, row in enumerate(bounds.itertuples()):
        due = q == row.quarter
        s = due & scored
        low, high = interval(draws_out[:, k])
        rows.append({"quarter": int(row.quarter), "quarter_start": row.quarter_start, "quarter_end": row.quarter_end,
                     "accounts_due": int(due.sum()), "arr_due": float(arr[due].sum()),
                     "expected_loss": float((arr[s] * (1 - p[s])).sum()),
                     "loss_sd": float(np.sqrt((arr[s] ** 2 * p[s] * (1 - p[s])).sum())),
                     "loss_low": low, "loss_high": high, "expected_churned_accounts": float((1 - p[s]).sum()),
                     "red_yellow_accounts_due": int((due & risky).sum()),
                     "red_yellow_arr_due": float(arr[due & risky].sum()),
                     "red_yellow_expected_loss": float((arr[s & risky] * (1 - p[s & risky])).sum()),
                     "unscored_accounts_due": int((due & ~scored).sum())})
    table = pd.DataFrame(rows, columns=FORECAST_COLUMNS)
    return table.astype({c: np.int64 for c in FORECAST_COLUMNS if COLUMN_TYPES[c] == "int"}), draws_out


def success_plan(book: pd.DataFrame, due: pd.Series, share: float = 0.2, from_colors=RISK_COLORS,
                 to_colors=("lime", "green")) -> dict:
    """What moving ``share`` of the ``from_colors`` accounts due in the four
    quarters to ``to_colors`` would change in expected ARR lost (see the
    module docstring). ``due``: boolean, aligned with ``book``, the
    accounts due in the four quarters. ``value`` (expected ARR kept) is
    None with ``reason`` when no due account is in ``from_colors`` or no
    scored account is in ``to_colors``."""
    colors = book["health_color"].fillna("").astype(str)
    p = book["renewal_probability"].astype(float)
    arr = book["arr"].astype(float)
    base = due.to_numpy(bool) & colors.isin(list(from_colors)).to_numpy() & p.notna().to_numpy()
    target = colors.isin(list(to_colors)) & p.notna()
    out = {"share": float(share), "from_colors": list(from_colors), "to_colors": list(to_colors),
           "base_accounts": int(base.sum()), "base_arr": float(arr[base].sum()),
           "base_expected_loss": float((arr[base] * (1 - p[base])).sum()),
           "base_mean_probability": float(p[base].mean()) if base.any() else None,
           "target_accounts": int(target.sum()),
           "target_mean_probability": float(p[target].mean()) if target.any() else None,
           "moved_arr": float(share * arr[base].sum()), "value": None, "reason": None,
           "assumption": (f"{share:.0%} of the ARR of the {' and '.join(from_colors)} accounts due in the next four "
                          f"quarters, taken as a proportional slice, renews with the mean probability of the "
                          f"scored {' and '.join(to_colors)} accounts instead of its own; an association the model "
                          "saw, not an effect of the plan")}
    if not base.any():
        out["reason"] = f"no scored account due in the next four quarters is {' or '.join(from_colors)}"
    elif not target.any():
        out["reason"] = f"no scored active account is {' or '.join(to_colors)}, so there is no probability to move to"
    else:
        out["value"] = float(share * (arr[base] * (out["target_mean_probability"] - p[base])).sum())
    return out


#: More of the active ARR than this without a next renewal date: no forecast (it would say almost nothing is due).
UNDATED_SHARE = 0.9


def forecast(book: pd.DataFrame, as_of: date, validation: dict | None, *, share: float = 0.2,
             from_colors=RISK_COLORS, to_colors=("lime", "green"), quarters: int = QUARTERS, draws: int = DRAWS,
             seed: int = SEED, min_auc: float = MIN_AUC, withhold: bool = True) -> tuple[pd.DataFrame, dict]:
    """The forecast: the quarter table (``FORECAST_COLUMNS``) and its facts
    (gate, totals over the four quarters, expected GRR with its interval,
    the success plan). With ``withhold`` (the default) a model the gate
    stops leaves every model figure missing (NaN, None); without it (the
    backtest) the figures are kept and ``shown`` says what the gate said.
    """
    book = book.assign(account_id=book["account_id"].astype(str)).sort_values("account_id", kind="stable")\
        .reset_index(drop=True)
    shown, reason = gate(validation, book["renewal_probability"], min_auc)
    table, sims = quarter_table(book, as_of, quarters, draws, seed)
    bounds = quarter_bounds(as_of, quarters)
    q = due_quarter(book["next_decision_date"], bounds)
    days = pd.to_datetime(book["next_decision_date"], errors="coerce")
    arr = book["arr"].astype(float)
    active_arr = float(arr.sum())
    undated = float(arr[days.isna()].sum())
    if shown and active_arr > 0 and undated > UNDATED_SHARE * active_arr:
        # Most ARR with no date to renew on: a forecast would read "nothing at risk", GRR 100%.
        shown, reason = False, (f"{undated / active_arr:.0%} of the active ARR has no next renewal date (renewal_date "
                                "in the accounts table), so the ARR up for renewal each quarter, and what it may "
                                "lose, cannot be placed; no forecast is shown")
    total = sims.sum(axis=1)
    expected = float(table["expected_loss"].sum())
    low, high = interval(total)
    validation = validation or {}
    facts = {
        "as_of": as_of.isoformat(), "quarters": int(quarters), "shown": bool(shown), "reason": reason,
        "gate": {"min_auc": float(min_auc), "auc": validation.get("auc"), "brier": validation.get("brier"),
                 "brier_base_rate": validation.get("brier_base_rate"), "cutoff_date": validation.get("cutoff_date"),
                 "n_test": validation.get("n_test"), "calibration_gap": calibration_gap(validation)},
        "interval": {"level": LEVEL, "method": "simulation of the Poisson-binomial sum (inverted_cdf percentiles)",
                     "draws": int(draws), "seed": int(seed)},
        "active_accounts": int(len(book)), "active_arr": active_arr,
        "due_accounts": int((q > 0).sum()), "due_arr": float(arr[q > 0].sum()),
        "undated_accounts": int(days.isna().sum()), "undated_arr": float(arr[days.isna()].sum()),
        "past_date_accounts": int((days <= pd.Timestamp(as_of)).sum()),
        "past_date_arr": float(arr[days <= pd.Timestamp(as_of)].sum()),
        "later_accounts": int((days > bounds["quarter_end"].iloc[-1]).sum()),
        "later_arr": float(arr[days > bounds["quarter_end"].iloc[-1]].sum()),
        "unscored_due_accounts": int(table["unscored_accounts_due"].sum()),
        "expected_loss": expected, "loss_low": low, "loss_high": high,
        "expected_churned_accounts": float(table["expected_churned_accounts"].sum()),
        "expected_grr": 1 - expected / active_arr if active_arr > 0 else None,
        "grr_low": 1 - high / active_arr if active_arr > 0 else None,
        "grr_high": 1 - low / active_arr if active_arr > 0 else None,
        "grr_note": ("churn only: the model forecasts whether an account renews, not by how much, so contraction "
                     "is not in it and the figure is an upper bound of GRR over the next 12 months"),
    }
    plan = success_plan(book, q > 0, share, from_colors, to_colors)
    if plan["value"] is not None and active_arr > 0:
        plan["expected_loss_after"] = expected - plan["value"]
        plan["expected_grr_after"] = 1 - (expected - plan["value"]) / active_arr
    else:
        plan["expected_loss_after"] = plan["expected_grr_after"] = None
    facts["success_plan"] = plan
    if not shown and withhold:
        for column in MODEL_COLUMNS:
            table[column] = np.nan
        for key in ("expected_loss", "loss_low", "loss_high", "expected_churned_accounts", "expected_grr",
                    "grr_low", "grr_high"):
            facts[key] = None
        for key in ("base_expected_loss", "base_mean_probability", "target_mean_probability", "value",
                    "expected_loss_after", "expected_grr_after"):
            plan[key] = None
        plan["reason"] = reason
    return table, facts


def next_decisions(decisions: pd.DataFrame, day: date) -> pd.DataFrame:
    """Each account's first decision dated after ``day`` (``decisions.csv``
    rows: ``account_id``, ``decision_date``, ``outcome``, ``arr_before``;
    same-date rows in file order): ``account_id``, ``next_decision_date``,
    ``outcome``, ``arr_before``."""
    d = decisions.assign(account_id=decisions["account_id"].astype(str),
                         decision_date=pd.to_datetime(decisions["decision_date"]))
    d = d[d["decision_date"] > pd.Timestamp(day)]
    d = d.assign(_order=np.arange(len(d))).sort_values(["decision_date", "_order"], kind="stable")
    first = d.drop_duplicates("account_id", keep="first")
    return pd.DataFrame({"account_id": first["account_id"].to_numpy(dtype=object),
                         "next_decision_date": first["decision_date"].to_numpy(),
                         "outcome": first["outcome"].astype(str).to_numpy(dtype=object),
                         "arr_before": first["arr_before"].astype(float).to_numpy()})


def backtest_table(book: pd.DataFrame, as_of: date, validation: dict | None, *, quarters: int = QUARTERS,
                   draws: int = DRAWS, seed: int = SEED, min_auc: float = MIN_AUC, **plan) -> tuple[pd.DataFrame, dict]:
    """The forecast made as of ``as_of`` (a year before the run's) against
    what happened: ``BACKTEST_COLUMNS`` per quarter and the forecast's
    facts with ``actual_loss``, ``actual_grr`` and
    ``quarters_within_interval`` added.

    ``book`` is a :func:`forecast` book as of ``as_of`` whose
    ``next_decision_date`` is each account's first decision after it, with
    that decision's ``outcome`` and ``arr_before`` (empty: none). The
    figures are kept whatever the gate said then (``shown``).
    """
    table, facts = forecast(book, as_of, validation, quarters=quarters, draws=draws, seed=seed, min_auc=min_auc,
                            withhold=False, **plan)
    book = book.assign(account_id=book["account_id"].astype(str)).sort_values("account_id", kind="stable")\
        .reset_index(drop=True)
    q = due_quarter(book["next_decision_date"], quarter_bounds(as_of, quarters))
    churned = (book["outcome"].fillna("").astype(str) == "churned") & (q > 0)
    lost = book["arr_before"].astype(float).where(churned, 0.0)
    table["actual_accounts_churned"] = [int((churned & (q == k)).sum()) for k in table["quarter"]]
    table["actual_loss"] = [float(lost[q == k].sum()) for k in table["quarter"]]
    actual = table["actual_loss"]
    table["within_interval"] = (actual >= table["loss_low"]) & (actual <= table["loss_high"])
    table = table[BACKTEST_COLUMNS].astype({"actual_accounts_churned": np.int64, "within_interval": bool})
    actual = float(table["actual_loss"].sum())
    facts["actual_loss"] = actual
    facts["actual_accounts_churned"] = int(table["actual_accounts_churned"].sum())
    facts["actual_grr"] = 1 - actual / facts["active_arr"] if facts["active_arr"] > 0 else None
    facts["total_within_interval"] = bool(facts["loss_low"] <= actual <= facts["loss_high"])
    facts["quarters_within_interval"] = int(table["within_interval"].sum())
    return table, facts
