"""Figures that are possible but rarely true: said before anyone acts on them.

A value gap analysis of a new export can be computed exactly and still be
wrong about the company: monthly amounts in an annual ``arr`` column, two
currencies, scores on a 0..10 scale read against thresholds on 0..100, a
slicing column that holds one value. None of these is an error in the data
contract, so nothing is quarantined; each is a *plausibility warning*,
printed on the console and on the report's first screen:

- NRR above :data:`NRR_HIGH` (200%) or below :data:`NRR_LOW` (20%);
- more than half of the active accounts Unscored;
- every scored active account in one quadrant (with at least
  ``min_accounts`` scored);
- a slicing dimension with one value, or with none, among the accounts;
- no accepted account at all.
"""

from __future__ import annotations

import pandas as pd

NRR_HIGH, NRR_LOW = 2.0, 0.2
UNSCORED_SHARE = 0.5


def plausibility_warnings(retention: dict, quadrants: pd.DataFrame | None, accounts: pd.DataFrame,
                          dimensions: list[str], min_accounts: int) -> list[str]:
    """The warnings above, as sentences saying what to check.

    ``retention`` is ``retention.json`` (``nrr`` a fraction or None),
    ``quadrants`` ``quadrants.csv`` (active accounts, ``quadrant``),
    ``accounts`` the accepted accounts and ``dimensions`` the slicing
    dimensions of the run."""
    out = []
    if accounts.empty:
        return ["No account was accepted, so every figure of this report is empty: see how many rows of accounts were "
                "read and why they were set aside in Data gathering."]
    nrr = retention.get("nrr")
    if nrr is not None and (nrr > NRR_HIGH or nrr < NRR_LOW):
        side = "above 200%" if nrr > NRR_HIGH else "below 20%"
        out.append(f"Net revenue retention is {100 * nrr:.1f}%, {side}: rare for a real company. Check that accounts.arr "
                   "and the renewals' arr_before and arr_after are annual amounts in one currency, and that the "
                   "renewals hold every change of ARR.")
    if quadrants is not None and len(quadrants):
        unscored = int((quadrants["quadrant"] == "Unscored").sum())
        if unscored / len(quadrants) > UNSCORED_SHARE:
            out.append(f"{unscored:,} of {len(quadrants):,} active accounts ({100 * unscored / len(quadrants):.0f}%) are "
                       "Unscored (a usage or health score is missing): the quadrant speaks for the scored accounts "
                       "only. Give usage_events or accounts.usage_score, and health_scores or accounts.health_score, "
                       "for every account.")
        scored = quadrants[quadrants["quadrant"] != "Unscored"]
        kinds = scored["quadrant"].unique()
        if len(scored) >= max(int(min_accounts), 1) and len(kinds) == 1:
            out.append(f"All {len(scored):,} scored active accounts are {kinds[0]}: check that the scores are on "
                       "0..100 and that [analysis] usage_threshold and health_threshold suit them.")
    for dimension in dimensions:
        if dimension not in accounts.columns:
            continue
        values = accounts[dimension].dropna().astype(str)
        values = values[values.str.strip() != ""].unique()
        if len(values) <= 1:
            which = f"one value ('{values[0]}')" if len(values) else "no value"
            out.append(f"The slicing dimension {dimension} has {which} among the accounts, so no slice of it can "
                       "differ from the rest: check that column of the accounts export.")
    return out
