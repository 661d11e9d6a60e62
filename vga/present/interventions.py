"""Step 9 · MVP and intervention tracking: are we moving accounts up in
health, what did the team do, and does the loop from complaint to fix close?"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, MaxNLocator

from . import View
from ..outputs import HEALTH_TRANSITIONS_CSV, INTERVENTIONS_CSV, INTERVENTIONS_JSON, INTERVENTION_EFFECT_CSV
from . import Chapter, plots
from .. import words
from .blocks import (not_shown, stat, count, figure, finding, kpis, missing, money, note, number, p_value, pct, stack,
                     table)

CHAPTER = Chapter(number=9, title="MVP and intervention tracking", notebook="09_interventions", node="interventions", place=8, reads=('analysis.min_accounts',))

COLORS = ("red", "yellow", "lime", "green")
STATUS_HEX = plots.INTERVENTION_COLORS
THOUSANDS = FuncFormatter(lambda v, _: f"{v:,.0f}")
PERCENT = FuncFormatter(lambda v, _: f"{v:,.0f}%")


def _facts(view: View) -> dict:
    return view[INTERVENTIONS_JSON]


def _reason(view: View, part: str, kind: str = "skip"):
    reason = _facts(view)["reasons"].get(part)
    return note(f"Not shown: {reason}.", kind) if reason else None


def _colors(names) -> str:
    return " or ".join(names)


def _target_sentence(t: dict, facts: dict) -> str:
    head = (f"{t['moved']:,} of the {t['base_accounts']:,} active accounts that were {_colors(t['from_colors'])} at the "
            f"end of {facts['previous_period']} are now {_colors(t['to_colors'])} ({pct(t['share'])}, ARR "
            f"{money(t['moved_arr'])}), against a target of {pct(t['target_share'], 0)}")
    if t["on_track"]:
        return f"{head}: on track."
    return f"{head}: behind; {t['accounts_needed']:,} more accounts would reach it."


def target(view: View):
    """Progress against the colour target, as a sentence, figures and a bar."""
    facts = _facts(view)
    if "target" not in facts:
        return _reason(view, "target")
    t = facts["target"]
    if t["share"] is None:
        return note(f"The target cannot be measured: {t['reason']}.", "skip")
    cards = kpis([
        ("moved up to " + _colors(t["to_colors"]), pct(t["share"]),
         f"{t['moved']:,} of {t['base_accounts']:,} accounts, ARR {money(t['moved_arr'])}"),
        ("target", pct(t["target_share"], 0), f"{t['target_accounts']:,} accounts"),
        ("status", "on track" if t["on_track"] else "behind",
         "" if t["on_track"] else f"{t['accounts_needed']:,} more accounts needed"),
    ])
    fig, ax = plots.new_figure(plots.WIDTH, 2.1)
    ax.barh([0], [100 * t["share"]], color=plots.GREEN if t["on_track"] else plots.ORANGE, height=0.5)
    ax.axvline(100 * t["target_share"], color=plots.INK, ls="--", lw=1.5)
    ax.text(100 * t["target_share"], 0.36, f" target {pct(t['target_share'], 0)}", va="bottom", ha="left")
    ax.set_xlim(0, max(100 * t["target_share"], 100 * t["share"]) * 1.45 + 1)
    ax.set_ylim(-0.45, 0.7)
    ax.text(100 * t["share"], 0, f" {pct(t['share'])} ({t['moved']:,} of {t['base_accounts']:,})", va="center")
    ax.set_yticks([0], [f"{_colors(t['from_colors'])}\nat {facts['previous_period']}"])
    ax.tick_params(axis="y", length=0)
    ax.xaxis.set_major_formatter(PERCENT)
    ax.xaxis.set_major_locator(MaxNLocator(4, steps=[1, 2, 5, 10]))
    ax.set_xlabel(f"share of those accounts now {_colors(t['to_colors'])}")
    plots.say(ax, f"{pct(t['share'])} of the accounts {_colors(t['from_colors'])} at {facts['previous_period']} "
                  f"are now {_colors(t['to_colors'])}: "
                  + (f"on track for the {pct(t['target_share'], 0)} target" if t["on_track"] else
                     f"short of the {pct(t['target_share'], 0)} target by {words.plural(t['accounts_needed'], 'account')}"))
    return stack(finding(_target_sentence(t, facts)), cards,
                 figure(fig, f"Bar of {pct(t['share'])} of formerly {_colors(t['from_colors'])} accounts now "
                             f"{_colors(t['to_colors'])}, against a target line at {pct(t['target_share'], 0)}",
                        "The bar is the share reached; the dashed line is the target from the interventions settings."))


def transitions(view: View):
    """Previous colour against colour now: a grid of accounts, and the table."""
    frame = view[HEALTH_TRANSITIONS_CSV]
    facts = _facts(view)
    if frame is None:
        return note("No colour changes to show: no previous health colour is known (see above).", "skip")
    labels = [c for c in COLORS] + ["no colour"]
    shown = frame.assign(previous_color=frame["previous_color"].replace("", "no colour"),
                         color=frame["color"].replace("", "no colour"))
    grid = shown.pivot_table(index="previous_color", columns="color", values="accounts", aggfunc="sum", fill_value=0)
    grid = grid.reindex(index=labels, columns=labels, fill_value=0)
    grid = grid.loc[grid.sum(axis=1) > 0, grid.sum(axis=0) > 0]
    arr = shown.pivot_table(index="previous_color", columns="color", values="arr", aggfunc="sum", fill_value=0)
    arr = arr.reindex(index=grid.index, columns=grid.columns, fill_value=0)
    fig, ax = plots.new_figure(plots.WIDTH, 0.62 * len(grid) + 1.9)
    ax.imshow(grid.to_numpy(), cmap="Blues", aspect="auto")
    top = grid.to_numpy().max() or 1
    unit = plots.money_unit(arr.to_numpy().ravel())
    for i in range(grid.shape[0]):
        for k in range(grid.shape[1]):
            n = int(grid.iat[i, k])
            if n:
                ax.text(k, i, f"{n:,}\n{plots.money_in(arr.iat[i, k], unit)}", ha="center", va="center",
                        color="white" if n > top / 2 else plots.INK, linespacing=1.1)
    ax.set_xticks(range(grid.shape[1]), grid.columns)
    ax.set_yticks(range(grid.shape[0]), grid.index)
    ax.tick_params(length=0)
    ax.spines[:].set_visible(False)
    ax.set_xlabel(f"health colour at {facts['as_of']}")
    ax.set_ylabel(f"health colour at the end of {facts['previous_period']}")
    up, down, since = facts["moved_up"], facts["moved_down"], facts["previous_period"]
    if up == down:
        message = f"As many accounts moved up a colour as down since {since}: {up:,} each"
    else:
        message = (f"More accounts moved {'up' if up > down else 'down'} a colour than {'down' if up > down else 'up'} "
                   f"since {since}: {max(up, down):,} against {min(up, down):,}")
    plots.say(ax, message)
    sentence = finding(f"Of {facts['colored_both_times']:,} active accounts coloured at both dates, "
                       f"{facts['moved_up']:,} moved up and {facts['moved_down']:,} moved down a colour or more "
                       f"since {facts['previous_period']}.")
    labels = {"data": f"the data's health history at the end of {facts['previous_period']}",
              "previous run": f"the {facts['previous_period']} report's quadrants.csv"}
    sources = facts.get("previous_color_source", {})
    source = note("Previous colours come from " + " and ".join(f"{labels.get(k, k)} ({v:,} accounts)"
                                                               for k, v in sources.items()) + ".")
    return stack(sentence, figure(fig, f"Grid of {int(grid.to_numpy().sum()):,} active accounts by previous and "
                                       "current health colour, with counts and ARR in each cell",
                                  "Cells on the diagonal kept their colour; cells to its right moved up, to its left moved down."), source)


def playbooks(view: View):
    """Interventions by playbook and status, with the ARR they cover."""
    frame = view[INTERVENTIONS_CSV]
    facts = _facts(view)
    if frame is None:
        return _reason(view, "interventions")
    if not len(frame):
        return note(f"No intervention started on or before {facts['as_of']}.", "skip")
    wide = frame.pivot_table(index="playbook", columns="status", values="interventions", aggfunc="sum", fill_value=0)
    statuses = [s for s in STATUS_HEX if s in wide.columns]
    fig, ax = plots.new_figure(plots.WIDTH, 0.5 * len(wide) + 2.0)
    left = np.zeros(len(wide))
    names = [textwrap.fill(words.plain(p), 14) for p in wide.index]
    for status in statuses:
        ax.barh(names, wide[status], left=left, color=STATUS_HEX[status], label=status, height=0.6)
        left += wide[status].to_numpy()
    ax.invert_yaxis()
    ax.tick_params(axis="y", length=0)
    ax.xaxis.set_major_formatter(THOUSANDS)
    ax.set_xlabel("interventions started on or before the as-of date")
    fig.legend(loc="outside lower center", ncols=4 if len(statuses) <= 4 else 3, handlelength=1, columnspacing=1)
    opened = wide["open"] if "open" in wide.columns else pd.Series(0, index=wide.index)
    if opened.max() > 0:
        most = [words.plain(p) for p, n in opened.items() if n == opened.max()]
        plots.say(ax, f"{facts['open']:,} of {facts['interventions_total']:,} interventions are open, "
                      f"{facts['overdue']:,} overdue; most open: {' and '.join(most)} ({int(opened.max()):,})")
    else:
        plots.say(ax, f"No intervention is open of the {facts['interventions_total']:,} started")
    sentence = finding(f"{facts['interventions_total']:,} interventions on {facts['accounts_with_interventions']:,} "
                       f"accounts started by {facts['as_of']}; {facts['open']:,} are open, {facts['overdue']:,} of "
                       "them past their target date.")
    return stack(sentence,
                 figure(fig, f"Stacked bars of interventions per playbook by status for {len(wide)} playbooks",
                        "Open, achieved, missed and dropped interventions per playbook."),
                 table(frame, {"interventions": count, "accounts": count, "arr": money},
                       names={"arr": "ARR of the accounts"}),
                 note(f"Statuses are as exported: {facts['status_note']}."))


def owners(view: View):
    """Per owner: load, status and overdue; then the overdue interventions."""
    facts = _facts(view)
    if "by_owner" not in facts:
        return note("No owners to show: no interventions were given (see above).", "skip")
    frame = pd.DataFrame(facts["by_owner"])
    if not len(frame):
        return not_shown("no intervention names an owner")
    parts = [table(frame, {c: count for c in ("interventions", "accounts", "open", "overdue", "achieved", "missed",
                                                "dropped")} | {"arr": money}, names={"arr": "ARR of the accounts"})]
    overdue = pd.DataFrame(facts["overdue_list"])
    if len(overdue):
        overdue = overdue.sort_values("arr", ascending=False)
        gone = int((overdue["arr"] == 0).sum())
        parts += [note(f"{len(overdue):,} open interventions are past their target date, largest ARR first"
                       + (f"; {gone:,} of them are on accounts that have left (ARR 0): close them." if gone else ":")),
                  table(overdue, {"arr": money}, max_rows=15,
                        names={"account_id": "account", "target_date": "target date", "arr": "ARR"})]
    else:
        parts.append(note("No open intervention is past its target date."))
    return stack(*parts)


def outcomes(view: View):
    """Did accounts with an intervention move up more than like accounts without?"""
    facts = _facts(view)
    if "outcome" not in facts:
        if "interventions" in facts["reasons"]:
            return note("No outcome to compare: no interventions were given (see above).", "skip")
        return _reason(view, "outcome")
    frame = pd.DataFrame(facts["outcome"])
    lines = []
    for r in frame.itertuples():
        if r.tested:
            lines.append(finding(
                f"Previously {r.previous_color}: {pct(r.with_share)} of {r.with_intervention:,} accounts with an "
                f"intervention moved up, against {pct(r.without_share)} of {r.without_intervention:,} without; "
                f"difference {words.signed(100 * r.difference)} points (95% interval {words.signed(100 * r.ci_lower)} to "
                f"{words.signed(100 * r.ci_upper)}, {stat('p', r.p_value)})."))
    shown = frame.drop(columns=["tested"])
    pct_cols = ("with_share", "without_share", "difference", "ci_lower", "ci_upper")
    formats = {c: pct for c in pct_cols} | {"p_value": p_value}
    names = {"previous_color": "previous colour", "with_intervention": "with intervention",
             "with_moved_up": "with: moved up", "with_share": "with: share up",
             "without_intervention": "without intervention", "without_moved_up": "without: moved up",
             "without_share": "without: share up", "difference": "difference", "ci_lower": "95% low",
             "ci_upper": "95% high", "p_value": "p"}
    untested = frame[~frame["tested"]]
    parts = lines + [table(shown, formats, names=names),
                     note("An association, not an effect: the team chooses which accounts get an intervention, "
                          "usually the ones in trouble, so the groups differ before anything is done.", "warn")]
    if len(untested):
        parts.append(note(f"Not compared (fewer than {view.settings.analysis.min_accounts} accounts in a "
                          f"group): previously {', '.join(untested['previous_color'])}."))
    return stack(*parts)


def effect_sentence(r, after_days: int) -> str:
    """One playbook's difference in differences in words, with its n."""
    who = "All playbooks together" if r["playbook"] == "all playbooks" else f"'{words.plain(r['playbook'])}'"
    head = (f"{who}: the {r['measure']} of {count(r['treated'])} accounts went from {number(r['treated_before'], 1)} "
            f"to {number(r['treated_after'], 1)} from just before it started to {after_days} days or more after, against "
            f"{number(r['controls_before'], 1)} to {number(r['controls_after'], 1)} for matched accounts without one")
    if not r["tested"]:
        return head + f"; too few accounts to estimate an effect (n = {count(r['treated'])})."
    verdict = ("a clear difference" if r["flagged"] else "no clear effect")
    return (head + f": an effect of {words.signed(r['effect'])} points (95% interval {words.signed(r['ci_lower'])} to "
            f"{words.signed(r['ci_upper'])}, {stat('q', r['q_value'])}), {verdict}.")


