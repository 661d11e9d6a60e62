"""Executive summary: the headline figures, first in the report."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from . import View
from ..outputs import (CHURN_POPULATIONS_CSV, FORECAST_BACKTEST_CSV, FORECAST_CSV, FORECAST_JSON, QUADRANTS_CSV,
    RETENTION_BY_SLICE_CSV, RETENTION_TREND_CSV, SLICES_CSV, SUMMARY_JSON)
from . import Chapter, plots
from .. import words
from .blocks import CURRENCY, Html, bullets, count, figure, finding, kpis, money, note, pct, stack, table
from .churned_customers import churn_label_sentence, churn_labels_agree, health_score_verdict, warning_sentence
from .quadrant_view import QUADRANT_TEXT
from .pattern_slicing import slice_lines
from ..analysis.quick_wins import NOT_FIRST

CHAPTER = Chapter(number=11, title="Executive summary", notebook="11_executive_summary", node="executive_summary",
                  shows=(QUADRANTS_CSV, SLICES_CSV, RETENTION_TREND_CSV, RETENTION_BY_SLICE_CSV, FORECAST_JSON, FORECAST_CSV,
                         FORECAST_BACKTEST_CSV), leads=True)


def _change(now, before, kind: str = "pct") -> str:
    """'was 85.1%' style text for a KPI card; empty when either is unknown."""
    if now is None or before is None:
        return ""
    if kind == "pct":
        return f" (was {pct(before)}, {_points(now, before)})"
    return f" (was {money(before)})"


def _points(now, before) -> str:
    """The change of a rate in points, for people: "up 1.2 points",
    "down 0.4 points", "unchanged" (never "-0.0")."""
    points = round(100 * (now - before), 1) + 0.0
    if points == 0:
        return "unchanged"
    return f"{'up' if points > 0 else 'down'} {abs(points):.1f} point{'' if abs(points) == 1 else 's'}"


def money_range(low, high) -> str:
    """A 95% interval of money for people: "95% interval 0.9M to 4.2M"."""
    if low is None or high is None or low != low or high != high:
        return ""
    return f"95% interval {money(low)} to {money(high)}"


def money_sum(win: dict, short: bool = False) -> str:
    """How a gap's money at risk is made, in numbers a reader can multiply:
    "ARR exposed 23,048,300 x 11.53 points (ARR loss rate 28.3% against
    16.8% for Champions) = 2.7M". The exposed ARR is given whole and the
    points with as many decimals as the figure shown needs, so that the
    product of the factors as printed rounds to the figure as printed;
    empty when a factor is unknown."""
    arr, excess, total = win.get("arr_at_stake"), win.get("excess_loss_rate"), win.get("money_at_risk")
    if any(v is None or v != v for v in (arr, excess, total)):
        return ""
    mine, theirs = win.get("exposed_loss_rate"), win.get("reference_loss_rate")
    rates = ""
    if mine is not None and mine == mine and theirs is not None and theirs == theirs:
        against = "" if short else f" for {win.get('compared_with') or 'the reference'}"
        rates = f" (ARR loss rate {pct(mine)} against {pct(theirs)}{against})"
    points = 100 * excess
    # The last digit shown of the money (0.1k, 0.1M, ... or 1): rounding the points may move the product by a
    # quarter of it at most.
    size = next((s for s in (1e9, 1e6, 1e3) if abs(total) >= s), None)
    unit = 0.1 * size if size else 1.0
    need = np.log10(max(2 * abs(arr) / (100 * unit), 1.0))
    digits = int(min(8, max(2, np.ceil(need))))
    prefix = f"{CURRENCY['code']} " if CURRENCY["code"] else ""
    return f"ARR exposed {prefix}{arr:,.0f} x {points:.{digits}f} points{rates} = {money(total)}"


def loss_rate_note(win: dict) -> str:
    """Why the money's rates differ from the churn rates in the gap's words:
    money counts ARR lost (churn and contraction, weighted by ARR), the test
    counts accounts that left. Empty when both read the same."""
    churn, loss = win.get("exposed_churn_rate"), win.get("exposed_loss_rate")
    if any(v is None or v != v for v in (churn, loss)) or pct(churn) == pct(loss):
        return ""
    return (f"The money uses ARR loss rates (ARR lost to churn and contraction over ARR at the start, "
            f"{pct(loss)} here), not the share of accounts that left ({pct(churn)}): large accounts "
            "and downgrades weigh in.")


def together(total: dict | None) -> str:
    """The Do first gaps' one total, each account counted once; empty without one."""
    if not total or not total.get("gaps"):
        return ""
    text = ((f"Together the {total['gaps']:,} gaps to do first put" if total["gaps"] > 1 else
             "The gap to do first puts") + f" {money(total['money_at_risk'])} at risk now, across "
            f"{words.plural(total['accounts'], 'active account')}")
    if total.get("accounts_in_several"):
        text += (f"; {words.plural(total['accounts_in_several'], 'account')} in more than one gap "
                 + ("is counted once, at the largest excess loss rate of the gaps it is in "
                    if total["accounts_in_several"] == 1 else
                    "are counted once each, at the largest excess loss rate of the gaps they are in ")
                 + f"(the gaps' own figures add to {money(total['sum_of_gaps'])})")
    return text + "."


