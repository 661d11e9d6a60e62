"""Step 7 · The Usage-Health quadrant."""

from __future__ import annotations

import pandas as pd

from . import View
from ..outputs import (CHAMPION_FEATURES_CSV, QUADRANTS_CSV, QUADRANT_CHURN_CSV, QUADRANT_VIEW_JSON, USAGE_TREND_CSV,
    WORKFLOW_ABANDONMENT_CSV)
from . import Chapter, plots
from .. import words
from ..analysis.quadrant import FRUSTRATED, QUADRANTS, UNSCORED
from .blocks import not_shown, count, figure, finding, kpis, money, note, number, p_value, pct, skipped, stack, table

CHAPTER = Chapter(number=7, title="The Usage-Health quadrant", notebook="07_quadrant_view", node="quadrant_view", place=3, reads=('analysis.usage_threshold', 'analysis.health_threshold'))

QUADRANT_TEXT = {
    "Champions": "high usage, high health: protect and turn into references",
    "Frustrated Power Users": "high usage, low health: they rely on the product but are unhappy; fix what hurts",
    "Relationship-Dependent": "low usage, high health: they like us but use little; drive adoption",
    "Churn Risk": "low usage, low health: intervene now",
    "Unscored": "a score is missing: fix the data before judging these accounts",
}


def _uncovered(view: View):
    facts = view[QUADRANT_VIEW_JSON]
    if not facts.get("reason"):
        return None
    return note(f"The quadrant is not shown: {facts['reason']}.", "warn" if not facts["covered"] else "skip")


def nothing_scored(view: View):
    """A note when no active account has both scores (every one Unscored),
    saying why and what to give; None otherwise. Then no card, chart or
    sentence counts accounts in the four quadrants (all would read 0)."""
    quadrants = view[QUADRANTS_CSV]
    if quadrants is None or not len(quadrants) or (quadrants["quadrant"] != UNSCORED).any():
        return None
    usage = (quadrants["usage_score"].notna().sum() if "usage_score" in quadrants.columns else 0)
    health = (quadrants["health_score"].notna().sum() if "health_score" in quadrants.columns else 0)
    return note(f"No active account could be placed in the quadrant: all {len(quadrants):,} are Unscored "
                f"({usage:,} have a usage score, {health:,} a health score; a quadrant needs both). Give usage_events "
                "or accounts.usage_score, and health_scores or accounts.health_score.", "warn")


def headline(view: View):
    """Accounts and ARR per quadrant, and the sentence that matters most."""
    if _uncovered(view):
        return _uncovered(view)
    if nothing_scored(view):
        return nothing_scored(view)
    quadrants = view[QUADRANTS_CSV]
    totals = quadrants.groupby("quadrant")["arr"].agg(["size", "sum"])
    cards = kpis([(name, count(totals["size"].get(name, 0)), f"accounts, ARR {money(totals['sum'].get(name, 0))}")
                  for name in QUADRANTS])
    total_arr = quadrants["arr"].sum()
    fpu = quadrants[quadrants["quadrant"] == FRUSTRATED]
    sentence = finding(
        f"{len(fpu):,} of {len(quadrants):,} active accounts are Frustrated Power Users, holding "
        f"{money(fpu['arr'].sum())} of {money(total_arr)} ARR ({pct(fpu['arr'].sum() / total_arr if total_arr else None)}): "
        "they rely on the product and are unhappy.")
    return stack(cards, sentence)


def charts(view: View):
    if _uncovered(view) or nothing_scored(view):
        return not_shown("no account is scored")
    quadrants = view[QUADRANTS_CSV]
    a = view.settings.analysis
    fig, ax = plots.new_figure(plots.WIDTH, 4.4)
    plots.quadrant_scatter(quadrants, usage_threshold=a.usage_threshold, health_threshold=a.health_threshold, ax=ax)
    fig2, ax2 = plots.new_figure(plots.WIDTH, 2.7)
    plots.quadrant_arr_bars(quadrants, ax=ax2)
    return figure([fig, fig2],
                  [f"Scatter plot of usage score against health score for {len(quadrants):,} active accounts, "
                   f"thresholds at {a.usage_threshold:g} and {a.health_threshold:g}",
                   "Bar chart of ARR per quadrant with account counts"],
                  "Each dot is an active account, sized by ARR; dashed lines are the quadrant thresholds. The bars: "
                  "ARR at the as-of date, per quadrant.")


