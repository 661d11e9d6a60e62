"""Step 3 · Churned customers."""

from __future__ import annotations


from . import View
from ..analysis.decisions import CANCELLATIONS_ONLY
from ..outputs import (CHURNED_CUSTOMERS_JSON, CHURN_LABELS_CSV, CHURN_REASONS_CSV, CHURN_SIGNALS_CSV,
    CHURN_THEMES_CSV, COX_CSV, DECISIONS_CSV, EARLY_WARNING_CSV, EARLY_WARNING_DECISIONS_CSV, EARLY_WARNING_JSON,
    SURVIVAL_CSV, SURVIVAL_JSON, SURVIVAL_TESTS_CSV)
from . import Chapter, plots
from .. import words
from ..analysis.decisions import LEADS, NOT_GIVEN, SIGNALS
from ..analysis.survival import OTHER
from .blocks import (count, figure, finding, kpis, missing, money, not_shown, note, number, p_value, pct, skipped, stack,
                     stat, table)

CHAPTER = Chapter(number=3, title="Churned customers", notebook="03_churned_customers", node="churned_customers", place=1,
                  shows=(SURVIVAL_JSON, SURVIVAL_CSV, SURVIVAL_TESTS_CSV, COX_CSV, EARLY_WARNING_JSON, EARLY_WARNING_CSV, EARLY_WARNING_DECISIONS_CSV), reads=('analysis.alpha',))


def _reason(view: View):
    facts = view[CHURNED_CUSTOMERS_JSON]
    if facts.get("reason"):
        return note(f"No churn analysis: {facts['reason']}.", "skip")
    return None


def churn_labels_agree(rows: list[dict]) -> bool:
    """Every other churn label names exactly the accounts the figures count
    as churned by the as-of date, apart from accounts that left after it
    (``left_after_as_of``: a label set later is timing, not a disagreement)."""
    figures = rows[0] if rows else {}
    return all(r["only_in_figures"] == 0 and r["only_in_label"] == r.get("left_after_as_of", 0)
               and r["also_churned_in_figures"] == figures["accounts"] for r in rows[1:])


def churn_label_sentence(rows: list[dict], as_of: str) -> str | None:
    """Which churn the figures follow, and how the export's other churn
    labels ([churn_labels]) compare as of the as-of date, with their counts;
    accounts a label names that left after the as-of date are counted as
    timing. None without labels."""
    if len(rows) < 2:
        return None
    figures, others = rows[0], rows[1:]
    agree = churn_labels_agree(rows)
    counts = "; ".join(f"'{r['label']}' names {count(r['accounts'])}" for r in others)
    follow = (f"The figures follow the renewals table (a row that took ARR to 0): "
              f"{count(figures['accounts'])} accounts by {as_of}")
    later = [f"{count(r['left_after_as_of'])} of them left after {as_of}" + ("" if len(others) == 1 else f" ('{r['label']}')")
             for r in others if r.get("left_after_as_of")]
    timing = (f" ({'; '.join(later)}: their renewals row is dated after the as-of date, so the figures count them "
              "next period; timing, not a disagreement)") if later else ""
    if agree:
        return f"The export's churn labels agree with the figures as of {as_of}: {counts}{timing}. {follow}."
    overlap = "; ".join(f"{count(r['also_churned_in_figures'])} of them carry '{r['label']}'" for r in others)
    return (f"The export's churn labels disagree on who churned by {as_of}: {counts}{timing}. {follow}, and {overlap}. "
            "Read churn counts with this in mind.")


def labels(view: View):
    """The export's other churn labels against the figures' churn."""
    agreement = view[CHURN_LABELS_CSV]
    if agreement is None:
        return note("Churn here is a renewals row that took ARR to 0. If your exports also flag churn another way "
                    "(a CRM flag, churn events), name those labels under [churn_labels] in vga.toml to compare them.")
    facts = view[CHURNED_CUSTOMERS_JSON]
    rows = agreement.to_dict("records")
    return stack(finding(churn_label_sentence(rows, facts["as_of"])),
                 table(agreement, names={"label": "churn label", "accounts": "accounts it names",
                                         "also_churned_in_figures": "also churned in the figures",
                                         "only_in_label": "churned only by this label",
                                         "only_in_figures": "churned only in the figures",
                                         "unknown_ids": "ids not among the accounts",
                                         "left_after_as_of": "churned only by this label: left after the as-of date"}))