def _covers(win: dict) -> str:
    """How many accounts an action covers and their ARR ("313 accounts, 23.1M of ARR")."""
    n = win.get("accounts")
    if n is None or n != n or win.get("kind") != "systemic":
        return ""
    return f"{words.plural(int(n), 'account')}, {money(win.get('arr_at_stake'))} of ARR"


def _action(win: dict, number: int) -> str:
    where = "" if win.get("kind") == "systemic" else f" (account {html.escape(str(win.get('account_name') or win['account_id']))})"
    interval = money_range(win.get("money_at_risk_low"), win.get("money_at_risk_high"))
    made = money_sum(win, short=True)  # the comparison group is named in the value gaps below
    covers = _covers(win)
    due = win.get("due_date")
    due = f'<span title="{html.escape(str(win.get("due_basis") or ""))}">Due: <b>{html.escape(str(due))}</b></span>' \
        if due and due == due else ""
    basis = html.escape(str(win.get("owner_basis") or ""))
    return (f'<li class="vga-action"><div class="vga-action-what"><span class="vga-action-n">{number}</span>'
            f"{html.escape(win['action'].rstrip('.'))}</div>"
            f'<div class="vga-action-why">{html.escape(win["gap"])}{where}'
            f"{' · ' + html.escape(covers) if covers else ''}</div>"
            f'<div class="vga-action-meta"><span title="{basis}">Owner: <b>{html.escape(str(win["owner"]))}</b></span>{due}'
            f'<span><a href="#glossary-money-at-risk">Money at risk</a> now: <b>{html.escape(money(win.get("money_at_risk")))}</b>'
            f"{' (' + html.escape(interval) + ')' if interval else ''}</span></div>"
            + (f'<div class="vga-action-sum">{html.escape(made)}</div>' if made else "") + "</li>")


