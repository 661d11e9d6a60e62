"""Money at risk: what a value gap costs, in ARR, rather than the ARR it touches.

A value gap compares the accounts (or renewal decisions) *exposed* to it with
a *reference* group: a slice of the cohort against the rest of the cohort, a
quadrant against the Champions, decisions without an onboarding milestone
against those with it. Each unit (a cohort account, or a decision) has the
ARR it started with and the ARR it lost by the end (churn: all of it;
contraction: the decrease; growth loses nothing), so each group has an **ARR
loss rate** = ARR lost / ARR at the start (churn and contraction together,
weighted by ARR, in 0..1).

- **Excess loss rate** = the exposed group's loss rate minus the reference
  group's (a fraction; negative when the exposed group does better).
- **ARR that would have been kept** over the comparison's window, had the
  exposed units lost ARR at the reference rate:
  ``exposed starting ARR x excess loss rate`` (in the data's currency).
- **ARR at risk now**: the ARR at the as-of date of the active accounts
  exposed today, times the same excess loss rate: what the gap will cost
  over the next window if nothing changes and the past rate holds.

Both come with a 95% interval from a stratified bootstrap (the exposed and
the reference units resampled separately, :data:`RESAMPLES` times, with a
fixed seed so that a run is reproducible): the 2.5th and 97.5th
percentiles of the same figure over the resamples.

A gap enters the executive summary's "Do first" only when it was tested
(its adjusted q value below alpha), the exposed group churns more than the
reference, and the difference is large enough to act on: at least
``min_churn_points`` points of logo churn or a churn rate ratio of at least
``min_rate_ratio`` (``[quick_wins]``, defaults 5 points and 1.25), and the
95% interval of its money at risk lies above 0 (an interval across 0 means
the gap may cost nothing). These are
associations measured in the past, not proof of cause.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..stats import rate_ratio

#: Bootstrap resamples behind each interval.
RESAMPLES = 1000
#: Resamples drawn at a time (bounds memory for large groups).
_BATCH = 200
SEED = 20260930

COLUMNS = ["exposed_units", "exposed_churn_rate", "reference_units", "reference_churn_rate", "exposed_loss_rate",
           "reference_loss_rate", "excess_loss_rate", "arr_kept", "arr_kept_low", "arr_kept_high",
           "money_at_risk", "money_at_risk_low", "money_at_risk_high"]


def loss_units(start: pd.Series, end: pd.Series) -> pd.DataFrame:
    """Units for :func:`money_at_risk` from each unit's ARR at the start and
    at the end of its window: ``start``, ``lost`` (churn or contraction,
    never negative) and ``churned`` (ARR 0 at the end)."""
    start = pd.to_numeric(start, errors="coerce").fillna(0.0).astype(float)
    end = pd.to_numeric(end, errors="coerce").fillna(0.0).astype(float)
    return pd.DataFrame({"start": start.to_numpy(), "lost": (start - np.minimum(start, end)).clip(lower=0).to_numpy(),
                         "churned": ((end <= 0) & (start > 0)).to_numpy()}, index=start.index)


def _loss_rate(start: np.ndarray, lost: np.ndarray) -> float:
    total = start.sum()
    return float(lost.sum() / total) if total > 0 else float("nan")


def _resampled_sums(values: np.ndarray, rng: np.random.Generator, reps: int) -> np.ndarray:
    """Sums of ``values`` (n x k) over ``reps`` bootstrap resamples: reps x k."""
    n = len(values)
    out = np.empty((reps, values.shape[1]))
    done = 0
    while done < reps:
        batch = min(_BATCH, reps - done)
        # Counts of each unit in each resample (a multinomial draw is a resample with replacement).
        counts = rng.multinomial(n, np.full(n, 1.0 / n), size=batch)
        out[done:done + batch] = counts @ values
        done += batch
    return out


def money_at_risk(exposed: pd.DataFrame, reference: pd.DataFrame, exposed_arr_now: float,
                  resamples: int = RESAMPLES, seed: int = SEED) -> dict:
    """The money a gap costs (see the module docstring).

    ``exposed`` and ``reference``: :func:`loss_units` frames of the two
    groups over the same window. ``exposed_arr_now``: ARR at the as-of date
    of the active accounts exposed today. Returns the keys of
    :data:`COLUMNS` (money in the data's currency, rates as fractions); the
    figures are NaN when either group is empty or started with no ARR.
    """
    out = dict.fromkeys(COLUMNS, float("nan"))
    out.update(exposed_units=int(len(exposed)), reference_units=int(len(reference)))
    if len(exposed):
        out["exposed_churn_rate"] = float(exposed["churned"].mean())
    if len(reference):
        out["reference_churn_rate"] = float(reference["churned"].mean())
    e = exposed[["start", "lost"]].to_numpy(dtype=float)
    r = reference[["start", "lost"]].to_numpy(dtype=float)
    if not len(e) or not len(r) or e[:, 0].sum() <= 0 or r[:, 0].sum() <= 0:
        return out
    exposed_rate, reference_rate = _loss_rate(e[:, 0], e[:, 1]), _loss_rate(r[:, 0], r[:, 1])
    excess = exposed_rate - reference_rate
    out.update(exposed_loss_rate=exposed_rate, reference_loss_rate=reference_rate, excess_loss_rate=excess,
               arr_kept=float(e[:, 0].sum() * excess), money_at_risk=float(exposed_arr_now * excess))
    rng = np.random.default_rng(seed)
    es, rs = _resampled_sums(e, rng, resamples), _resampled_sums(r, rng, resamples)
    with np.errstate(divide="ignore", invalid="ignore"):
        excess_b = es[:, 1] / es[:, 0] - rs[:, 1] / rs[:, 0]
        kept_b = es[:, 1] - es[:, 0] * rs[:, 1] / rs[:, 0]
    excess_b, kept_b = excess_b[np.isfinite(excess_b)], kept_b[np.isfinite(kept_b)]
    if len(excess_b):
        low, high = np.percentile(excess_b, [2.5, 97.5])
        out.update(money_at_risk_low=float(exposed_arr_now * low), money_at_risk_high=float(exposed_arr_now * high))
        low, high = np.percentile(kept_b, [2.5, 97.5])
        out.update(arr_kept_low=float(low), arr_kept_high=float(high))
    return out


def large_enough(exposed_rate: float, reference_rate: float, min_points: float, min_ratio: float) -> bool:
    """Whether the exposed group churns enough more than the reference to act
    on: at least ``min_points`` percentage points more, or a rate ratio of at
    least ``min_ratio`` (a reference rate of 0 with any churn counts as a
    large ratio). False when either rate is unknown or the exposed group
    churns no more."""
    if exposed_rate != exposed_rate or reference_rate != reference_rate or exposed_rate <= reference_rate:
        return False
    if 100 * (exposed_rate - reference_rate) >= min_points:
        return True
    return rate_ratio(exposed_rate, reference_rate) >= min_ratio


def expansion_drivers(behaviours: pd.DataFrame | None) -> pd.DataFrame:
    """Behaviours that expanded customers show significantly more often than
    those that renewed flat (``behaviours.csv``, "expanded vs renewed",
    flagged, a share, higher among the expanded), with the expansion rate of
    the decisions with and without the behaviour: ``measure``,
    ``with_rate``, ``without_rate``, ``ratio`` (how many times as often),
    ``with_decisions``, ``without_decisions``, ``q_value``; strongest first.

    The rates follow from the shares: with ``n_e`` expanded decisions of
    which a share ``s_e`` showed the behaviour, and ``n_r``, ``s_r`` for the
    flat renewals, the expansion rate with it is
    ``n_e s_e / (n_e s_e + n_r s_r)``, and without it the same with
    ``1 - s``."""
    columns = ["measure", "with_rate", "without_rate", "ratio", "with_decisions", "without_decisions", "q_value"]
    if behaviours is None or behaviours.empty:
        return pd.DataFrame(columns=columns)
    rows = behaviours[(behaviours["comparison"] == "expanded vs renewed") & behaviours["flagged"].astype(bool)
                      & (behaviours["kind"] == "share") & (behaviours["difference"] > 0)]
    out = []
    for r in rows.itertuples():
        with_e, with_r = r.first_n * r.first_value, r.second_n * r.second_value
        without_e, without_r = r.first_n - with_e, r.second_n - with_r
        if with_e + with_r <= 0 or without_e + without_r <= 0:
            continue
        with_rate, without_rate = with_e / (with_e + with_r), without_e / (without_e + without_r)
        out.append({"measure": r.measure, "with_rate": with_rate, "without_rate": without_rate,
                    "ratio": rate_ratio(with_rate, without_rate),
                    "with_decisions": int(round(with_e + with_r)), "without_decisions": int(round(without_e + without_r)),
                    "q_value": float(r.q_value)})
    frame = pd.DataFrame(out, columns=columns)
    return frame.sort_values(["ratio", "measure"], ascending=[False, True]).reset_index(drop=True)
