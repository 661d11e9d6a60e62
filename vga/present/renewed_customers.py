"""Step 4 · Renewed and expanded customers."""

from __future__ import annotations

import pandas as pd

from .. import plots
from .blocks import stat, figure, finding, note, number, p_value, pct, stack, table

COMPARISONS = {
    "retained vs churned": "renewed or expanded decisions against churned ones",
    "expanded vs renewed": "expanded decisions against those renewed flat",
}


def measure_name(measure: str) -> str:
    """A behaviour column in words."""
    if measure.startswith("uses_"):
        return f"used {measure[5:]} (90 days)"
    if measure.startswith("milestone_"):
        return f"onboarding: {measure[10:].replace('_', ' ')} done"
    return {"core_adoption": "core features adopted (share)", "courses_completed": "training courses completed",
            "trained": "any training completed", "days_to_first_value": "days to first value",
            "tickets": "support tickets (90 days)", "escalated_tickets": "escalated tickets (90 days)"}.get(
        measure, measure.replace("_", " "))


def _value(kind, v):
    return pct(v) if kind == "share" else number(v, 1)


def _reason(view):
    facts = view["renewed_customers.json"]
    if facts.get("reason") or view["behaviours.csv"] is None:
        why = facts.get("reason") or "no behaviour data (usage events, onboarding, training or tickets) was given"
        return note(f"No comparison of renewed and churned customers: {why}.", "skip")
    return None


def missing_inputs(view):
    """Which behaviour tables were not given, and what they would add."""
    tables = view["renewed_customers.json"]["tables"]
    adds = {"usage_events": "features used and core adoption", "onboarding": "onboarding milestones",
            "training": "training completed", "support_tickets": "support load"}
    absent = [f"{t} ({adds[t]})" for t, given in tables.items() if not given]
    if absent:
        return note("Not compared, because the table was not given: " + "; ".join(absent) + ".", "skip")
    return None


def comparison(view, which: str = "retained vs churned"):
    table_all = view["behaviours.csv"]
    if _reason(view):
        return _reason(view)
    rows = table_all[table_all["comparison"] == which].copy()
    rows["behaviour"] = rows["measure"].map(measure_name)
    rows = rows.sort_values(["flagged", "q_value"], ascending=[False, True])
    shown = rows[rows["tested"]]
    parts = []
    if len(shown):
        fig, ax = plots.new_figure(8, max(2.5, 0.32 * len(shown) + 1))
        shares = shown[shown["kind"] == "share"]
        if len(shares):
            plots.comparison_bars(shares.assign(difference=100 * shares["difference"], ci_lower=100 * shares["ci_lower"],
                                                ci_upper=100 * shares["ci_upper"]),
                                  shares["behaviour"], ax, "difference in percentage points (95% interval)",
                                  f"Behaviours: {COMPARISONS[which]}")
            parts.append(figure(fig, f"Bar chart of the difference in the share of decisions showing each behaviour, "
                                     f"{COMPARISONS[which]}, with 95% intervals",
                                "Dark bars: significant after Benjamini-Hochberg; grey: not distinguishable from noise."))
    formatted = rows.assign(
        first_value=[_value(k, v) for k, v in zip(rows["kind"], rows["first_value"])],
        second_value=[_value(k, v) for k, v in zip(rows["kind"], rows["second_value"])],
        difference=[(f"{100 * v:+.1f} pts" if k == "share" else f"{v:+,.1f}") if pd.notna(v) else "–"
                    for k, v in zip(rows["kind"], rows["difference"])],
        interval=[("–" if pd.isna(lo) else (f"{100 * lo:+.1f} to {100 * hi:+.1f} pts" if k == "share" else f"{lo:+,.1f} to {hi:+,.1f}"))
                  for k, lo, hi in zip(rows["kind"], rows["ci_lower"], rows["ci_upper"])],
    )
    first, second = which.split(" vs ")
    parts.append(table(formatted[["behaviour", "first_n", "first_value", "second_n", "second_value", "difference",
                                  "interval", "q_value", "flagged"]], {"q_value": p_value},
                       names={"first_n": f"{first} decisions", "first_value": first, "second_n": f"{second} decisions",
                              "second_value": second, "interval": "95% interval", "q_value": "q value",
                              "flagged": "significant"}))
    return stack(*parts)


def expansion(view):
    return comparison(view, "expanded vs renewed")


def findings(view):
    if _reason(view):
        return _reason(view)
    rows = view["behaviours.csv"]
    lines = []
    for which in COMPARISONS:
        flagged = rows[(rows["comparison"] == which) & rows["flagged"]].sort_values("q_value")
        first, second = which.split(" vs ")
        if flagged.empty:
            lines.append(f"No behaviour separates {first} from {second} decisions beyond chance.")
            continue
        # The strongest of each kind: features, onboarding milestones, the rest.
        kinds = flagged["measure"].str.extract(r"^(uses_|milestone_)?")[0].fillna("other")
        picked = flagged.groupby(kinds.to_numpy(), sort=False).head(2)
        for _, r in picked.iterrows():
            if r["kind"] == "share":
                lines.append(f"{measure_name(r['measure']).capitalize()}: {pct(r['first_value'])} of {first} decisions "
                             f"against {pct(r['second_value'])} of {second} ones ({100 * r['difference']:+.1f} points, "
                             f"95% interval {100 * r['ci_lower']:+.1f} to {100 * r['ci_upper']:+.1f}, {stat('q', r['q_value'])}).")
            else:
                lines.append(f"{measure_name(r['measure']).capitalize()}: {r['first_value']:,.1f} for {first} decisions "
                             f"against {r['second_value']:,.1f} for {second} ones (difference {r['difference']:+,.1f}, "
                             f"95% interval {r['ci_lower']:+,.1f} to {r['ci_upper']:+,.1f}, {stat('q', r['q_value'])}).")
    lead = view["renewed_customers.json"]["lead_days"]
    lines.append(f"Each behaviour is measured {lead} days before the decision with nothing dated later; these are "
                 "associations, not proof of cause.")
    return stack(*[finding(line) for line in lines])