def first_screen(view: View):
    """The first screen: the three retention figures with their change, the
    three first actions with owner and money at risk, and the ARR bridge."""
    s = view[SUMMARY_JSON]
    b = s.get("previous") or {}
    since = b.get("period") if b.get("nrr") is not None else None
    cards = []
    for key, label, term, explain in (
            ("nrr", "Net revenue retention", "nrr", "ARR of last year's customers now, against a year ago"),
            ("grr", "Gross revenue retention", "grr", "the same, counting losses only"),
            ("logo_churn_rate", "Logo churn", "logo-churn", f"of the {count(s['cohort_accounts'])} accounts paying a year ago")):
        change = f"{_points(s[key], b[key])} since {since}" if since and s[key] is not None and b.get(key) is not None else ""
        cards.append(f'<div class="vga-kpi"><div class="vga-kpi-value">{html.escape(pct(s[key]))}</div>'
                     f'<div class="vga-kpi-label"><a href="#glossary-{term}">{html.escape(label)}</a></div>'
                     f'<div class="vga-kpi-change">{html.escape(change)}</div>'
                     f'<div class="vga-kpi-note">{html.escape(explain)}</div></div>')
    first = s.get("do_first") or []
    if first:
        actions = ('<ol class="vga-actions">' + "".join(_action(w, i) for i, w in enumerate(first[:3], start=1))
                   + "</ol>")
        shown = [w for w in first[:3] if w.get("kind") == "systemic"]
        total = s.get("do_first_total") or {}
        if total.get("gaps") and total["gaps"] > len(shown):
            actions += (f'<p class="vga-note">{total["gaps"] - len(shown)} more gap'
                        f'{"" if total["gaps"] - len(shown) == 1 else "s"} to do first in the value gaps below.</p>')
        if together(total):
            actions += f'<p class="vga-action-total">{html.escape(together(total))}</p>'
    else:
        actions = ('<p class="vga-note vga-skip">No tested value gap is large enough to act on first this period; '
                   "the gaps worth a look are listed below.</p>")
    bridge = s.get("bridge") or {}
    if bridge:
        fig, ax = plots.new_figure(*plots.BRIDGE_SIZE)
        plots.arr_bridge(bridge, ax)
        chart = figure(fig, "Waterfall of ARR: a year ago, plus expansion, minus contraction and churn, the same "
                            "customers now, plus new customers, all ARR now",
                       f"ARR bridge, {s['window_start']} to {s['as_of']}: last year's customers, then new ones.").body
    else:
        chart = note("The ARR bridge needs renewals covering the 12 months to the as-of date: " +
                     ((s.get("null_reasons") or {}).get("retention") or "not available") + ".", "skip").body
    return Html('<div class="vga-first">'
                f'<div class="vga-kpis vga-kpis-3">{"".join(cards)}</div>'
                f'<div class="vga-first-grid"><div><h3 class="vga-h3">Do first</h3>{actions}</div>'
                f'<div>{chart}</div></div></div>')


def section_anchor(chapter_key: str) -> str:
    """The report's anchor of a chapter's section ("#section-4"); "" when it has none."""
    from . import report_order

    order = [c.node for c in report_order()]
    return f"#section-{order.index(chapter_key) + 1}" if chapter_key in order else ""


def _accounts(n: int) -> str:
    return words.plural(int(n), "account")


def news_text(item: dict) -> str:
    """One item of the news (:mod:`vga.analysis.news`) as a sentence."""
    kind = item.get("kind")
    if kind == "no_targets":
        return ("No targets are set for NRR, GRR or logo churn, so nothing says whether these figures are good "
                "(set them under targets in vga.toml).")
    if kind == "target":
        gap = abs(round(item["points"], 1))
        whose = (f" of the {count(item['cohort_accounts'])} accounts paying a year ago"
                 if item.get("cohort_accounts") else "")
        return (f"{item['name']}{whose} is {pct(item['value'])} against a target of {pct(item['target'])}: "
                + ("met." if item["met"] and gap == 0 else f"{'better' if item['met'] else 'worse'} by {gap:.1f} points."))
    if kind == "stayed_red":
        one = item["accounts"] == 1
        return (f"{_accounts(item['accounts'])} holding {money(item['arr'])} of ARR ({pct(item['share'])}) "
                f"{'was' if one else 'were'} red at the previous period and {'is' if one else 'are'} red still.")
    if kind == "renewals_due":
        return (f"{_accounts(item['accounts'])} holding {money(item['arr_due'])} of ARR "
                f"renew{'s' if item['accounts'] == 1 else ''} by {item['by']} (the next {item['days']} days); "
                f"{money(item['weak_arr'])} of it is on accounts red or yellow now ({_accounts(item['weak_accounts'])}).")
    if kind == "overdue":
        one, gone = item["overdue"] == 1, item["left"]
        text = (f"{count(item['overdue'])} intervention{' is' if one else 's are'} past {'its' if one else 'their'} "
                f"target date and still open, on accounts holding {money(item['arr'])} of ARR")
        if not gone:
            return text + "."
        return text + ("; it is on an account that has already left." if one else
                       f"; {count(gone)} of them {'is' if gone == 1 else 'are'} on "
                       f"{'an account that has' if gone == 1 else 'accounts that have'} already left.")
    if kind == "fixes":
        return (f"{count(item['confirmed'])} of {count(item['shipped'])} shipped product fixes were confirmed by the "
                "customer who asked for them.")
    if kind == "playbooks":
        n, without = item["measured"], item["without"]
        if not without:
            return (f"{'The one playbook' if n == 1 else f'Each of the {count(n)} playbooks'} measured shows a clear "
                    "gain in health or usage against similar accounts.")
        names = "; ".join(f"{words.feature(p)}: {words.plural(n, 'account')} treated"
                          for p, n in zip(without, item["treated"]))
        if len(without) == n:
            head = "The one playbook measured shows" if n == 1 else f"None of the {count(n)} playbooks measured shows"
            return f"{head} {'no' if n == 1 else 'a'} clear gain in health or usage against similar accounts ({names})."
        return (f"{count(len(without))} of the {count(n)} playbooks measured show{'s' if len(without) == 1 else ''} "
                f"no clear gain in health or usage against similar accounts ({names}).")
    return str(item.get("text") or "")


