"""Step 10 · The customer journey: from onboarding to renewal, where
accounts drop off and where they meet friction."""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib.patches import FancyBboxPatch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from . import View
from ..outputs import JOURNEY_MAP_JSON, JOURNEY_STAGES_CSV, MILESTONES_CSV
from . import Chapter, plots
from .. import words
from .blocks import not_shown, stat, count, figure, finding, missing, money, note, number, p_value, pct, stack, table

CHAPTER = Chapter(number=10, title="The customer journey", notebook="10_journey_map", node="journey_map", place=6, reads=('analysis.churn_lookback_months', 'analysis.alpha', 'analysis.min_accounts'))

SEVERITY_EDGE = plots.SEVERITY_COLORS
SEVERITY_FILL = {k: plots.tint(c, 0.18) for k, c in SEVERITY_EDGE.items()}
SEVERITY_WORDS = {"high": "high friction", "medium": "some friction", "low": "little friction",
                  "unknown": "no data"}
PERCENT = FuncFormatter(lambda v, _: f"{v:,.0f}%")
THOUSANDS = FuncFormatter(lambda v, _: f"{v:,.0f}")


def _facts(view: View) -> dict:
    return view[JOURNEY_MAP_JSON]


def _uncovered(view: View):
    facts = _facts(view)
    return None if facts["covered"] else note(f"The journey is not shown: {facts['reason']}.", "warn")


def _value_text(stage: str, measure: str, value) -> str:
    """A stage measure for people: shares as percentages, days, ratios, counts."""
    if missing(value):
        return "no data"
    if "against" in measure:
        return f"{value:.2f}×"
    if "tickets per account" in measure:
        return number(value, 2)
    if "days" in measure and "share" not in measure:
        return f"{number(value)} days"
    if "share" in measure or "adoption" in measure:
        return pct(value)
    return count(value)


def _main_rows(view: View) -> pd.DataFrame:
    stages = view[JOURNEY_STAGES_CSV]
    return stages[stages["main"]].set_index("stage").reindex(_facts(view)["stages"])


def draw_journey(main: pd.DataFrame, as_of: str, accounts, ax):
    """Stages top to bottom as boxes edged by severity: each shows its
    number and name, its friction in words, its main drop-off or friction
    figure, what that measures and a detail line. The title names the stages
    that lose most."""
    n = len(main)
    ax.set_xlim(0, 1)
    ax.set_ylim(n, 0)
    ax.set_axis_off()
    for i, (stage, row) in enumerate(main.iterrows()):
        level = row["severity"] if isinstance(row["severity"], str) and row["severity"] else "unknown"
        ax.add_patch(FancyBboxPatch((0.01, i + 0.05), 0.98, 0.9, boxstyle="round,pad=0,rounding_size=0.03",
                                    facecolor=SEVERITY_FILL[level], edgecolor=SEVERITY_EDGE[level], lw=2.5))
        ax.text(0.04, i + 0.24, f"{i + 1}. {stage}", ha="left", va="center", fontsize=11.5, fontweight="bold")
        ax.text(0.96, i + 0.26, _value_text(stage, row["measure"], row["value"]), ha="right", va="center",
                fontsize=15, fontweight="bold")
        ax.text(0.04, i + 0.46, SEVERITY_WORDS[level], ha="left", va="center", style="italic")
        detail = str(row["detail"]) if isinstance(row["detail"], str) else ""
        if level == "unknown":  # the reason's first clause; the table below gives all of it
            detail = detail.split(":")[0]
        body = textwrap.shorten(str(row["measure"]), 60, placeholder="…")
        if detail:
            body += ": " + textwrap.shorten(detail, 60, placeholder="…")
        ax.text(0.04, i + 0.72, textwrap.fill(body, 58), ha="left", va="center", color=plots.DARK_GREY,
                linespacing=1.15)
    known = main[main["severity"].fillna("unknown").replace("", "unknown") != "unknown"]
    worst = [s for s in known.index if known.at[s, "severity"] == "high"]
    who = f" ({count(accounts)} accounts, as of {as_of})" if accounts is not None else f" (as of {as_of})"
    if worst:
        named = ", ".join(worst[:-1]) + (" and " if len(worst) > 1 else "") + worst[-1]
        message = f"The journey loses most at {named}" + who
    elif len(known):
        message = "No stage of the journey shows high friction" + who
    else:
        message = "No stage of the journey could be measured" + who
    return plots.say(ax, message)