def frustrated(view: View):
    """The Frustrated Power Users, largest ARR first."""
    if _uncovered(view):
        return not_shown()
    if nothing_scored(view):
        return not_shown("no account is scored")
    quadrants = view[QUADRANTS_CSV]
    fpu = quadrants[quadrants["quadrant"] == FRUSTRATED].sort_values("arr", ascending=False)
    if not len(fpu):
        return note("No account is a Frustrated Power User.")
    cols = ["account_id", "account_name", "arr", "usage_score", "health_score", "health_color", "previous_quadrant"]
    return table(fpu[cols], {"arr": money, "usage_score": number, "health_score": number}, max_rows=15)


def score_sources(view: View):
    """How many active accounts took each score from each source."""
    if _uncovered(view):
        return not_shown()
    quadrants = view[QUADRANTS_CSV]
    rows = []
    for kind in ("usage", "health"):
        counts = quadrants[f"{kind}_source"].replace("", "missing").value_counts()
        rows += [{"score": kind, "source": src, "accounts": int(n)} for src, n in counts.items()]
    parts = [table(pd.DataFrame(rows, columns=["score", "source", "accounts"]))]
    if "health_signals_stale" in quadrants.columns:
        stale = quadrants[(quadrants["health_source"] == "composite") & (quadrants["health_signals_stale"] != "")]
        if len(stale):
            parts.append(note(f"{len(stale):,} accounts scored by the composite lack at least one signal (stale or "
                              "absent); their other signals carry its weight.", "warn"))
    unscored = quadrants[quadrants["quadrant"] == UNSCORED]
    if len(unscored):
        parts.append(note(f"{len(unscored):,} active accounts (ARR {money(unscored['arr'].sum())}) lack a usage or "
                          "health score.", "warn"))
    return stack(*parts)


def movement(view: View):
    """Flows between quadrants since the previous period."""
    if _uncovered(view):
        return not_shown()
    quadrants, facts = view[QUADRANTS_CSV], view[QUADRANT_VIEW_JSON]
    if (quadrants["previous_quadrant"] == "").all():
        return note("No previous quadrant: the data has no history and no previous run was found.", "skip")
    moved = quadrants[quadrants["moved"]]
    flows = (moved.groupby(["previous_quadrant", "quadrant"])
             .agg(accounts=("account_id", "size"), arr=("arr", "sum")).reset_index()
             .sort_values("arr", ascending=False))
    into_fpu = moved[moved["quadrant"] == FRUSTRATED]
    return stack(
        finding(f"{len(moved):,} of {len(quadrants):,} active accounts changed quadrant since "
                f"{facts['previous_period']}; {len(into_fpu):,} of them (ARR {money(into_fpu['arr'].sum())}) "
                "became Frustrated Power Users."),
        table(flows, {"arr": money, "accounts": count}),
    )


def explanations(view: View):
    """Why accounts moved: the score parts that changed most."""
    if _uncovered(view):
        return not_shown()
    quadrants = view[QUADRANTS_CSV]
    if "explanation" not in quadrants.columns:
        return not_shown("no account's movement can be explained")
    moved = quadrants[quadrants["moved"]].sort_values("arr", ascending=False)
    if not len(moved):
        return note("No account changed quadrant.")
    colour = quadrants[(quadrants["explanation"] != "") & ~quadrants["moved"]]
    return stack(
        table(moved[["account_id", "account_name", "arr", "explanation"]], {"arr": money}, max_rows=20),
        note(f"A further {len(colour):,} accounts kept their quadrant but changed health colour; their explanations "
             "are in results/quadrants.csv."),
    )


def usage_over_time(view: View):
    """Product use per month (fully covered months only) and where workflows are abandoned."""
    trend = view[USAGE_TREND_CSV]
    if trend is None:
        return note("No usage events: usage over time cannot be shown.", "skip")
    parts = []
    if len(trend):
        core = "median_core_adoption" in trend.columns and trend["median_core_adoption"].notna().any()
        figs, axes = zip(*[plots.new_figure(plots.WIDTH, 2.6) for _ in range(3 if core else 2)])
        plots.usage_trend(trend, axes=list(axes))
        first, last = trend.iloc[0], trend.iloc[-1]
        parts.append(finding(
            f"{last['active_accounts']:,} accounts used the product in {last['month']:%B %Y}, against "
            f"{first['active_accounts']:,} in {first['month']:%B %Y}; median session depth went from "
            f"{first['median_events_per_session']:.1f} to {last['median_events_per_session']:.1f} events."))
        parts.append(figure(list(figs), ["Line chart of accounts using the product per month",
                                         "Line chart of the median events per session per month",
                                         "Line chart of the median share of core features used per month"][:len(figs)],
                            "Only months the events cover completely are shown."))
    else:
        parts.append(note("No calendar month is fully covered by the events up to the as-of date.", "skip"))
    steps = view[WORKFLOW_ABANDONMENT_CSV]
    if steps is not None and len(steps):
        parts += [note(f"Where abandoned workflow runs stop: every run started on or before {view.period.as_of} and not "
                       f"completed by then ({int(steps['abandoned_runs'].sum()):,} runs, all history; the quick wins "
                       "count the last 90 days, the journey the last 12 months)."),
                  table(steps, {"share": pct, "abandoned_runs": count},
                        names={"abandoned_runs": "abandoned runs, all history to the as-of date"})]
    return stack(*parts)


