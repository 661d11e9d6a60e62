"""Core-feature adoption by renewal outcome: how much of the product the
accounts used 30, 60 and 90 days before a decision that renewed, expanded,
downgraded or churned.

Definitions (the project's documented choices):

- For each decision of the look-back and each lead L of 30, 60 and 90
  days, the account's core adoption as of ``decision_date - L``: the share
  of the configured core features (``[usage] core_features``) it used in
  the 90 days ``(day - 90 days, day]`` (:mod:`vga.analysis.usage`), 0 when it had no
  events then; empty where the events do not cover that window.
- Per lead and outcome: the decisions measured, the mean adoption with a
  95% t-interval, and for each core feature the share of decisions whose
  account used it, with a 95% Wilson interval. A group of fewer than
  ``min_n`` decisions is shown with its n and no interval (``small``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..stats import mean_interval, share_interval

OUTCOME_ORDER = ("renewed", "expanded", "downgraded", "churned")
ADOPTION_COLUMNS = ["lead_days", "outcome", "measure", "decisions", "value", "ci_lower", "ci_upper", "small"]


def adoption_features(decisions: pd.DataFrame, events, core: list[str], covered, leads=(30, 60, 90)) -> pd.DataFrame:
    """One row per decision and lead: ``lead_days``, ``outcome``,
    ``core_adoption`` and ``uses_<feature>`` for each core feature.
    ``covered(day)`` says whether the events cover the 90 days to a day."""
    from .usage import pair_feature_use, pair_usage

    rows = []
    for lead in leads:
        rows.append(pd.DataFrame({"account_id": decisions["account_id"].astype(str).to_numpy(),
                                  "day": (pd.to_datetime(decisions["decision_date"]) - pd.Timedelta(days=lead)).to_numpy(),
                                  "lead_days": lead, "outcome": decisions["outcome"].to_numpy()}))
    pairs = pd.concat(rows, ignore_index=True)
    pairs["pair"] = np.arange(len(pairs))
    activity = pair_usage(events, pairs, 90, core).set_index("pair")
    used = pair_feature_use(events, pairs, core).set_index("pair")
    known = np.asarray([covered(d) for d in pd.to_datetime(pairs["day"]).dt.date], dtype=bool)
    pairs["core_adoption"] = activity["core_adoption"].reindex(pairs["pair"]).fillna(0.0).to_numpy()
    for feature in core:
        column = used[feature] if feature in used.columns else pd.Series(dtype=bool)
        pairs[f"uses_{feature}"] = column.reindex(pairs["pair"]).fillna(False).astype(float).to_numpy()
    measured = ["core_adoption", *[f"uses_{f}" for f in core]]
    pairs.loc[~known, measured] = np.nan
    return pairs


def adoption_by_outcome(features: pd.DataFrame, core: list[str], min_n: int = 10) -> pd.DataFrame:
    """``adoption_by_outcome.csv`` from :func:`adoption_features` (see the
    module docstring): per lead, outcome and measure (``core_adoption``, then
    ``uses_<feature>``)."""
    rows = []
    for lead in sorted(features["lead_days"].unique(), reverse=True):
        for outcome in OUTCOME_ORDER:
            part = features[(features["lead_days"] == lead) & (features["outcome"] == outcome)]
            for measure in ["core_adoption", *[f"uses_{f}" for f in core]]:
                values = part[measure].dropna().to_numpy(float)
                n = len(values)
                row = {"lead_days": int(lead), "outcome": outcome, "measure": measure, "decisions": n,
                       "value": float(values.mean()) if n else np.nan, "ci_lower": np.nan, "ci_upper": np.nan,
                       "small": n < min_n}
                if n >= min_n:
                    if measure == "core_adoption":
                        low, high, _ = mean_interval(values)
                    else:
                        low, high = share_interval(int(values.sum()), n)
                    row.update(ci_lower=low, ci_upper=high)
                rows.append(row)
    return pd.DataFrame(rows, columns=ADOPTION_COLUMNS)