def news_list(items: list[dict]) -> Html | None:
    """The news (:mod:`vga.analysis.news`) as one tight list, each line
    marked by its tone and linking to the section that says more."""
    if not items:
        return None
    lines = []
    for item in items:
        mark = {"bad": "▼ ", "good": "▲ "}.get(item.get("tone"), "")
        anchor = section_anchor(item.get("chapter") or "")
        more = f' <a href="{anchor}">More</a>' if anchor and item.get("chapter") != "executive_summary" else ""
        lines.append(f'<li class="vga-news-{html.escape(item.get("tone") or "neutral")}">'
                     f"{html.escape(mark + news_text(item))}{more}</li>")
    return Html(f'<ul class="vga-news">{"".join(lines)}</ul>')


def story(view: View):
    """The period in sentences, before any table: what changed, where value
    leaks and how much ARR it puts at risk, what expanding customers do."""
    s = view[SUMMARY_JSON]
    before = s.get("previous") or {}
    lines = []
    named = {r["name"]: r["value"] for r in s.get("figures") or []}  # the run's registry of named figures

    def figure_of(name):
        return named.get(name, s.get(name))

    if s["nrr"] is not None:
        text = (f"Net revenue retention is {pct(figure_of('nrr'))} and gross revenue retention {pct(figure_of('grr'))} "
                f"over the 12 months to {s['as_of']}")
        if before.get("nrr") is not None:
            text += f" (NRR {_points(s['nrr'], before['nrr'])} since {before['period']})"
        lines.append(text + f"; {pct(figure_of('logo_churn_rate'))} of the {count(s['cohort_accounts'])} accounts paying on "
                            f"{s['window_start']} had left by {s['as_of']}.")
        if s.get("renewals_shape") == "cancellations_only":
            lines.append("The renewals export holds cancellations only, so no expansion or downgrade of a continuing "
                         "customer is recorded: NRR counts losses" + (" only and equals GRR." if pct(s["nrr"]) == pct(s["grr"])
                                                                      else " and win-backs only."))
    news_blocks = [b for b in [news_list(s.get("news") or [])] if b is not None]
    first = s.get("do_first") or []
    if first:
        w = first[0]
        lines.append(f"The largest value gap to act on is {w['gap']}: {money(w['money_at_risk'])} of ARR at risk now "
                     f"({money_range(w.get('money_at_risk_low'), w.get('money_at_risk_high'))})"
                     + ("; the Do first list above ends with the gaps' one total." if together(s.get("do_first_total"))
                        else "."))
    else:
        lines.append("No tested value gap is large enough to act on first this period.")
    for d in (s.get("expansion_drivers") or [])[:2]:
        measure = d["measure"]
        who = (f"Accounts that use {words.feature(measure[len('uses_'):])}" if measure.startswith("uses_")
               else f"Accounts with {words.measure(measure)}")
        lines.append(f"{who} expanded {words.times(d['ratio'])} as often as the others ({pct(d['with_rate'])} against "
                     f"{pct(d['without_rate'])} of their renewals).")
    quadrants = s["quadrants"]
    fpu = quadrants.get("Frustrated Power Users", {})
    if fpu.get("accounts"):
        lines.append(f"{words.plural(fpu['accounts'], 'account')} use the product heavily yet are unhappy (Frustrated "
                     f"Power Users), holding {money(fpu['arr'])} of ARR.")
    if not churn_labels_agree(s.get("churn_labels") or []):
        lines.append(churn_label_sentence(s["churn_labels"], s["as_of"]))
    warned = s.get("early_warning") or {}
    if warned.get("health_score") and warned["health_score"].get("recall") is not None:
        lines.append(health_score_verdict(warned["health_score"], s.get("health_threshold", 50.0)))
    if warned.get("best_signal"):
        lines.append("The clearest early warning: " + warning_sentence(warned["best_signal"]))
    if not lines and not news_blocks:
        return note("The data does not allow a summary for this period; see the notes on the data.", "warn")
    # The retention sentence, then the news (targets, then bad news by money), then the rest of the story.
    found = [finding(line) for line in lines]
    return stack(*found[:1], *news_blocks, *found[1:])