def cancellations_sentence(facts: dict) -> str:
    """What a renewals export of cancellations only allows to say: who left
    and what they took, never a share of decisions (100% by construction)."""
    return (f"The renewals export holds cancellations only: every row with ARR before it takes ARR to 0, so it has no "
            f"renewal that went ahead, no expansion and no downgrade (an export of cancellations, or a company none of "
            f"whose customers renewed). In {_window(facts)}, "
            f"{count(facts['accounts_by_group']['churned'])} accounts cancelled, taking {money(facts['arr_lost_churned'])} "
            "of ARR; the share of customers who left is the retention cohort's logo churn, and no comparison with "
            "renewing customers can be made from this export.")


def _window(facts) -> str:
    return f"the {facts['lookback_months']} months to {facts['as_of']} (after {facts['lookback_start']})"


def headline(view: View):
    """Decisions of the look-back by outcome, and the ARR they cost."""
    if _reason(view):
        return _reason(view)
    facts = view[CHURNED_CUSTOMERS_JSON]
    by = facts["decisions_by_outcome"]
    groups = facts["accounts_by_group"]
    if facts.get("renewals_shape") == CANCELLATIONS_ONLY:
        cards = kpis([
            ("cancellations", count(by["churned"]), f"renewals rows taking ARR to 0, in {_window(facts)}"),
            ("ARR lost to churn", money(facts["arr_lost_churned"]), "ARR the churned accounts had just before leaving"),
        ])
        return stack(cards, finding(cancellations_sentence(facts)))
    cards = kpis([
        ("renewal decisions", count(facts["decisions"]), f"renewals rows with ARR before the change, in {_window(facts)}"),
        ("churned", count(by["churned"]), f"decisions to leave (ARR to 0); {pct(facts['decision_churn_rate'])} of decisions"),
        ("ARR lost to churn", money(facts["arr_lost_churned"]),
         f"ARR the churned accounts had just before leaving, over {facts['lookback_months']} months (the headline's "
         "ARR churned is the retention cohort's, over 12)"),
        ("ARR lost to downgrades", money(facts["arr_lost_downgraded"]),
         f"{count(by['downgraded'])} decisions to pay less, by {count(groups['downgraded'])} accounts"),
    ])
    sentence = finding(
        f"In {_window(facts)}, {count(groups['churned'])} accounts churned, taking {money(facts['arr_lost_churned'])} "
        f"of ARR, and {count(groups['downgraded'])} more accounts downgraded ({count(by['downgraded'])} decisions, "
        f"{money(facts['arr_lost_downgraded'])}); "
        f"{count(groups['renewed'] + groups['expanded'])} accounts renewed or expanded.")
    return stack(cards, sentence)