def churn_by_quadrant(view: View):
    """Churn rate per quadrant held 90 days before each decision of the look-back."""
    churn = view[QUADRANT_CHURN_CSV]
    if churn is None or churn.empty:
        return skipped(view, QUADRANT_VIEW_JSON, QUADRANT_CHURN_CSV,
                       "no renewal decisions in the look-back window: churn by quadrant cannot be shown")
    facts = view[QUADRANT_VIEW_JSON]
    lead = facts.get("quadrant_churn_lead_days", 90)
    rates = churn.set_index("quadrant")["churn_rate"]
    parts = []
    if "Champions" in rates and FRUSTRATED in rates and rates["Champions"] > 0:
        parts.append(finding(
            f"Frustrated Power Users churned at {pct(rates[FRUSTRATED])} of their renewal decisions against "
            f"{pct(rates['Champions'])} for Champions ({rates[FRUSTRATED] / rates['Champions']:.1f} times as often), "
            f"by the quadrant each account held {lead} days before deciding (decisions since {facts.get('quadrant_churn_from')})."))
    parts.append(table(churn, {"churn_rate": pct, "arr_churned": money, "decisions": count, "churned": count},
                       names={"quadrant": f"quadrant {lead} days before", "churned": "churned decisions",
                              "churn_rate": "churn rate", "arr_churned": "ARR churned"}))
    return stack(*parts)


def champion_features(view: View):
    """Features Champions use that the other scored accounts do not."""
    features = view[CHAMPION_FEATURES_CSV]
    if features is None:
        return skipped(view, QUADRANT_VIEW_JSON, CHAMPION_FEATURES_CSV,
                       "no usage events were given: which features Champions use needs usage_events")
    if nothing_scored(view):
        return not_shown("no account is scored, so there are no Champions to compare")
    flagged = features[features["flagged"] & (features["difference"] > 0)]
    parts = []
    if len(flagged):
        top = flagged.iloc[0]
        parts.append(finding(
            f"{pct(top['champions_share'])} of Champions used {top['feature']} in the last 90 days against "
            f"{pct(top['others_share'])} of other scored accounts; {len(flagged)} features separate Champions "
            "beyond chance."))
    else:
        parts.append(finding("No feature separates Champions from other accounts beyond chance."))
    shown = features.assign(interval=[f"{words.signed(100 * a)} to {words.signed(100 * b)} pts" if pd.notna(a) else "–"
                                      for a, b in zip(features["ci_lower"], features["ci_upper"])],
                            difference=100 * features["difference"])
    parts.append(table(shown[["feature", "champions_share", "others_share", "difference", "interval", "q_value", "flagged"]],
                       {"champions_share": pct, "others_share": pct, "difference": lambda v: f"{words.signed(v)} pts",
                        "q_value": p_value},
                       names={"champions_share": "Champions using it", "others_share": "others using it",
                              "difference": "difference", "interval": "95% interval", "q_value": "q value",
                              "flagged": "significant"}, max_rows=15))
    return stack(*parts)


def findings(view: View):
    """The quadrant's story in sentences."""
    if _uncovered(view):
        return _uncovered(view)
    if nothing_scored(view):
        return not_shown("no account is scored (see above)")
    quadrants = view[QUADRANTS_CSV]
    total = quadrants["arr"].sum()
    lines = []
    for name in (FRUSTRATED, "Churn Risk"):
        part = quadrants[quadrants["quadrant"] == name]
        lines.append(f"{name}: {len(part):,} active accounts holding {money(part['arr'].sum())} of ARR "
                     f"({pct(part['arr'].sum() / total if total else None)}).")
    fpu = quadrants[quadrants["quadrant"] == FRUSTRATED].sort_values("arr", ascending=False).head(3)
    if len(fpu):
        names = ", ".join((n or i) for n, i in zip(fpu["account_name"], fpu["account_id"]))
        lines.append(f"The largest Frustrated Power Users by ARR are {names}: start the fix-what-hurts reviews there.")
    return stack(*[finding(line) for line in lines])