def effect(view: View):
    """Health and usage before and after each playbook against matched
    accounts without one (difference in differences)."""
    facts = _facts(view)
    if "interventions" in facts["reasons"]:
        return not_shown("no interventions were given (see above)")
    table_effect = view[INTERVENTION_EFFECT_CSV]
    if table_effect is None or table_effect.empty:
        return note("No intervention effect: no intervention started at least "
                    f"{facts.get('effect_after_days', 90)} days before the as-of date with scores before and after "
                    "it, and matching accounts without one.", "skip")
    after = facts.get("effect_after_days", 90)
    lines = [finding(effect_sentence(r, after)) for _, r in table_effect.iterrows()
             if r["playbook"] != "all playbooks" or r["tested"]]
    shown = table_effect.drop(columns=["tested"])
    one = {c: (lambda v: number(v, 1)) for c in ("treated_before", "treated_after", "controls_before",
                                                 "controls_after", "effect", "ci_lower", "ci_upper")}
    return stack(*lines, table(shown, one | {"p_value": p_value, "q_value": p_value},
                               names={"treated": "accounts with it", "controls": "matched accounts",
                                      "treated_before": "with: before", "treated_after": "with: after",
                                      "controls_before": "matched: before", "controls_after": "matched: after",
                                      "effect": "effect (points)", "ci_lower": "95% interval from", "ci_upper": "to",
                                      "p_value": "p value", "q_value": "q value", "flagged": "clear effect"}),
                 note(f"How this is measured: for each account's first use of a playbook, its score at the month end "
                      f"before it started and {after} days or more later, against the "
                      f"{facts.get('effect_matches', 3)} accounts without any intervention nearest to it in health and "
                      "usage then (difference in differences). Still an estimate: the team picks accounts for "
                      "reasons the scores may not hold.", "warn"))


