"""Named figures: the figures the report's prose cites, each once, with its
population and window (``results/figures.csv``).

A report that counts churn over three populations (the retention cohort,
the renewal decisions of the look-back, the survival subjects) shows three
churn shares, and each is right; a reader who sees "churn 18.1%" and
"churn 18.6%" a page apart cannot tell which is which unless each carries
its population and window. So every such figure gets one *name* here, one
value, a unit (``share``, ``money``, ``count``), the population it counts
and the window it covers; the summary's sentences cite figures by name
(:func:`cite`), and a test renders whole reports and fails when one name
shows two values or a share is printed without its population.

Built once per run by the executive summary step from the outputs the
other steps wrote; nothing is computed twice.
"""

from __future__ import annotations

import pandas as pd

COLUMNS = ["name", "label", "value", "unit", "population", "window"]

#: How the report's prose cites each name (``{value}`` stands for the figure
#: as printed): a test checks that every such place prints the registry's value.
CITED_AS = {
    "nrr": [r"Net revenue retention is {value}"],
    "grr": [r"gross revenue retention {value} over the 12 months"],
    "logo_churn_rate": [r"{value} of the [\d,]+ accounts paying on"],
    "decision_churn_rate": [r"{value} of the [\d,]+ renewal decisions of the", r"decisions to leave \(ARR to 0\); {value} of decisions"],
    "survival_churn_share": [r"Survival subjects \([^)]*\): [\d,]+ of [\d,]+ accounts churned \({value}\)"],
    "cohort_churn_share": [r"Retention cohort \([^)]*\): [\d,]+ of [\d,]+ accounts churned \({value}\)"],
    "renewal_decisions_churn_share": [r"Renewal decisions \([^)]*\): [\d,]+ of [\d,]+ decisions churned \({value}\)"],
}


def _row(name, label, value, unit, population, window) -> dict:
    return {"name": name, "label": label, "value": None if value is None else float(value), "unit": unit,
            "population": population, "window": window}


def named_figures(retention: dict, decisions: dict, survival: dict, populations: pd.DataFrame | None,
                  do_first_total: dict | None) -> pd.DataFrame:
    """The registry (:data:`COLUMNS`) from ``retention.json``,
    ``churned_customers.json``, ``survival.json``, ``churn_populations.csv``
    and the Do first total. A figure that could not be computed is left out
    (the report says why elsewhere); shares are fractions, money in the
    data's currency."""
    rows = []
    start, as_of = retention.get("window_start"), retention.get("as_of")
    year = f"12 months after {start} to {as_of}"
    cohort = retention.get("cohort_accounts")
    if retention.get("nrr") is not None:
        who = f"retention cohort: {int(cohort):,} accounts paying on {start}"
        rows += [
            _row("nrr", "net revenue retention", retention["nrr"], "share", who, year),
            _row("grr", "gross revenue retention", retention["grr"], "share", who, year),
            _row("logo_churn_rate", "logo churn of the retention cohort", retention["logo_churn_rate"], "share", who,
                 year),
            _row("arr_churned", "ARR churned by the retention cohort", retention.get("arr_churned"), "money", who, year),
            _row("arr_contracted", "ARR contracted by the retention cohort", retention.get("arr_contracted"), "money",
                 who, year),
            _row("arr_expanded", "ARR expanded by the retention cohort", retention.get("arr_expanded"), "money", who,
                 year),
        ]
    if not decisions.get("reason") and decisions.get("decisions"):
        window = f"{decisions['lookback_months']} months after {decisions['lookback_start']} to {decisions['as_of']}"
        n = int(decisions["decisions"])
        who = f"renewal decisions of the look-back: {n:,} decision{'' if n == 1 else 's'}"
        if decisions.get("renewals_shape") != "cancellations_only":
            rows.append(_row("decision_churn_rate", "share of renewal decisions churned",
                             decisions.get("decision_churn_rate"), "share", who, window))
        by = decisions.get("decisions_by_outcome") or {}
        groups = decisions.get("accounts_by_group") or {}
        rows += [
            _row("arr_lost_churned", "ARR lost to churn over the look-back", decisions.get("arr_lost_churned"), "money",
                 who, window),
            _row("arr_lost_downgraded", "ARR lost to downgrades over the look-back",
                 decisions.get("arr_lost_downgraded"), "money", who, window),
            _row("decisions_downgraded", "renewal decisions to pay less", by.get("downgraded", 0), "count", who, window),
            _row("accounts_downgraded", "accounts that downgraded (and did not churn)", groups.get("downgraded", 0),
                 "count", who, window),
        ]
    if not survival.get("reason") and survival.get("subjects"):
        who = f"survival subjects: {int(survival['subjects']):,} accounts that paid, from their contract start"
        rows.append(_row("survival_churn_share", "share of survival subjects churned",
                         survival["events"] / survival["subjects"], "share", who,
                         f"each account's whole history to {survival['as_of']}"))
    for r in (populations.itertuples() if populations is not None else ()):
        name = {"retention cohort": "cohort_churn_share", "renewal decisions": "renewal_decisions_churn_share"}.get(
            r.population)
        if name:
            rows.append(_row(name, f"share of the {r.population} churned", r.churn_share, "share",
                             f"{r.population}: {int(r.counted):,} {r.unit}", r.window))
    if do_first_total and do_first_total.get("gaps"):
        rows.append(_row("do_first_money_at_risk", "money at risk now in the Do first gaps, each account once",
                         do_first_total["money_at_risk"], "money",
                         f"{int(do_first_total['accounts']):,} active account{'' if do_first_total['accounts'] == 1 else 's'} "
                         f"in {int(do_first_total['gaps'])} gap{'' if do_first_total['gaps'] == 1 else 's'}",
                         f"the next 12 months at the past rate, from {as_of}"))
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame[frame["value"].notna()].reset_index(drop=True)


def cite(figures: list[dict] | pd.DataFrame, name: str) -> dict | None:
    """The registry's record for ``name`` (keys of :data:`COLUMNS`), or None."""
    records = figures.to_dict("records") if isinstance(figures, pd.DataFrame) else figures or []
    found = [r for r in records if r["name"] == name]
    return found[0] if found else None
