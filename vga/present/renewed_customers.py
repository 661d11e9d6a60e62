"""Step 4 · Renewed and expanded customers."""

from __future__ import annotations

import pandas as pd

from . import View
from ..outputs import (ADOPTION_BY_OUTCOME_CSV, BEHAVIOURS_CSV, MODEL_TERMS_CSV, MODEL_VALIDATION_JSON,
    RENEWAL_MODEL_JSON, RENEWAL_SCORES_CSV, RENEWED_CUSTOMERS_JSON)
from . import Chapter, plots
from .. import words
from .blocks import count, figure, finding, note, number, p_value, pct, stack, stat, table

CHAPTER = Chapter(number=4, title="Renewed and expanded customers", notebook="04_renewed_customers", node="renewed_customers", place=5,
                  shows=(RENEWAL_MODEL_JSON, MODEL_VALIDATION_JSON, MODEL_TERMS_CSV, RENEWAL_SCORES_CSV), reads=('analysis.alpha', 'analysis.min_accounts'))

COMPARISONS = {
    "retained vs churned": "renewed or expanded decisions against churned ones",
    "expanded vs renewed": "expanded decisions against those renewed flat",
}


def measure_name(measure: str) -> str:
    """A behaviour column in words (:func:`vga.words.measure`)."""
    return words.measure(measure)


def _value(kind, v):
    return pct(v) if kind == "share" else number(v, 1)


def _reason(view: View):
    facts = view[RENEWED_CUSTOMERS_JSON]
    if facts.get("reason") or view[BEHAVIOURS_CSV] is None:
        why = facts.get("reason") or "no behaviour data (usage events, onboarding, training or tickets) was given"
        return note(f"No comparison of renewed and churned customers: {why}.", "skip")
    return None


def missing_inputs(view: View):
    """Which behaviour tables were not given, and what they would add."""
    tables = view[RENEWED_CUSTOMERS_JSON]["tables"]
    adds = {"usage_events": "features used and core adoption", "onboarding": "onboarding milestones",
            "training": "training completed", "support_tickets": "support load"}
    absent = [f"{t} ({adds[t]})" for t, given in tables.items() if not given]
    if absent:
        return note("Not compared, because the table was not given: " + "; ".join(absent) + ".", "skip")
    return None


def comparison(view: View, which: str = "retained vs churned"):
    table_all = view[BEHAVIOURS_CSV]
    if _reason(view):
        return _reason(view)
    rows = table_all[table_all["comparison"] == which].copy()
    why = (view[RENEWED_CUSTOMERS_JSON].get("reasons") or {}).get(which)
    if rows.empty or why:
        return note(f"No comparison of {which.replace(' vs ', ' against ')} decisions: "
                    f"{why or 'no behaviour was measured for both groups'}.", "skip")
    rows["behaviour"] = rows["measure"].map(measure_name)
    rows = rows.sort_values(["flagged", "q_value"], ascending=[False, True])
    shown = rows[rows["tested"]]
    parts = []
    if len(shown):
        shares = shown[shown["kind"] == "share"]
        if len(shares):
            fig, ax = plots.new_figure(plots.WIDTH, plots.rows_height(shares["behaviour"], base=2.0))
            plots.comparison_bars(shares.assign(difference=100 * shares["difference"], ci_lower=100 * shares["ci_lower"],
                                                ci_upper=100 * shares["ci_upper"]),
                                  shares["behaviour"], ax, "difference in percentage points (95% interval)",
                                  comparison_message(shares, which))
            parts.append(figure(fig, f"Bar chart of the difference in the share of decisions showing each behaviour, "
                                     f"{COMPARISONS[which]}, with 95% intervals",
                                f"Blue bars: significant (q value below {view.settings.analysis.alpha:g}); grey: not "
                                "distinguishable from noise."))
    # Core adoption is a mean of shares: shown as a percentage, like the shares.
    kinds = rows["kind"].where(rows["measure"] != "core_adoption", "share")
    formatted = rows.assign(**difference_cells(rows, kinds))
    first, second = which.split(" vs ")
    parts.append(table(formatted[["behaviour", "first_n", "first_value", "second_n", "second_value", "difference",
                                  "interval", "q_value", "flagged"]], {"q_value": p_value},
                       names={"first_n": f"{first} decisions", "first_value": first, "second_n": f"{second} decisions",
                              "second_value": second, "interval": "95% interval", "q_value": "q value",
                              "flagged": "significant"}))
    return stack(*parts)