def journey(view: View):
    """The journey map: one box per stage with its main figure, coloured by severity."""
    if _uncovered(view):
        return _uncovered(view)
    facts, main = _facts(view), _main_rows(view)
    fig, ax = plots.new_figure(plots.WIDTH, 1.05 * len(main) + 0.6)
    draw_journey(main, facts["as_of"], facts.get("accounts"), ax)
    known = main[main["severity"] != "unknown"]
    worst = [s for s in known.index if known.at[s, "severity"] == "high"]
    alt = "; ".join(f"{s}: {r['measure']} {_value_text(s, r['measure'], r['value'])}" for s, r in main.iterrows())
    parts = [figure(fig, f"Journey map of five stages from onboarding to renewal. {alt}",
                    "Each stage says its friction in words, its box edged to match: red-orange high, orange some, "
                    "green little, grey no data (the table below says why). The cut-offs of each stage are in the "
                    "metric definitions (the journey map).")]
    if worst:
        parts.insert(0, finding(f"The journey loses most at {', '.join(worst)}: "
                                + "; ".join(f"{main.at[s, 'measure']} {_value_text(s, main.at[s, 'measure'], main.at[s, 'value'])}"
                                            for s in worst) + "."))
    return stack(*parts)


def stages(view: View):
    """Every measure of every stage, with what it counts."""
    if _uncovered(view):
        return not_shown()
    frame = view[JOURNEY_STAGES_CSV].copy()
    frame["figure"] = [_value_text(s, m, v) for s, m, v in zip(frame["stage"], frame["measure"], frame["value"])]
    frame["severity"] = frame["severity"].replace("", None).map(SEVERITY_WORDS).fillna("")
    shown = frame[["stage", "measure", "figure", "accounts", "detail", "severity"]]
    return table(shown, {"accounts": count}, max_rows=40,
                 names={"accounts": "accounts counted", "detail": "detail or reason", "severity": "main measure"})


def draw_milestones(frame: pd.DataFrame, axes, months: int = 18):
    """Top: completion rate per milestone. Bottom: churn of the accounts
    with a decision in the look-back that had not completed it against
    those that had (flagged milestones named so). Each panel's title says
    its message."""
    names = [words.plain(m) for m in frame["milestone"]]
    labels = [textwrap.fill(f"{m} (flagged)" if f else m, 18) for m, f in zip(names, frame["flagged"])]
    y = np.arange(len(frame))
    axes[0].barh(y, 100 * frame["completion_rate"], color=plots.BLUE, height=0.6)
    for yi, rate in zip(y, frame["completion_rate"]):
        axes[0].text(100 * rate + 1, yi, pct(rate), va="center")
    axes[0].set(xlim=(0, 125), xlabel="accounts that completed it", xticks=[0, 25, 50, 75, 100])
    axes[0].set_yticks(y, labels)
    axes[0].invert_yaxis()
    h = 0.38
    axes[1].barh(y - h / 2, 100 * frame["churn_rate_not_completed"].astype(float), height=h, color=plots.VERMILLION)
    axes[1].barh(y + h / 2, 100 * frame["churn_rate_completed"].astype(float), height=h, color=plots.GREY)
    for yi, a, b in zip(y, frame["churn_rate_not_completed"], frame["churn_rate_completed"]):
        for offset, v, name in ((-h / 2, a, "not completed"), (h / 2, b, "completed")):
            if pd.notna(v):  # the first pair named: the bars are labelled, no legend
                axes[1].text(100 * float(v), yi + offset, f" {pct(v)}" + (f" {name}" if yi == 0 else ""),
                             va="center")
    axes[1].set_yticks(y, labels)
    axes[1].invert_yaxis()
    top = pd.concat([frame["churn_rate_not_completed"], frame["churn_rate_completed"]]).astype(float).max()
    axes[1].set_xlim(0, 100 * (top if top == top and top > 0 else 0.1) * 1.9)
    axes[1].set(xlabel=f"churn, accounts with a decision in the last {months} months")
    axes[1].xaxis.set_major_locator(MaxNLocator(4, steps=[1, 2, 5, 10]))
    for ax in axes:
        ax.xaxis.set_major_formatter(PERCENT)
        ax.tick_params(axis="y", length=0)
    least = plots.leaders(dict(zip(names, frame["completion_rate"])), pct, highest=False)
    if least:
        rate = pct(dict(zip(names, frame["completion_rate"]))[least[0]])
        named = plots.and_join(least)
        plots.say(axes[0], f"{named[:1].upper() + named[1:]} {'is' if len(least) == 1 else 'are'} completed least: "
                           f"{rate} of accounts" + (" each" if len(least) > 1 else ""))
    else:
        plots.say(axes[0], "No milestone's completion is known")
    flagged = frame[frame["flagged"].astype(bool)]
    gaps = (flagged["churn_rate_not_completed"] - flagged["churn_rate_completed"]).abs().dropna()
    if len(gaps):
        r = flagged.loc[gaps.idxmax()]
        message = (f"Accounts that missed {words.plain(r['milestone'])} churned {pct(r['churn_rate_not_completed'])}, "
                   f"against {pct(r['churn_rate_completed'])} of those that completed it")
    else:
        message = "No milestone's completion goes with a clear churn difference"
    plots.say(axes[1], message)
    return axes