def retention_trend(view: View):
    """NRR, GRR and logo churn over up to eight quarters the data covers."""
    trend = view.get(RETENTION_TREND_CSV)
    if trend is None or len(trend) < 2:
        why = ("only this period is covered by the data" if trend is not None and len(trend) == 1 else
               (view[SUMMARY_JSON].get("null_reasons") or {}).get("retention") or "the renewals do not reach back")
        return note(f"No trend over quarters: {why}.", "skip")
    fig, ax = plots.new_figure(*plots.TREND_SIZE)
    plots.retention_trend(trend, ax)
    first, last = trend.iloc[0], trend.iloc[-1]
    text = (f"Over {words.plural(len(trend), 'quarter')}, each measured on the accounts paying 12 months before its "
            f"end, NRR went from {pct(first['nrr'])} to {pct(last['nrr'])}, GRR from {pct(first['grr'])} to "
            f"{pct(last['grr'])} and logo churn of those accounts from {pct(first['logo_churn_rate'])} "
            f"to {pct(last['logo_churn_rate'])}.")
    return stack(finding(text), figure(fig, "Three line charts, one under the other: NRR, GRR and logo churn per quarter, "
                                            "each on its own scale, NRR and GRR with a dashed 100% line",
                                       "Each point covers the 12 months to its quarter's end."))


def retention_by_slice(view: View):
    """NRR, GRR and logo churn per slice (the same definitions, each slice's cohort accounts)."""
    frame = view.get(RETENTION_BY_SLICE_CSV)
    if frame is None or frame.empty:
        return note("No slice has enough cohort accounts to show its retention.", "skip")
    shown = frame.assign(dimension=frame["dimension"].map(words.dimension))
    return table(shown[["dimension", "value", "cohort_accounts", "arr_start", "nrr", "grr", "logo_churn_rate"]],
                 {"cohort_accounts": count, "arr_start": money, "nrr": pct, "grr": pct, "logo_churn_rate": pct},
                 names={"dimension": "slice by", "cohort_accounts": "accounts a year ago", "arr_start": "their ARR then",
                        "nrr": "NRR", "grr": "GRR", "logo_churn_rate": "logo churn"})


def headline(view: View):
    s = view[SUMMARY_JSON]
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


def quadrants(view: View):
    """Active accounts by quadrant, with the ARR each holds."""
    s = view[SUMMARY_JSON]
    if "quadrants" in s["null_reasons"]:
        return note(f"The quadrant is not shown: {s['null_reasons']['quadrants']}.", "warn")
    scored = [k for k, v in s["quadrants"].items() if k != "Unscored" and (v or {}).get("accounts")]
    unscored = (s["quadrants"].get("Unscored") or {}).get("accounts") or 0
    if not scored and not unscored:
        return note("No account is active at the as-of date, so no account has a quadrant.", "skip")
    if not scored:
        return note(f"No active account could be placed in the quadrant: all {count(unscored)} are Unscored (a usage "
                    "or a health score is missing for each); the quadrant view says what to give.", "warn")
    before = (s.get("previous") or {}).get("quadrants") or {}
    scored_before = any((before.get(k) or {}).get("accounts") for k in before if k != "Unscored")
    rows = [{"quadrant": k, "accounts": v["accounts"], "ARR": v["arr"],
             f"accounts at {s['previous_period']}": (before.get(k) or {}).get("accounts"),
             f"ARR at {s['previous_period']}": (before.get(k) or {}).get("arr"), "what it means": QUADRANT_TEXT[k]}
            for k, v in s["quadrants"].items()]
    if not scored_before:  # no account scored then: no column of dashes or of Unscored only
        rows = [{k: v for k, v in r.items() if not k.startswith(("accounts at", "ARR at"))} for r in rows]
    # The chart of ARR by quadrant is the quadrant section's: shown once.
    return table(pd.DataFrame(rows), {"ARR": money, "accounts": count, f"accounts at {s['previous_period']}": count,
                                      f"ARR at {s['previous_period']}": money})