#: Who is compared, in words: (first group, second group).
GROUP_WORDS = {"retained vs churned": ("renewed or expanded", "churned"),
               "expanded vs renewed": ("expanded", "renewed flat")}


def comparison_message(shares: pd.DataFrame, which: str) -> str:
    """The behaviour comparison's message: the significant behaviour whose
    share differs most between the two groups, or that none differs."""
    first, second = GROUP_WORDS.get(which, tuple(which.split(" vs ")))
    flagged = shares[shares["flagged"].astype(bool)]
    if flagged.empty:
        return f"No behaviour's share differs clearly between {first} and {second} decisions"
    r = flagged.loc[flagged["difference"].abs().idxmax()]
    gap = round(100 * float(r["difference"]), 1) + 0.0
    more = "more" if gap > 0 else "less"
    return (f"{_upper_first(r['behaviour'])} is {abs(gap):.1f} points {more} common among {first} decisions than "
            f"{second} ones ({pct(r['first_value'])} against {pct(r['second_value'])})")


def _upper_first(text: str) -> str:
    return str(text)[:1].upper() + str(text)[1:]


def difference_cells(rows: pd.DataFrame, kinds: pd.Series) -> dict[str, list[str]]:
    """The table's value, difference and interval cells, each in the unit of
    its row's kind: shares (and core adoption, a mean of shares) in
    percentages and points, means as they are. The difference and its
    interval always share one unit (a fraction printed beside points read
    "+8.1 pts, 95% interval 0.0 to +0.1")."""
    return {
        "first_value": [_value(k, v) for k, v in zip(kinds, rows["first_value"])],
        "second_value": [_value(k, v) for k, v in zip(kinds, rows["second_value"])],
        "difference": [(f"{words.signed(100 * v)} pts" if k == "share" else words.signed(v)) if pd.notna(v) else "–"
                       for k, v in zip(kinds, rows["difference"])],
        "interval": [("–" if pd.isna(lo) else (f"{words.signed(100 * lo)} to {words.signed(100 * hi)} pts"
                                               if k == "share" else f"{words.signed(lo)} to {words.signed(hi)}"))
                     for k, lo, hi in zip(kinds, rows["ci_lower"], rows["ci_upper"])],
    }


def expansion(view: View):
    return comparison(view, "expanded vs renewed")


def findings(view: View):
    if _reason(view):
        return _reason(view)
    rows = view[BEHAVIOURS_CSV]
    lines = []
    reasons = view[RENEWED_CUSTOMERS_JSON].get("reasons") or {}
    for which in COMPARISONS:
        flagged = rows[(rows["comparison"] == which) & rows["flagged"]].sort_values("q_value")
        first, second = which.split(" vs ")
        if which in reasons:
            lines.append(f"{first.capitalize()} and {second} decisions are not compared: {reasons[which]}.")
            continue
        if flagged.empty:
            lines.append(f"No behaviour separates {first} from {second} decisions beyond chance.")
            continue
        # The strongest of each kind: features, onboarding milestones, the rest.
        kinds = flagged["measure"].str.extract(r"^(uses_|milestone_)?")[0].fillna("other")
        picked = flagged.groupby(kinds.to_numpy(), sort=False).head(2)
        for _, r in picked.iterrows():
            if r["kind"] == "share":
                lines.append(f"{measure_name(r['measure']).capitalize()}: {pct(r['first_value'])} of {first} decisions "
                             f"against {pct(r['second_value'])} of {second} ones ({words.signed(100 * r['difference'])} points, "
                             f"95% interval {words.signed(100 * r['ci_lower'])} to {words.signed(100 * r['ci_upper'])}, "
                             f"{stat('q', r['q_value'])}).")
            elif r["measure"] == "core_adoption":  # a mean of shares: in percent
                lines.append(f"{measure_name(r['measure']).capitalize()}: {pct(r['first_value'])} for {first} decisions "
                             f"against {pct(r['second_value'])} for {second} ones ({words.signed(100 * r['difference'])} "
                             f"points, 95% interval {words.signed(100 * r['ci_lower'])} to {words.signed(100 * r['ci_upper'])}, "
                             f"{stat('q', r['q_value'])}).")
            else:
                lines.append(f"{measure_name(r['measure']).capitalize()}: {r['first_value']:,.1f} for {first} decisions "
                             f"against {r['second_value']:,.1f} for {second} ones (difference {words.signed(r['difference'])}, "
                             f"95% interval {words.signed(r['ci_lower'])} to {words.signed(r['ci_upper'])}, "
                             f"{stat('q', r['q_value'])}).")
    lead = view[RENEWED_CUSTOMERS_JSON]["lead_days"]
    lines.append(f"Each behaviour is measured {lead} days before the decision with nothing dated later; these are "
                 "associations, not proof of cause.")
    return stack(*[finding(line) for line in lines])