def reasons(view: View):
    """Churn reasons weighted by the ARR they cost, and interview themes."""
    if _reason(view):
        return not_shown()
    parts = []
    table_reasons = view[CHURN_REASONS_CSV]
    if table_reasons is not None and len(table_reasons):
        given = table_reasons[table_reasons["churn_reason"] != NOT_GIVEN]  # a blank reason is no reason
        if len(given):
            top = given.iloc[0]
            parts.append(finding(f"The costliest churn reason given is '{words.plain(top['churn_reason'])}': "
                                 f"{count(top['decisions'])} decisions and {money(top['arr_lost'])} of ARR lost "
                                 f"({pct(top['arr_share'])} of all ARR lost to churn and downgrades)."))
        else:
            parts.append(note(f"No churn reason was recorded on the {count(table_reasons['decisions'].sum())} decisions "
                              "that lost ARR (renewals.churn_reason is empty).", "skip"))
        parts.append(table(table_reasons, {"arr_lost": money, "arr_share": pct},
                           names={"churn_reason": "churn reason", "arr_lost": "ARR lost", "arr_share": "share of ARR lost"}))
    else:
        parts.append(note("No churn reasons were recorded (renewals.churn_reason is empty).", "skip"))
    themes = view[CHURN_THEMES_CSV]
    if themes is None:
        parts.append(note("No interviews table: churn interview themes cannot be shown. Export churn and win/loss "
                          "interviews with their themes (tags separated by ';').", "skip"))
    elif len(themes):
        parts.append(finding(f"In {_window(view['churned_customers.json'])}, churned accounts' interviews most often "
                             f"raise '{words.plain(themes.iloc[0]['theme'])}' ({words.plural(themes.iloc[0]['accounts'], 'account')}, "
                             f"{money(themes.iloc[0]['arr'])} of ARR lost)."))
        parts.append(table(themes, {"arr": money, "arr_share": pct},
                           names={"arr": "ARR lost by these accounts", "arr_share": "share of interviewed ARR lost"},
                           max_rows=12))
    else:
        parts.append(note("No churned account was interviewed before the as-of date.", "skip"))
    return stack(*parts)


def signals(view: View):
    """What the signals looked like 90, 60 and 30 days before, churned against retained."""
    if _reason(view):
        return not_shown()
    comparison = view[CHURN_SIGNALS_CSV]
    if comparison is None:
        return skipped(view, CHURNED_CUSTOMERS_JSON, CHURN_SIGNALS_CSV,
                       "no health, usage or ticket data before the decisions: the warning signs cannot be shown")
    shown = {s: name for s, name in SIGNALS.items() if s != "arr"
             and comparison[comparison["signal"] == s]["first_n"].sum() > 0}
    if not shown:
        return note("No health, usage or ticket value was recorded before any decision: the warning signs cannot be "
                    "shown.", "skip")
    figs = []
    for signal, name in shown.items():
        fig, ax = plots.new_figure(plots.WIDTH, 3.2)
        plots.signal_leads(comparison, ax, {signal: name})
        figs.append(fig)
    rows = comparison[comparison["signal"].isin(list(shown))].copy()
    rows["signal"] = rows["signal_name"]
    rows = rows[["lead_days", "signal", "first_n", "first_value", "second_n", "second_value", "difference", "ci_lower",
                 "ci_upper", "q_value", "flagged"]]
    return stack(
        figure(figs, [f"Line chart of mean {name} 90, 60 and 30 days before each renewal decision, for churned and "
                      "for renewed or expanded decisions" for name in shown.values()],
               "Each point is the mean over decisions, computed as of that many days before the decision with nothing "
               "dated later; the band is the 95% interval of the churned mean's difference from the retained mean."),
        table(rows, {"first_value": lambda v: number(v, 1), "second_value": lambda v: number(v, 1),
                     "difference": lambda v: number(v, 1), "ci_lower": lambda v: number(v, 1),
                     "ci_upper": lambda v: number(v, 1), "q_value": p_value},
              names={"lead_days": "days before", "first_n": "churned decisions", "first_value": "churned mean",
                     "second_n": "retained decisions", "second_value": "retained mean",
                     "difference": "difference", "ci_lower": "95% interval from", "ci_upper": "to",
                     "q_value": "q value", "flagged": "significant"}),
    )


def decisions(view: View):
    """The churned decisions, largest ARR first (every decision is in results/decisions.csv)."""
    if _reason(view):
        return not_shown()
    d = view[DECISIONS_CSV]
    churned = d[d["outcome"] == "churned"].sort_values("arr_before", ascending=False)
    if churned.empty:
        return note("No account churned in the look-back window.")
    lead = max(LEADS)
    cols = ["account_id", "decision_date", "arr_before", "churn_reason", f"quadrant_d{lead}", f"health_score_d{lead}",
            f"usage_score_d{lead}"]
    # Columns with nothing in them say nothing: no score before any decision.
    cols = [c for c in cols if not (c.endswith(f"_d{lead}") and churned[c].isna().all())]
    if churned[f"quadrant_d{lead}"].eq("Unscored").all():
        cols.remove(f"quadrant_d{lead}")
    if (churned["churn_reason"].fillna("") == "").all():
        cols.remove("churn_reason")
    return table(churned[cols], {"arr_before": money, f"health_score_d{lead}": number, f"usage_score_d{lead}": number},
                 names={"decision_date": "left on", "arr_before": "ARR lost", "churn_reason": "reason",
                        f"quadrant_d{lead}": f"quadrant {lead} days before",
                        f"health_score_d{lead}": f"health {lead} days before",
                        f"usage_score_d{lead}": f"usage {lead} days before"}, max_rows=20)