def lost_where(view: View):
    """Slices flagged against the other known values of their dimension, as sentences."""
    slices = view[SLICES_CSV]
    if slices is None:
        return note("Churn by slice cannot be computed without renewals covering the period.", "skip")
    return bullets(slice_lines(slices)) if slice_lines(slices) else note(
        "No slice's churn differs from the other known values of its dimension after adjustment.")


def trust(view: View):
    """What went in and what was set aside."""
    quality = view[SUMMARY_JSON]["data_quality"]
    read = sum(q["rows_read"] for q in quality.values())
    held = sum(q["rows_quarantined"] for q in quality.values())
    blank = sum(q["cells_blanked"] for q in quality.values())
    return note(f"{len(quality)} tables, {read:,} rows read; {held:,} rows quarantined and {blank:,} cells blanked, "
                "each with its reason in the run's quarantine folder.")


def populations(view: View):
    """The run's three churn counts side by side, so that each number is read
    with its population and window (:mod:`vga.analysis.populations`)."""
    frame = view[CHURN_POPULATIONS_CSV]
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


CONFIDENCE = {"high": "high (a test: q < 0.01)", "medium": "medium (a test: q < 0.05)", "low": "low: not significant",
              "uncertain": "uncertain: the test passed, but the money may be zero",
              "descriptive": "a count, not a test"}