def _ratio_words(r) -> str:
    return (f"odds ratio {number(r['odds_ratio'], 2)}, 95% interval {number(r['ci_lower'], 2)} to "
            f"{number(r['ci_upper'], 2)}, {stat('q', r['q_value'])}")


def _model_reason(view: View, model: str):
    facts = view[RENEWAL_MODEL_JSON]
    reason = facts.get("reason") or facts[model].get("reason")
    return note(f"No {model} model: {reason}.", "skip") if reason else None


def validation_sentence(v: dict) -> str:
    """How the renewal model did on decisions it had not seen, in words."""
    if v.get("auc") is None:
        return f"The renewal model could not be checked on newer decisions: {v.get('reason')}."
    skill = v["brier"] < v["brier_base_rate"]
    ranks = "ranks accounts well" if v["auc"] >= 0.75 else "ranks accounts better than chance" if v["auc"] > 0.55 \
        else "ranks accounts no better than chance"
    return (f"Fitted on the {count(v['n_train'])} decisions up to {v['cutoff_date']} and tried on the "
            f"{count(v['n_test'])} after it ({count(v['events_test'])} churned), the model {ranks} (AUC "
            f"{number(v['auc'], 2)}: the chance that a renewing account scores above a churning one). Its "
            f"probabilities are {'more' if skill else 'no more'} accurate than always predicting the past renewal "
            f"rate (average squared miss, the Brier score, {number(v['brier'], 3)} against {number(v['brier_base_rate'], 3)}; lower is better)"
            + ("." if skill else ": use it to rank accounts, not to forecast how many will renew."))


def renewal_model(view: View):
    """What predicts renewal and expansion: odds ratios, then how the renewal
    model did on newer decisions (out of time), with its calibration."""
    if _model_reason(view, "renewal") and _model_reason(view, "expansion"):
        return stack(_model_reason(view, "renewal"), _model_reason(view, "expansion"))
    terms, v = view[MODEL_TERMS_CSV], view[MODEL_VALIDATION_JSON]
    alpha = view.settings.analysis.alpha
    parts, lines = [], []
    for model, verb in (("renewal", "renew"), ("expansion", "expand")):
        rows = terms[terms["model"] == model] if terms is not None else pd.DataFrame()
        if rows.empty:
            parts.append(_model_reason(view, model))
            continue
        strong = rows[rows["flagged"]].sort_values("q_value")
        for _, r in strong.head(4).iterrows():
            more = r["odds_ratio"] >= 1
            lines.append(f"{model.capitalize()}: {r['term_name']} goes with {'higher' if more else 'lower'} odds to "
                         f"{verb} ({_ratio_words(r)}; {count(r['n'])} decisions).")
        if strong.empty:
            lines.append(f"{model.capitalize()}: no term changes the odds to {verb} clearly "
                         f"({count(rows['n'].iloc[0])} decisions, {count(rows['events'].iloc[0])} "
                         f"{'churned' if model == 'renewal' else 'expanded'}).")
    parts.insert(0, stack(*[finding(line) for line in lines]))
    if terms is not None and len(terms):
        named = terms.assign(term_name=terms["model"] + ": "
                             + terms["term_name"].str.replace(" (yes against no)", "", regex=False))
        fig, ax = plots.new_figure(plots.WIDTH, plots.rows_height(named["term_name"], base=2.2))
        plots.odds_ratios(named, ax, alpha)
        parts.append(figure(fig, "Dot plot of each model term's odds ratio with its 95% interval on a log scale",
                            "Logistic models on the features 90 days before each decision. Renewal: odds of not "
                            "churning; expansion: odds of expanding rather than renewing flat. A feature's term compares "
                            f"accounts that use it with those that do not. Blue: q value below {alpha:g}."))
        parts.append(table(terms.drop(columns=["term"]), {"odds_ratio": lambda x: number(x, 2),
                                                           "ci_lower": lambda x: number(x, 2),
                                                           "ci_upper": lambda x: number(x, 2),
                                                           "p_value": p_value, "q_value": p_value},
                           names={"term_name": "term", "odds_ratio": "odds ratio", "ci_lower": "95% interval from",
                                  "ci_upper": "to", "p_value": "p value", "q_value": "q value",
                                  "flagged": "significant", "n": "decisions", "events": "churned or expanded"}))
    parts.append(finding(validation_sentence(v)))
    if v.get("calibration"):
        fig, ax = plots.new_figure(plots.WIDTH, 4.0)
        plots.calibration_plot(v["calibration"], ax)
        parts.append(figure(fig, "Calibration plot: predicted renewal probability against the share that renewed, "
                                 "per band of decisions after the cut-off",
                            f"Out-of-time check: fitted on decisions up to {v['cutoff_date']}, scored on the "
                            f"{count(v['n_test'])} later ones. On the dashed line, predictions match what happened."))
    return stack(*parts)