def findings(view: View):
    """The story of the step in sentences."""
    if _reason(view):
        return _reason(view)
    facts, comparison = view[CHURNED_CUSTOMERS_JSON], view[CHURN_SIGNALS_CSV]
    lines = []
    for signal in ("usage_score", "health_score", "tickets") if comparison is not None else ():
        rows = comparison[(comparison["signal"] == signal) & comparison["tested"]].sort_values("lead_days")
        if rows.empty:
            continue
        near, far = rows.iloc[0], rows.iloc[-1]
        verdict = "a clear warning" if near["flagged"] else "no reliable warning"
        lines.append(
            f"{SIGNALS[signal].capitalize()}: {near['lead_days']} days before the decision churned accounts averaged "
            f"{near['first_value']:,.1f} against {near['second_value']:,.1f} for renewed ones (difference "
            f"{words.signed(near['difference'])}, 95% interval {words.signed(near['ci_lower'])} to {words.signed(near['ci_upper'])}, "
            f"{stat('q', near['q_value'])}); {far['lead_days']} days before the gap was {words.signed(far['difference'])}: "
            f"{verdict}.")
    total = sum(facts["decisions_by_outcome"].values())
    if facts.get("renewals_shape") == CANCELLATIONS_ONLY:
        lines.insert(0, cancellations_sentence(facts))
    else:
        lines.insert(0, f"{pct(facts['decision_churn_rate'])} of the {count(total)} renewal decisions of {_window(facts)} "
                        "were decisions to leave.")
    return stack(*[finding(line) for line in lines])


def _survival_reason(view: View):
    facts = view[SURVIVAL_JSON]
    if facts.get("reason"):
        return note(f"No survival curves: {facts['reason']}.", "skip")
    return None


def _survival_at(curves, dimension, group, day):
    """S(day) of one curve of survival.csv (1 before its first event)."""
    part = curves[(curves["dimension"] == dimension) & (curves["group"] == group) & (curves["time_days"] <= day)]
    return 1.0 if part.empty else float(part["survival"].iloc[-1])


