"""Executive summary: the headline figures, first in the report."""

from __future__ import annotations

import pandas as pd

from .. import plots
from .blocks import bullets, count, figure, finding, kpis, money, note, pct, stack, table
from .churned_customers import churn_label_sentence, churn_labels_agree, health_score_verdict, warning_sentence
from .quadrant_view import QUADRANT_TEXT


def warnings(view):
    """What the reader must know before any number: coverage and freshness."""
    summary = view["summary.json"]
    return stack(*[note(w, "warn") for w in summary["warnings"]])


def _change(now, before, kind: str = "pct") -> str:
    """'was 85.1%' style text for a KPI card; empty when either is unknown."""
    if now is None or before is None:
        return ""
    if kind == "pct":
        points = round(100 * (now - before), 1) + 0.0  # + 0.0: never "-0.0"
        return f" (was {pct(before)}, {points:+.1f} pts)"
    return f" (was {money(before)})"


def story(view):
    """The period in sentences, before any table: what changed, where value
    leaks and how much ARR it puts at stake, what to do first."""
    s = view["summary.json"]
    before = s.get("previous") or {}
    lines = []
    if s["nrr"] is not None:
        text = f"Net revenue retention is {pct(s['nrr'])} and gross revenue retention {pct(s['grr'])} over the 12 months to {s['as_of']}"
        if before.get("nrr") is not None:
            text += f" (NRR {pct(before['nrr'])} → {pct(s['nrr'])} since {before['period']})"
        lines.append(text + f"; {pct(s['logo_churn_rate'])} of the {count(s['cohort_accounts'])} accounts paying on "
                            f"{s['window_start']} (the retention cohort) had left by {s['as_of']}.")
    gaps = s.get("value_gaps") or []
    if gaps:
        share = gaps[0]["arr_at_stake"] / s["arr_total"] if s.get("arr_total") else None
        lines.append(f"The largest value gap is {gaps[0]['gap']}: accounts holding {money(gaps[0]['arr_at_stake'])} of "
                     f"the {money(s['arr_total'])} ARR ({pct(share)}) are exposed to it; {len(gaps)} gaps are ranked below.")
    quadrants = s["quadrants"]
    fpu = quadrants.get("Frustrated Power Users", {})
    if fpu.get("accounts"):
        lines.append(f"{count(fpu['accounts'])} accounts use the product heavily yet are unhappy (Frustrated Power Users), "
                     f"holding {money(fpu['arr'])} of ARR.")
    wins = s.get("top_quick_wins") or []
    if wins:
        w = wins[0]
        lines.append(f"Do first: {w['action'].rstrip('.')} ({w['gap']}; owner {w['owner']}; {money(w['arr_at_stake'])} at stake).")
    if not churn_labels_agree(s.get("churn_labels") or []):
        lines.append(churn_label_sentence(s["churn_labels"], s["as_of"]))
    warned = s.get("early_warning") or {}
    if warned.get("health_score") and warned["health_score"].get("recall") is not None:
        lines.append(health_score_verdict(warned["health_score"], s.get("health_threshold", 50.0)))
    if warned.get("best_signal"):
        lines.append("The clearest early warning: " + warning_sentence(warned["best_signal"]))
    if not lines:
        return note("The data does not allow a summary for this period; see the warnings above.", "warn")
    return stack(*[finding(line) for line in lines])


def headline(view):
    s = view["summary.json"]
    b = s.get("previous") or {}
    since = f" since {b.get('period')}" if b.get("nrr") is not None else ""
    cards = kpis([
        ("Net revenue retention", pct(s["nrr"]), "ARR of last year's customers today / their ARR a year ago"
         + _change(s["nrr"], b.get("nrr"))),
        ("Gross revenue retention", pct(s["grr"]), "the same, counting no growth: losses only" + _change(s["grr"], b.get("grr"))),
        ("Logo churn", pct(s["logo_churn_rate"]), f"of {count(s['cohort_accounts'])} accounts a year ago, share gone"
         + _change(s["logo_churn_rate"], b.get("logo_churn_rate"))),
        ("ARR churned", money(s["arr_churned"]), "ARR a year ago of accounts that left" + _change(s["arr_churned"], b.get("arr_churned"), "money")),
        ("ARR contracted", money(s["arr_contracted"]), "lost by accounts that shrank" + _change(s["arr_contracted"], b.get("arr_contracted"), "money")),
        ("ARR expanded", money(s["arr_expanded"]), "gained from accounts that grew" + _change(s["arr_expanded"], b.get("arr_expanded"), "money")),
    ])
    if since:
        cards = stack(cards, note(f"Changes are against the same figures as of {b['as_of']} ({b['period']}), from the same data."))
    reasons = [note(f"Retention figures are not shown: {r}.", "warn") for k, r in s["null_reasons"].items()
               if k == "retention"]
    return stack(cards, *reasons)