def renewal_scores(view: View, rows: int = 15):
    """The active accounts least likely to renew, with what lowers their odds."""
    scores = view[RENEWAL_SCORES_CSV]
    if scores is None or scores["renewal_probability"].isna().all():
        not_scored = view[RENEWAL_MODEL_JSON]["renewal"].get("not_scored")
        return _model_reason(view, "renewal") or note(
            f"No account is scored: {not_scored or 'no renewal model could be fitted'}.", "skip")
    shown = scores.dropna(subset=["renewal_probability"]).head(rows)
    shown = shown[["account_id", "account_name", "next_decision_date", "renewal_probability", "top_drivers",
                   "expansion_probability"]]
    if (shown["account_name"] == "").all():
        shown = shown.drop(columns="account_name")
    return stack(
        finding(f"Of {count(len(scores))} active accounts, {count((scores['renewal_probability'] < 0.5).sum())} "
                "are more likely to leave than to stay at their next decision, by the model; the least likely "
                f"({pct(shown['renewal_probability'].iloc[0])} to "
                f"{pct(shown['renewal_probability'].iloc[-1])}) are below, with what lowers their odds most. "
                "Every account is in results/renewal_scores.csv."),
        table(shown, {"renewal_probability": pct, "expansion_probability": pct},
              names={"account_id": "account id", "account_name": "account", "next_decision_date": "next renewal", "renewal_probability": "chance to renew",
                     "top_drivers": "what lowers it most", "expansion_probability": "chance to expand"}))


def adoption(view: View):
    """Core-feature adoption 90, 60 and 30 days before the decision, by outcome."""
    data = view[ADOPTION_BY_OUTCOME_CSV]
    if data is None or data.empty:
        core = view[RENEWED_CUSTOMERS_JSON].get("core_features")
        why = ("no core features are named in the configuration" if not core
               else "no usage events were given")
        return note(f"No adoption by outcome: {why}.", "skip")
    core = data[data["measure"] == "core_adoption"]
    lines = []
    for lead in (90, 30):
        at = core[core["lead_days"] == lead].set_index("outcome")
        if {"renewed", "churned"} <= set(at.index) and at.loc[["renewed", "churned"], "value"].notna().all():
            lines.append(f"{lead} days before the decision, accounts that renewed used "
                         f"{pct(at.at['renewed', 'value'])} of the core features (n = {count(at.at['renewed', 'decisions'])}), "
                         f"accounts that churned {pct(at.at['churned', 'value'])} (n = {count(at.at['churned', 'decisions'])}).")
    small = core[core["small"]]
    if len(small):
        lines.append("Groups of fewer than " + f"{count(view.settings.analysis.min_accounts)} decisions are shown "
                     "with their n and no interval: " + ", ".join(sorted(set(small["outcome"]))) + ".")
    fig, ax = plots.new_figure(plots.WIDTH, 3.6)
    plots.adoption_lines(data, ax)
    wide = core.pivot(index="outcome", columns="lead_days", values="value").reindex(
        [o for o in ("renewed", "expanded", "downgraded", "churned") if o in set(core["outcome"])])
    counts = core.pivot(index="outcome", columns="lead_days", values="decisions").reindex(wide.index)
    shown = pd.DataFrame({"outcome": wide.index,
                          **{f"{lead} days before": [f"{pct(v)} (n = {count(n)})" for v, n in
                                                     zip(wide[lead], counts[lead])]
                             for lead in sorted(wide.columns, reverse=True)}})
    return stack(stack(*[finding(line) for line in lines]),
                 figure(fig, "Line chart of the mean share of core features used 90, 60 and 30 days before the "
                             "renewal decision, one line per outcome, with 95% intervals",
                        "Core features: those named in the configuration; each point uses the 90 days to that day, with nothing "
                        "dated later."),
                 table(shown))