def survival(view: View):
    """How long accounts stay: Kaplan-Meier curves overall and for the
    dimension whose groups differ most, with log-rank tests."""
    if _survival_reason(view):
        return _survival_reason(view)
    facts, curves, tests = view[SURVIVAL_JSON], view[SURVIVAL_CSV], view[SURVIVAL_TESTS_CSV]
    alpha = view.settings.analysis.alpha
    lines = [f"{count(facts['subjects'])} accounts are followed from their contract start to {facts['as_of']}; "
             f"{count(facts['events'])} of them churned in that time."]
    one_year = _survival_at(curves, "all", "all", 365)
    lines.append(f"{pct(one_year)} of accounts were still customers a year after their contract started"
                 + (f"; half had left by day {count(facts['median_days'])}." if facts.get("median_days") is not None
                    else "; more than half were still customers at the longest follow-up."))
    if facts["left_out"]:
        why = facts.get("left_out_by_reason") or {}
        detail = "; ".join(f"{count(n)} {reason}" for reason, n in why.items()) or "no contract_start, or one after the as-of date"
        lines.append(f"{count(facts['left_out'])} accounts are not followed ({detail}); accounts that never paid "
                     f"cannot churn.")
    panels = ["all"]
    if tests is not None and len(tests):
        strongest = tests.sort_values("p_value").iloc[0]
        panels.append(strongest["dimension"])
        differs = strongest["p_value"] < alpha
        lines.append(f"By {strongest['dimension']}, the curves {'differ' if differs else 'do not differ clearly'} "
                     f"(log-rank test over {count(strongest['groups'])} groups, {stat('p', strongest['p_value'])}).")
    figs = []
    for dim in panels:
        test = None
        if dim != "all":
            test = tests[tests["dimension"] == dim].iloc[0].to_dict()
        groups = curves.loc[curves["dimension"] == dim, "group"].nunique()
        fig, ax = plots.new_figure(plots.WIDTH, 3.6 + 0.28 * min(groups, len(plots.CATEGORICAL)))
        plots.survival_curves(curves, facts["at_risk"], dim, ax, test=test, alpha=alpha)
        figs.append(fig)
    parts = [stack(*[finding(line) for line in lines]),
             figure(figs, ["Step chart of the share of accounts still customers by years since contract start"
                           + ("" if dim == "all" else f", by {words.dimension(dim)}")
                           + ", with 95% bands and the number of accounts at risk under each year" for dim in panels],
                    "The shaded band is the 95% interval: the range the true share most likely lies in. A curve "
                    "steps down when accounts churn; the counts under the axis are the accounts still followed.")]
    if tests is not None and len(tests):
        parts.append(table(tests.sort_values("p_value"), {"statistic": lambda v: number(v, 2), "p_value": p_value},
                           names={"groups": "groups compared", "statistic": "log-rank statistic",
                                  "p_value": "p value"}))
    return stack(*parts)


def _term_words(term: str, reference: dict, days: int, pooled: list | None = None) -> str:
    """'accounts that missed integration_connected in their first 180 days' style."""
    dim, _, value = term.partition("[")
    value = value.rstrip("]")
    if dim == "milestone_missed":
        return f"accounts that had not completed the onboarding milestone {words.plain(value)} {days} days after their contract start"
    base = reference.get(dim)
    kept = next((p["kept"] for p in pooled or [] if p["dimension"] == dim), None)
    if value == OTHER and kept:
        return (f"accounts whose {words.dimension(dim)} is not one of the {count(kept)} largest"
                + (f" (against {base})" if base else ""))
    return f"accounts with {words.dimension(dim)} {value}" + (f" (against {base})" if base else "")


def cox_grouping_sentences(facts: dict) -> list[str]:
    """What the Cox model did with a slicing dimension of many values (its
    largest groups kept, the rest pooled as ``dimension[(other)]``) and with
    groups in which no account churned (counted with the reference): one
    sentence each."""
    lines = [f"{p['dimension']} has {count(p['values'])} values: the Cox model takes its {count(p['kept'])} largest "
             f"and pools the other {count(p['pooled'])} as {p['term']}." for p in facts.get("cox_pooled") or []]
    lines += [f"{m['term']} had no churned account and is counted with the reference group"
              + (f" ({m['dimension']} {m['reference']})." if m.get("reference") else ".")
              for m in facts.get("cox_merged") or []]
    return lines