def milestones(view: View):
    """Onboarding milestones: completion, lateness and churn by completion."""
    if _uncovered(view):
        return not_shown()
    frame, facts = view[MILESTONES_CSV], _facts(view)
    if frame is None:
        reason = facts.get("onboarding")
        return note(f"Onboarding is not shown: {reason}." if isinstance(reason, str) else "Onboarding is not shown.",
                    "skip")
    months = view.settings.analysis.churn_lookback_months
    parts = []
    for r in frame[frame["flagged"]].itertuples():
        parts.append(finding(
            f"Of the accounts with a renewal decision in the last {months} months, those that had not completed "
            f"{words.plain(r.milestone)} churned {pct(r.churn_rate_not_completed)} ({r.churned_not_completed:,} of "
            f"{r.decided_not_completed:,}), against {pct(r.churn_rate_completed)} of those that had "
            f"({r.churned_completed:,} of {r.decided_completed:,}; {stat('q', r.q_value)})."))
    if not parts:
        parts.append(finding(f"No milestone's completion goes with a churn difference after adjusting for the "
                             f"{int(frame['tested'].sum())} milestones tested."))
    fig, axes = plots.new_figure(plots.WIDTH, 2 * (0.5 * len(frame) + 1.5), rows=2)
    draw_milestones(frame, axes, months)
    parts.append(figure(fig, f"Bar charts for {len(frame)} onboarding milestones: completion rate, and churn of "
                             "accounts that completed each milestone against those that did not",
                        f"Churn: share of the accounts with a renewal decision in the last {months} months whose "
                        "worst decision was a churn, by whether they had completed the milestone by that decision. "
                        "Milestones named '(flagged)': their q value, corrected for the milestones tested, is below "
                        f"{view.settings.analysis.alpha:g}."))
    shown = frame[["milestone", "accounts", "completed", "completion_rate", "late_rate", "churn_rate_completed",
                   "churn_rate_not_completed", "p_value", "q_value"]]
    parts.append(table(shown, {"accounts": count, "completed": count, "completion_rate": pct, "late_rate": pct,
                               "churn_rate_completed": pct, "churn_rate_not_completed": pct, "p_value": p_value,
                               "q_value": p_value},
                       names={"accounts": "accounts entered", "completion_rate": "completion", "late_rate": "late",
                              "churn_rate_completed": "churn: completed", "churn_rate_not_completed": "churn: not completed",
                              "p_value": "p", "q_value": "q"}))
    untested = frame[~frame["tested"]]
    if len(untested):
        parts.append(note(f"Not tested (fewer than {view.settings.analysis.min_accounts} accounts with a decision on one "
                          f"side): {', '.join(untested['milestone'])}."))
    return stack(*parts)


def first_value(view: View):
    """Days from contract start to first value: the distribution and the median."""
    if _uncovered(view):
        return not_shown()
    fv = _facts(view).get("first_value")
    if not isinstance(fv, dict):
        return note(f"Time to first value is not shown: {fv}.", "skip")
    dist = pd.DataFrame(fv["distribution"])
    fig, ax = plots.new_figure(plots.WIDTH, 3.2)
    colors = [plots.BLUE] * (len(dist) - 1) + [plots.VERMILLION]
    buckets = [textwrap.fill(str(b).replace(" days", ""), 7) for b in dist["bucket"]]
    ax.bar(buckets, dist["accounts"], color=colors)
    for xi, n in enumerate(dist["accounts"]):
        ax.text(xi, n, f"{int(n):,}", ha="center", va="bottom")
    ax.yaxis.set_major_formatter(THOUSANDS)
    ax.set_ylim(0, max(dist["accounts"].max(), 1) * 1.18)
    ax.set(xlabel="days from contract start to the first value event", ylabel="accounts")
    if fv["reached"] and not missing(fv.get("median_days")):
        plots.say(ax, f"Half of the accounts that reached first value did so within "
                      f"{words.plural(fv['median_days'], 'day')}; {fv['accounts'] - fv['reached']:,} of "
                      f"{fv['accounts']:,} have not yet")
    else:
        plots.say(ax, f"None of the {fv['accounts']:,} accounts has reached first value yet")
    sentence = finding(
        f"{fv['reached']:,} of {fv['accounts']:,} accounts that started since {fv['events_from']} reached first "
        f"value, after a median of {number(fv['median_days'])} days (a quarter took over {number(fv['p75_days'])}); "
        f"{pct(fv['no_value_in_90_days_share'])} of those at least 90 days in had no value event in their first 90 days.")
    return stack(sentence, figure(fig, f"Bar chart of accounts by days to first value; {fv['reached']:,} reached it "
                                       f"and {fv['accounts'] - fv['reached']:,} not yet",
                                  "The last bar, in red-orange, counts accounts with no value event yet."))