def quadrants(view):
    """Active accounts by quadrant, with the ARR each holds."""
    s = view["summary.json"]
    if "quadrants" in s["null_reasons"]:
        return note(f"The quadrant is not shown: {s['null_reasons']['quadrants']}.", "warn")
    before = (s.get("previous") or {}).get("quadrants") or {}
    scored_before = any((before.get(k) or {}).get("accounts") for k in before if k != "Unscored")
    rows = [{"quadrant": k, "accounts": v["accounts"], "ARR": v["arr"],
             f"accounts at {s['previous_period']}": (before.get(k) or {}).get("accounts"),
             f"ARR at {s['previous_period']}": (before.get(k) or {}).get("arr"), "what it means": QUADRANT_TEXT[k]}
            for k, v in s["quadrants"].items()]
    if not scored_before:  # no account scored then: no column of dashes or of Unscored only
        rows = [{k: v for k, v in r.items() if not k.startswith(("accounts at", "ARR at"))} for r in rows]
    fig, ax = plots.new_figure(7, 3)
    plots.quadrant_arr_bars(view["quadrants.csv"], ax=ax)
    return stack(table(pd.DataFrame(rows), {"ARR": money, "accounts": count, f"accounts at {s['previous_period']}": count,
                                            f"ARR at {s['previous_period']}": money}),
                 figure(fig, "Bar chart of ARR per quadrant with account counts", "ARR at the as-of date, per quadrant."))


def lost_where(view):
    """Flagged slices, as sentences."""
    slices = view["slices.csv"]
    if slices is None:
        return note("Churn by slice cannot be computed without renewals covering the period.", "skip")
    flagged = slices[slices["flagged"]].sort_values("q_value")
    lines = [f"{r.dimension} = {r.value}: churn {pct(r.churn_rate)} vs {pct(r.rest_churn_rate)} for the rest "
             f"({r.accounts:,} accounts)" for r in flagged.itertuples()]
    return bullets(lines) if lines else note("No slice differs from the rest after adjustment.")


def trust(view):
    """What went in and what was set aside."""
    quality = view["summary.json"]["data_quality"]
    read = sum(q["rows_read"] for q in quality.values())
    held = sum(q["rows_quarantined"] for q in quality.values())
    blank = sum(q["cells_blanked"] for q in quality.values())
    return note(f"{len(quality)} tables, {read:,} rows read; {held:,} rows quarantined and {blank:,} cells blanked, "
                "each with its reason in the run's quarantine folder.")


def populations(view):
    """The run's three churn counts side by side, so that each number is read
    with its population and window (:mod:`vga.populations`)."""
    frame = view["churn_populations.csv"]
    if frame is None or frame.empty:
        return note("No churn can be counted for this period (see the notes above).", "skip")
    lines = [f"{r.population.capitalize()} ({r.window}): {count(r.churned)} of {count(r.counted)} {r.unit} churned "
             f"({pct(r.churn_share)})." for r in frame.itertuples()]
    shown = frame.assign(left_out=frame["left_out"].replace("", "none"))
    return stack(bullets(lines),
                 table(shown[["population", "window", "counted", "unit", "churned", "churn_share", "left_out", "used_for"]],
                       {"counted": count, "churned": count, "churn_share": pct},
                       names={"churn_share": "share churned", "left_out": "not counted here",
                              "used_for": "the figures that use it"}))


CONFIDENCE = {"high": "high (q < 0.01)", "medium": "medium (q < 0.05)", "low": "low (not significant)",
              "descriptive": "a count, not a test"}


def value_gaps(view):
    """Where value leaks, ranked by ARR at stake, with evidence and confidence."""
    gaps = view["summary.json"].get("value_gaps") or []
    if not gaps:
        return note("No value gap can be ranked for this period.", "skip")
    frame = pd.DataFrame(gaps)
    frame["confidence"] = frame["confidence"].map(CONFIDENCE)
    return table(frame[["gap", "arr_at_stake", "evidence", "confidence"]], {"arr_at_stake": money},
                 names={"arr_at_stake": "ARR at stake"})


def quick_wins(view):
    """The first actions, with their owners."""
    wins = view["summary.json"].get("top_quick_wins") or []
    if not wins:
        return note("No quick win for this period.", "skip")
    frame = pd.DataFrame(wins)
    frame["account"] = frame["account_id"].replace("", "(many accounts)")
    return table(frame[["rank", "gap", "action", "owner", "account", "arr_at_stake"]], {"arr_at_stake": money},
                 names={"arr_at_stake": "ARR at stake"})


def caveats(view):
    """Assumptions and caveats: missing or stale sources, small samples, what was assumed."""
    s = view["summary.json"]
    lines = [f"Assumed by the data's mapping: {a}" for a in s.get("assumptions") or []]
    lines += list(s.get("warnings") or [])
    labels = churn_label_sentence(s.get("churn_labels") or [], s["as_of"])
    if labels:
        lines.append(labels)
    missing = [t for t in ("renewals", "usage_events", "health_scores", "support_tickets", "surveys", "onboarding",
                           "interviews", "interventions") if t not in s["data_quality"]]
    if missing:
        lines.append("Not given, so the analyses that need them are skipped or use fallbacks: " + ", ".join(missing) + ".")
    if s.get("untested_slices"):
        n = s["untested_slices"]
        lines.append(f"{count(n)} slice{' has' if n == 1 else 's have'} fewer accounts than the minimum and "
                     f"{'is' if n == 1 else 'are'} listed, not tested.")
    for key, reason in (s.get("null_reasons") or {}).items():
        lines.append(f"{key.capitalize()} figures are null: {reason}.")
    look = s.get("lookback") or {}
    if look.get("lookback_months"):
        lines.append(f"Churned and renewed customers are studied over the {look['lookback_months']} months after "
                     f"{look['lookback_start']}; every signal is computed as of a date before each decision, with nothing dated later.")
    lines.append("Retention figures compare each cohort account's ARR a year ago with its ARR on the as-of date; "
                 "differences between groups are associations, not proof of cause.")
    if s.get("currency"):
        lines.append(f"Amounts are in {s['currency']}.")
    else:
        lines.append("Amounts are in the data's one currency (set [report] currency in vga.toml to show its code).")
    return bullets(lines)