def survival_drivers(view: View):
    """What shortens the time to churn: the Cox model's hazard ratios, in words."""
    if _survival_reason(view):
        return not_shown("no survival analysis (see above)")
    facts, cox = view[SURVIVAL_JSON], view[COX_CSV]
    grouping = [finding(line) for line in cox_grouping_sentences(facts)]
    if cox is None or cox.empty:
        return stack(note(f"No Cox model: {facts.get('cox_reason') or 'nothing to fit'}.", "skip"), *grouping)
    alpha = view.settings.analysis.alpha
    q_values = facts.get("cox_q_values") or {}
    cox = cox.assign(q_value=cox["term"].map(q_values))
    lines = []
    for _, r in cox[cox["q_value"] < alpha].sort_values("hazard_ratio", ascending=False).iterrows():
        faster = r["hazard_ratio"] >= 1
        ratio = r["hazard_ratio"] if faster else 1 / r["hazard_ratio"]
        who = _term_words(r["term"], facts["cox_reference"], facts["onboarding_days"], facts.get("cox_pooled"))
        lines.append(f"{who[0].upper() + who[1:]} "
                     f"churn {number(ratio, 2)} times as {'fast' if faster else 'slowly'} at any moment "
                     f"(hazard ratio {number(r['hazard_ratio'], 2)}, 95% interval {number(r['ci_lower'], 2)} to "
                     f"{number(r['ci_upper'], 2)}, {stat('q', r['q_value'])}).")
    if not lines:
        lines.append(f"No term of the model changes the pace of churn clearly after adjusting for the "
                     f"{count(len(cox))} terms tested.")
    checks = facts.get("proportional_hazards") or []
    broken = [c["term"] for c in checks if not c["holds"]]
    if checks and not broken:
        lines.append("The model assumes each effect is the same early and late in an account's life; "
                     f"the data agree for all {count(len(checks))} terms checked.")
    elif broken:
        lines.append("The model assumes each effect is the same early and late in an account's life; for "
                     + ", ".join(f"'{words.term(t)}'" for t in broken) + " the data say the effect changes with time, so read "
                     "its ratio as an average over the years.")
    named = cox.assign(term=cox["term"].map(_chart_term))
    fig, ax = plots.new_figure(plots.WIDTH, plots.rows_height(named["term"]))
    plots.hazard_ratios(named, ax, alpha)
    cox = cox.drop(columns=["subjects", "events"])
    return stack(stack(*[finding(line) for line in lines], *grouping),
                 figure(fig, "Dot plot of each term's hazard ratio with its 95% interval on a log scale; "
                             "terms whose interval excludes 1 after adjustment are dark",
                        f"Cox proportional hazards model of time to churn ({count(facts['subjects'])} accounts, "
                        f"{count(facts['events'])} churned). Above 1: churn comes sooner. \"Missed\": an onboarding milestone "
                        f"not completed in the account's first {facts['onboarding_days']} days."),
                 table(cox, {"hazard_ratio": lambda v: number(v, 2), "ci_lower": lambda v: number(v, 2),
                             "ci_upper": lambda v: number(v, 2), "p_value": p_value, "q_value": p_value},
                       names={"hazard_ratio": "hazard ratio", "ci_lower": "95% interval from", "ci_upper": "to",
                              "p_value": "p value", "q_value": "q value"}))


def _chart_term(code: str) -> str:
    """A Cox term in words, short enough for a chart's row: "region LATAM",
    "missed onboarding milestone integration connected"."""
    name, _, value = str(code).partition("[")
    if name == "milestone_missed":
        return f"missed {words.plain(value.rstrip(']'))}"
    return words.term(code)


def _days(value, span: int = 180) -> str:
    """A lead in days; the span's full length reads 'or more' (the signal
    already held on the first day checked)."""
    if missing(value):
        return "–"
    return f"{words.plural(value, 'day')} or more" if value >= span else words.plural(value, "day")


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def warning_sentence(r) -> str:
    """One signal's backtest in a sentence, with its n."""
    if missing(r["recall"]):
        return f"{_upper_first(r['signal_name'])}: not checked, its data was not given."
    text = (f"{_upper_first(r['signal_name'])} warned about {count(r['fired_before_churn'])} of "
            f"{count(r['churned_decisions'])} churn decisions ({pct(r['recall'])})")
    if r["fired_before_churn"]:
        text += (f", a median of {_days(r['lead_days_median'])} ahead (from {_days(r['lead_days_min'])} to "
                 f"{_days(r['lead_days_max'])})")
    text += (f", and fired before {count(r['fired_before_retained'])} of {count(r['retained_decisions'])} "
             f"renewals ({pct(r['false_alarm_rate'])} false alarms)")
    if not r["tested"]:
        return text + "; too few decisions to test whether it tells them apart."
    verdict = "it tells churn from renewal" if r["flagged"] else "it does not tell churn from renewal reliably"
    return text + f"; {verdict} ({stat('q', r['q_value'])})."