def adoption(view: View):
    """Where workflows are abandoned, and how much of the core product is used."""
    if _uncovered(view):
        return not_shown()
    ad = _facts(view).get("adoption", {})
    parts = []
    wf = ad.get("workflows")
    if isinstance(wf, dict):
        parts.append(finding(f"{pct(wf['abandoned_share'])} of {wf['runs']:,} workflow runs started in the last 12 "
                             f"months were not completed by the as-of date; most stop at {words.plain(wf['worst_workflow'])}: "
                             f"{words.plain(wf['worst_step'])} ({wf['worst_step_runs']:,} runs)."))
        parts.append(table(pd.DataFrame(wf["steps"]), {"abandoned_runs": count, "share": pct},
                           names={"last_step": "last step", "abandoned_runs": "abandoned runs",
                                  "share": "share of the workflow's abandoned runs"}, max_rows=15))
    elif wf:
        parts.append(note(f"Workflows: {wf}.", "skip"))
    core = ad.get("core")
    if isinstance(core, dict):
        parts.append(finding(f"The median active account used {pct(core['median'])} of the core features in the last "
                             f"90 days; {pct(core['low_share'])} used under half of them and {pct(core['none_share'])} "
                             "none."))
    elif core:
        parts.append(note(f"Core-feature adoption: {core}.", "skip"))
    return stack(*parts)


def support_and_renewal(view: View):
    """Tickets early in the contract against later; renewal decisions by outcome."""
    if _uncovered(view):
        return not_shown()
    facts = _facts(view)
    parts = []
    sp = facts.get("support")
    if isinstance(sp, dict):
        more = "more" if (sp["ratio"] or 0) > 1 else "fewer"
        parts.append(finding(
            f"{sp['accounts']:,} accounts that started since {sp['covered_from']} opened "
            f"{number(sp['per_account_first_90_days'], 2)} tickets each in their first 90 days against "
            f"{number(sp['per_account_days_90_179'], 2)} in days 90-179: {more} tickets in the first stage."))
    else:
        parts.append(note(f"Support by stage: {sp}.", "skip"))
    rn = facts.get("renewal")
    if isinstance(rn, dict) and rn["decisions"]:
        rows = pd.DataFrame({"outcome": list(rn["by_outcome"]), "decisions": list(rn["by_outcome"].values()),
                             "arr_before": list(rn["arr_before_by_outcome"].values())})
        rows["share"] = rows["decisions"] / rn["decisions"]
        parts += [finding(f"{rn['decisions']:,} renewal decisions fell in the last 12 months; "
                          f"{pct(rn['churned_share'])} churned, taking {money(rn['arr_before_by_outcome']['churned'])} ARR."),
                  table(rows, {"decisions": count, "arr_before": money, "share": pct},
                        names={"arr_before": "ARR before the decision", "share": "share of decisions"})]
    else:
        parts.append(note(f"Renewal: {rn if isinstance(rn, str) else 'no decision in the window'}.", "skip"))
    return stack(*parts)


def findings(view: View):
    """The journey in sentences, stage by stage, from the data."""
    if _uncovered(view):
        return _uncovered(view)
    main = _main_rows(view)
    lines = [finding(f"{stage}: {r['measure']} {_value_text(stage, r['measure'], r['value'])} "
                     f"({SEVERITY_WORDS[r['severity'] or 'unknown']}).")
             for stage, r in main.iterrows() if r["severity"] != "unknown"]
    frame = view[MILESTONES_CSV]
    if frame is not None:
        for r in frame[frame["flagged"]].itertuples():
            if r.churn_rate_not_completed > r.churn_rate_completed:
                lines.append(finding(f"Not completing {words.plain(r.milestone)} goes with higher churn "
                                     f"({pct(r.churn_rate_not_completed)} of the accounts with a renewal decision in the "
                                     f"look-back that had not completed it churned, against {pct(r.churn_rate_completed)} "
                                     "of those that had): make it a required onboarding step and chase the accounts "
                                     "that have not done it."))
            else:
                lines.append(finding(f"Accounts with a renewal decision in the look-back that did not complete "
                                     f"{r.milestone} churned less ({pct(r.churn_rate_not_completed)} against "
                                     f"{pct(r.churn_rate_completed)} of those that did): "
                                     "check whether the milestone is recorded reliably."))
    gaps = [note(f"{stage}: {r['detail']}.", "skip") for stage, r in main.iterrows() if r["severity"] == "unknown"]
    return stack(*lines, *gaps)