def fixes(view: View):
    """The loop from complaint to shipped and confirmed fix."""
    facts = _facts(view)
    if "fixes" not in facts:
        return _reason(view, "fixes")
    f = facts["fixes"]
    if not f["raised"]:
        return note(f"No product fix was raised on or before {facts['as_of']}.", "skip")
    cards = kpis([
        ("fixes raised", count(f["raised"]), f"for {f['accounts']:,} accounts; {count(f.get('raised_in_window'))} in the last 12 months"),
        ("shipped", count(f["shipped"]), f"{pct(f['shipped_share'])} of raised; median {number(f['median_days_to_ship'])} days"),
        ("confirmed by the customer", count(f["confirmed"]), f"{pct(f['confirmed_share_of_shipped'])} of shipped"),
        ("still open", count(f["open"]), f"median age {number(f['median_days_open'])} days"),
    ])
    return stack(cards, finding(
        f"Of {f['raised']:,} fixes raised by {facts['as_of']}, {f['shipped']:,} shipped (median "
        f"{number(f['median_days_to_ship'])} days from complaint to fix) and {f['confirmed']:,} were confirmed "
        f"with the customer; {f['open']:,} are still open."))


def findings(view: View):
    """The step in sentences, from the data."""
    facts = _facts(view)
    lines = []
    t = facts.get("target")
    if t and t["share"] is not None:
        lines.append(_target_sentence(t, facts))
    elif "target" in facts["reasons"]:
        lines.append(f"The colour target cannot be measured yet: {facts['reasons']['target']}.")
    if "interventions_total" in facts:
        lines.append(f"{facts['interventions_total']:,} interventions started by {facts['as_of']}; "
                     f"{facts['overdue']:,} open ones are past their target date.")
    for r in facts.get("outcome", []):
        if r["tested"] and not missing(r["ci_lower"]):
            clear = r["ci_lower"] > 0 or r["ci_upper"] < 0
            how = ("more often than" if r["difference"] > 0 else "less often than" if r["difference"] < 0
                   else "as often as")
            lines.append(f"Previously {r['previous_color']} accounts with an intervention moved up "
                         f"{how} those without "
                         f"({pct(r['with_share'])} against {pct(r['without_share'])}); "
                         + ("the 95% interval does not include zero: an association worth a closer look, not "
                            "proof that the playbooks work." if clear else
                            "the 95% interval includes zero: no association can be claimed."))
    f = facts.get("fixes")
    if f and f["raised"]:
        lines.append(f"{f['open']:,} of {f['raised']:,} product fixes raised are not shipped; shipped ones took a "
                     f"median {number(f['median_days_to_ship'])} days.")
    missing_parts = [k for k in ("interventions", "fixes") if k in facts["reasons"]]
    parts = [finding(line) for line in lines]
    parts += [note(f"Missing: {facts['reasons'][k]}.", "skip") for k in missing_parts]
    return stack(*parts) if parts else note("Nothing to report for this step.", "skip")