def health_score_verdict(r, threshold: float) -> str:
    """Whether the CS team's own health score would have warned us, and when."""
    if missing(r["recall"]):
        return "No health score history was given, so whether it would have warned us cannot be checked."
    head = (f"Would the health score have warned us? A score below {number(threshold)} flagged "
            f"{pct(r['recall'])} of the accounts that later churned")
    if r["fired_before_churn"]:
        head += f", a median of {_days(r['lead_days_median'])} before they left"
    head += f", but also {pct(r['false_alarm_rate'])} of the renewals"
    if not r["tested"]:
        return head + "; too few decisions to judge it."
    if r["flagged"]:
        lift = r["recall"] / r["false_alarm_rate"] if r["false_alarm_rate"] else float("inf")
        return head + (f": it is worth watching, flagging churners {number(lift, 1)} times as often as renewals "
                       f"({stat('q', r['q_value'])}).")
    return head + f": it does not separate them reliably ({stat('q', r['q_value'])}), so do not rely on it alone."


def early_warnings(view: View):
    """Each signal backtested over the look-back: who it warned about, how
    early, how often it cried wolf; the health score judged the same way."""
    if _reason(view):
        return not_shown()
    facts, warnings = view[EARLY_WARNING_JSON], view[EARLY_WARNING_CSV]
    if warnings is None or warnings.empty:
        return note(f"No early-warning backtest: {facts.get('reason') or 'no decisions to test on'}.", "skip")
    per_decision = view[EARLY_WARNING_DECISIONS_CSV]
    checked = warnings[warnings["recall"].notna()]
    unchecked = warnings[warnings["recall"].isna() & (warnings["signal"] != "health_below_threshold")]
    lines = [warning_sentence(r) for _, r in checked.iterrows() if r["signal"] != "health_below_threshold"]
    if len(unchecked):
        lines.append("Not checked, their data was not given: " + ", ".join(unchecked["signal_name"]) + ".")
    score = warnings[warnings["signal"] == "health_below_threshold"].iloc[0]
    parts = [finding(health_score_verdict(score, facts["health_threshold"]))]
    parts += [finding(line) for line in lines]
    if len(checked):
        fig, ax = plots.new_figure(plots.WIDTH, 0.6 * len(checked) + 1.9)
        plots.warning_rates(checked, ax)
        fig2, ax2 = plots.new_figure(plots.WIDTH, 0.5 * len(checked) + 1.6)
        plots.warning_leads(per_decision, dict(zip(checked["signal"], checked["signal_name"])), ax2)
        parts.append(figure([fig, fig2], ["Paired bars of the share of churned and of retained decisions each signal "
                                          "fired for, with 95% intervals",
                                          "Box plots of how many days ahead of a churn decision each signal warned"],
                            "Each signal checked on every day of the 180 before a decision, with nothing dated "
                            "later. Bars: in colour, churn decisions it warned about; grey, renewals it fired for. "
                            "Boxes: days from its first firing to the churn decision."))
    shown = checked[["signal_name", "churned_decisions", "fired_before_churn", "recall", "lead_days_median",
                      "lead_days_min", "lead_days_max", "retained_decisions", "fired_before_retained",
                      "false_alarm_rate", "q_value", "flagged"]]
    parts.append(table(shown, {"recall": pct, "false_alarm_rate": pct, "q_value": p_value,
                               "lead_days_median": number, "lead_days_min": number, "lead_days_max": number},
                       names={"signal_name": "signal", "churned_decisions": "churn decisions",
                              "fired_before_churn": "warned", "recall": "share warned",
                              "lead_days_median": "median days ahead", "lead_days_min": "fewest",
                              "lead_days_max": "most", "retained_decisions": "renewals",
                              "fired_before_retained": "false alarms", "false_alarm_rate": "false-alarm share",
                              "q_value": "q value", "flagged": "tells them apart"}))
    parts.append(note("How each signal is defined: " + "; ".join(
        f"{r['signal_name']}: {r['definition']}" for _, r in warnings.iterrows()) + "."))
    return stack(*parts)