def _gap_frame(gaps: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(gaps)
    frame["confidence"] = frame["confidence"].map(CONFIDENCE)
    frame["how"] = [money_sum(g) for g in gaps]
    frame["why_not_first"] = [NOT_FIRST.get(g.get("not_first") or "", "") for g in gaps]
    frame["interval"] = [money_range(a, b) for a, b in zip(frame.get("money_at_risk_low", pd.Series(dtype=float)),
                                                            frame.get("money_at_risk_high", pd.Series(dtype=float)))] \
        if "money_at_risk_low" in frame.columns else ""
    return frame


def value_gaps(view: View):
    """The tested value gaps, ranked by money at risk, with interval, window and evidence."""
    gaps = view[SUMMARY_JSON].get("value_gaps") or []
    if not gaps:
        return note("No value gap passed a test this period.", "skip")
    frame = _gap_frame(gaps)
    notes = [loss_rate_note(g) for g in gaps[:1]]
    return stack(table(frame[["gap", "money_at_risk", "interval", "how", "arr_kept", "window", "evidence",
                              "confidence"]],
                       {"money_at_risk": money, "arr_kept": money},
                       names={"money_at_risk": "money at risk now", "interval": "its 95% interval",
                              "how": "how it is made", "arr_kept": "ARR that would have been kept",
                              "window": "measured over"}),
                 *[note(n) for n in notes if n])


def worth_a_look(view: View):
    """Counts and gaps not large enough (or not tested): a list, not a ranking by money."""
    gaps = view[SUMMARY_JSON].get("worth_a_look") or []
    if not gaps:
        return note("Nothing else to look at this period.", "skip")
    frame = _gap_frame(gaps)
    return table(frame[["gap", "owner", "arr_at_stake", "evidence", "why_not_first", "confidence"]],
                 {"arr_at_stake": money},
                 names={"arr_at_stake": "ARR of the accounts exposed", "why_not_first": "why not first"})


def quick_wins(view: View):
    """The first actions, with their owners and the money at risk."""
    wins = view[SUMMARY_JSON].get("top_quick_wins") or []
    if not wins:
        return note("No quick win for this period.", "skip")
    frame = pd.DataFrame(wins)
    named = frame["account_name"] if "account_name" in frame.columns else frame["account_id"]
    frame["account"] = [n or i or "(many accounts)" for n, i in zip(named.fillna(""), frame["account_id"])]
    return table(frame[["rank", "gap", "action", "owner", "account", "money_at_risk", "arr_at_stake"]],
                 {"money_at_risk": money, "arr_at_stake": money},
                 names={"money_at_risk": "money at risk now", "arr_at_stake": "ARR of the accounts exposed"})


def caveats(view: View):
    """Assumptions and caveats: missing or stale sources, small samples, what was assumed."""
    s = view[SUMMARY_JSON]
    lines = [f"Assumed by the data's mapping: {a}" for a in s.get("assumptions") or []]
    if s.get("warnings"):  # said once, at the top of the report
        lines.append("The notes at the top of the report say where the data falls short of the period.")
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
        lines.append("Amounts are in the data's one currency; name it in the configuration to show its code beside "
                     "every amount.")
    return bullets(lines)


def _quarter(start, end) -> str:
    return f"{str(start)[:10]} to {str(end)[:10]}"


def _span(low, high) -> str:
    return f"{money(low)} to {money(high)}"


def forecast(view: View):
    """The next four quarters (:mod:`vga.analysis.forecast`): the ARR up for
    renewal each quarter and how much of it is red or yellow now; the
    expected loss with its 95% interval, the expected GRR and the success
    plan's worth only when the renewal model is strong enough (else why
    not); and the same forecast made a year earlier against what happened."""
    facts = view.get(FORECAST_JSON) or {}
    quarters = view.get(FORECAST_CSV)
    if not facts or quarters is None or quarters.empty or not facts.get("due_accounts"):
        return note("No forecast: " + (facts.get("reason") or "the renewal model gave no probabilities, or no active "
                                       "account renews in the next four quarters") + ".", "skip")
    rows = quarters.assign(quarter=[_quarter(a, b) for a, b in zip(quarters["quarter_start"], quarters["quarter_end"])])
    columns = ["quarter", "accounts_due", "arr_due", "red_yellow_arr_due"]
    names = {"quarter": "quarter", "accounts_due": "accounts up for renewal", "arr_due": "their ARR now",
             "red_yellow_arr_due": "of it red or yellow now", "expected_loss": "expected ARR lost to churn",
             "interval": "95% interval", "actual_loss": "ARR lost to churn", "within_interval": "inside the interval"}
    parts = []
    if facts.get("shown"):
        rows = rows.assign(interval=[_span(a, b) for a, b in zip(rows["loss_low"], rows["loss_high"])])
        columns += ["expected_loss", "interval"]
        plan = facts.get("success_plan") or {}
        parts.append(finding(
            f"Over the next four quarters {money(facts['due_arr'])} of ARR comes up for renewal; the renewal model "
            f"expects {money(facts['expected_loss'])} of it to churn ({money_range(facts['loss_low'], facts['loss_high'])}), "
            f"an expected GRR of {pct(facts['expected_grr'])} over the next 12 months, counting churn only."
            + (f" Moving {pct(plan['share'])} of the red and yellow ARR due to the renewal odds of lime and green "
               f"accounts would keep about {money(plan['value'])} more." if plan.get("value") is not None else "")))
    else:
        parts.append(finding(f"Over the next four quarters {money(facts['due_arr'])} of ARR comes up for renewal, "
                             f"{money(float(quarters['red_yellow_arr_due'].sum()))} of it on accounts red or yellow now. "
                             f"No loss is forecast: {facts.get('reason')}."))
    parts.append(table(rows[columns], {"arr_due": money, "red_yellow_arr_due": money, "expected_loss": money,
                                       "accounts_due": count}, names=names))
    back = view.get(FORECAST_BACKTEST_CSV)
    then = facts.get("backtest") or {}
    if back is not None and len(back):
        inside = int(back["within_interval"].astype(str).str.lower().eq("true").sum())
        back = back.assign(quarter=[_quarter(a, b) for a, b in zip(back["quarter_start"], back["quarter_end"])],
                           interval=[_span(a, b) for a, b in zip(back["loss_low"], back["loss_high"])])
        parts.append(finding(
            f"The same forecast made a year earlier, as of {then.get('as_of')}: {inside} of {len(back)} quarters' "
            f"ARR lost to churn fell inside its 95% interval (expected {money(float(back['expected_loss'].sum()))}, "
            f"lost {money(float(back['actual_loss'].sum()))})."))
        parts.append(table(back[["quarter", "arr_due", "expected_loss", "interval", "actual_loss", "within_interval"]],
                           {"arr_due": money, "expected_loss": money, "actual_loss": money},
                           names={**names, "arr_due": "their ARR then"}))
    return stack(*parts)
