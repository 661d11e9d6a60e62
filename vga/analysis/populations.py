"""One population per word: the churn counts of a run, side by side.

A run counts churn over three populations, each fixed by the metric
definitions, and they rightly give different numbers:

- the **retention cohort**: accounts paying at the start of the 12-month
  retention window (and started by then); churned = no ARR at the as-of
  date. NRR, GRR, logo churn and pattern slicing use it.
- the **renewal decisions of the look-back** (18 months by default): each
  renewals row with ARR before the change; churned = ARR after is 0. The
  churned- and renewed-customer analyses, early warnings and models use it;
  an account can have several decisions.
- the **survival subjects**: accounts that started on or before the as-of
  date and have paid, followed over their whole history; churned = their
  first change from ARR above 0 to 0.

Accounts that never paid are churn events in none of them.
:func:`churn_populations` puts the three side by side, with the accounts
each leaves out and why, so that a reader who sees 401, 426 and 558 knows
which is which.
"""

from __future__ import annotations

import pandas as pd

POPULATION_COLUMNS = ["population", "window", "counted", "unit", "churned", "churn_share", "left_out", "used_for"]


def _left_out(reasons: dict | None) -> str:
    if not reasons:
        return ""
    return "; ".join(f"{n:,} {reason}" for reason, n in reasons.items())


def churn_populations(retention: dict, window_start: str, as_of: str, decisions: dict, survival: dict) -> pd.DataFrame:
    """The reconciliation table (:data:`POPULATION_COLUMNS`), one row per
    population that could be counted: ``retention`` is ``retention.json``
    (with ``cohort_churned`` and ``cohort_excluded``), ``decisions``
    ``churned_customers.json`` and ``survival`` ``survival.json``."""
    rows = []
    if retention.get("cohort_accounts") is not None and retention.get("logo_churn_rate") is not None:
        n = int(retention["cohort_accounts"])
        rows.append({"population": "retention cohort", "window": f"12 months: after {window_start} to {as_of}",
                     "counted": n, "unit": "accounts", "churned": int(retention.get("cohort_churned") or 0),
                     "churn_share": retention["logo_churn_rate"],
                     "left_out": _left_out(retention.get("cohort_excluded")),
                     "used_for": "NRR, GRR, logo churn, pattern slicing"})
    # A cancellations-only export has no share of decisions to give (100% by construction).
    if not decisions.get("reason") and decisions.get("decisions") and decisions.get("renewals_shape") != "cancellations_only":
        by = decisions.get("decisions_by_outcome") or {}
        rows.append({"population": "renewal decisions", "window": f"{decisions['lookback_months']} months: after "
                     f"{decisions['lookback_start']} to {decisions['as_of']}", "counted": int(decisions["decisions"]),
                     "unit": "decisions", "churned": int(by.get("churned", 0)),
                     "churn_share": decisions.get("decision_churn_rate"),
                     "left_out": "rows with no ARR before the change (new business, win-backs)",
                     "used_for": "churned and renewed customers, early warnings, renewal model, churn by quadrant"})
    if not survival.get("reason") and survival.get("subjects"):
        rows.append({"population": "survival subjects", "window": f"each account's whole history to {survival['as_of']}",
                     "counted": int(survival["subjects"]), "unit": "accounts", "churned": int(survival["events"]),
                     "churn_share": survival["events"] / survival["subjects"],
                     "left_out": _left_out(survival.get("left_out_by_reason")),
                     "used_for": "survival curves, the Cox model"})
    return pd.DataFrame(rows, columns=POPULATION_COLUMNS)
