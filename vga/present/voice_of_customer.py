"""Step 6 · Voice of the customer: what customers say, how often they ask
for help, and the reasons they give for leaving, weighted by ARR."""

from __future__ import annotations

import textwrap
from datetime import date

import pandas as pd
from matplotlib.ticker import FuncFormatter

from . import View
from ..outputs import SUPPORT_LOAD_CSV, THEMES_CSV, VOICE_BY_QUADRANT_CSV, VOICE_OF_CUSTOMER_JSON, VOICE_TREND_CSV
from . import Chapter, plots
from .. import words
from .blocks import Html, count, figure, finding, kpis, money, note, number, pct, stack, table

CHAPTER = Chapter(number=6, title="Voice of the customer", notebook="06_voice_of_customer", node="voice_of_customer", place=4)

#: What each table would add, and how to provide it, for the notes on tables not given.
HOW_TO = {
    "surveys": ("NPS and CSAT, their quarterly trend and how unhappy each quadrant is",
                "surveys.csv with account_id, responded_at, kind (nps, csat, onboarding, offboarding) and score"),
    "support_tickets": ("the support load per category and priority, the open backlog and its age, escalations and "
                        "ticket CSAT",
                        "support_tickets.csv with ticket_id, account_id, opened_at, closed_at (empty while open), "
                        "priority, category, escalated and csat"),
    "interviews": ("the reasons customers give for leaving (and other evidence), weighted by the ARR behind them",
                   "interviews.csv with account_id, held_at, source (churn_interview, win_loss, advisory_board, "
                   "call_recording, observation, other) and themes separated by ';'"),
    "touchpoints": ("the sentiment CSMs record at calls, meetings and QBRs",
                    "touchpoints.csv with account_id, occurred_at, kind and sentiment (positive, neutral, negative)"),
}
#: Fewer responses than this in a quarter: a change is read as noise, and said so.
FEW = 30
GROUP_NAMES = {"churn": "Churn interviews",
               "other": "Other evidence (win/loss, advisory board, recordings, observation)"}


def _accounts(n: int) -> str:
    return f"{n:,} account" + ("" if n == 1 else "s")


def _ratings(csat: dict) -> str:
    """'1,046 ratings (support tickets)' / '12 ratings (5 CSAT surveys, 7 support tickets)'."""
    parts = [f"{n:,} {what}" for n, what in ((csat["survey_responses"], "CSAT surveys"),
                                             (csat["ticket_responses"], "support tickets")) if n]
    if len(parts) == 1:
        parts = [parts[0].split(" ", 1)[1]]
    return f"{csat['responses']:,} ratings ({', '.join(parts)})"


def _facts(view: View) -> dict:
    return view[VOICE_OF_CUSTOMER_JSON]


def _day(text: str) -> str:
    return f"{date.fromisoformat(text):%d %b %Y}"


def _nps(value) -> str:
    """An NPS for people: a whole number on -100..100."""
    return "–" if value is None or pd.isna(value) else f"{value:.0f}"


def _moved(now, before, fmt, unit: str = "", diff=None) -> str:
    """'up 3 points from 12' / 'down ...' / 'unchanged from ...', judged by the
    values as shown; ``diff`` formats the difference (default ``fmt``)."""
    if now is None or before is None:
        return ""
    shown_now, shown_before = fmt(now), fmt(before)
    if shown_now == shown_before:
        return f"unchanged from {shown_before}"
    word = "up" if now > before else "down"
    amount = (diff or fmt)(abs(now - before))
    if unit.strip() in ("points", "percentage points") and amount in ("1", "1.0"):
        unit = unit.replace("points", "point")  # "up 1 point", never "up 1 points"
    return f"{word} {amount}{unit} from {shown_before}"


def _share_moved(now, before) -> str:
    """A change of a share, in percentage points."""
    return _moved(now, before, pct, " percentage points", diff=lambda d: f"{100 * d:.1f}")


def _missing(view: View, table: str) -> Html | None:
    """A visible note for a table not given: what it would add and how to provide it."""
    if _facts(view)["tables_given"].get(table, False):
        return None
    adds, how = HOW_TO[table]
    return note(f"No {table} table was given, so this section cannot show {adds}. To see it, add {how}.", "skip")


def _uncovered(view: View):
    facts = _facts(view)
    if facts["covered"]:
        return None
    return note(f"Figures as of {facts['as_of']} are not shown: {facts['reason']}.", "warn")


def _reason(view: View, key: str, what: str):
    reason = _facts(view)["reasons"].get(key)
    return note(f"{what} not shown: {reason}.", "skip") if reason else None


# --------------------------------------------------------------------------
# Headline


def headline(view: View):
    """KPI cards for NPS, CSAT, the open backlog and escalations, each with its definition."""
    facts = _facts(view)
    if _uncovered(view):
        return _uncovered(view)
    window = f"the 12 months to {_day(facts['as_of'])}"
    cards = []
    nps = facts["nps"]
    if nps and nps["responses"]:
        change = _moved(nps["nps"], nps["previous"]["nps"], _nps, " points")
        cards.append(("NPS", _nps(nps["nps"]),
                      f"% promoters (9-10) minus % detractors (0-6) of {count(nps['responses'])} responses "
                      f"over {window}"
                      + (f"; {change} in the previous window" if change else "")))
    csat = facts["csat"]
    if csat and csat["responses"]:
        cards.append(("CSAT", f"{number(csat['mean'], 2)} / 5",
                      f"mean of {_ratings(csat)}, 1-5; "
                      f"{pct(csat['satisfied_share'], 0)} satisfied (4 or 5)"))
    backlog = facts["backlog"]
    if backlog:
        cards.append(("open tickets", count(backlog["open_tickets"]),
                      f"opened and not closed by {_day(facts['as_of'])}; median age "
                      f"{number(backlog['median_age_days'])} days, {pct(backlog['share_older_than_30_days'], 0)} "
                      "older than 30 days"))
    esc = facts["escalations"]
    if esc:
        cards.append(("escalations", count(esc["escalated"]),
                      f"tickets opened over {window} and escalated: {pct(esc['share_of_tickets'])} of tickets, "
                      f"{_accounts(esc['accounts'])} holding {money(esc['arr'])} ARR"))
    parts = [kpis(cards)] if cards else []
    absent = [t for t, given in facts["tables_given"].items() if not given]
    if absent:
        parts.append(note(f"Not given: {', '.join(absent)}. The sections below say what each would add and how to "
                          "provide it.", "skip"))
    for s in facts["stale_sources"]:
        parts.append(note(f"{s['table']} ends on {s['last_date']}, before the as-of date: recent responses or "
                          "tickets may be missing.", "warn"))
    comments = facts.get("comments")
    if comments and comments["responses_with_comment"]:
        parts.append(note(f"{comments['responses_with_comment']:,} survey responses in the window carry a comment. "
                          "Comments are not shown in this report because they may hold personal data; read them "
                          "in the survey tool.", "info"))
    if not parts:
        return note("No survey, ticket, interview or touchpoint data was given.", "skip")
    return stack(*parts)


# --------------------------------------------------------------------------
# Trend


def _trend_figure(trend: pd.DataFrame) -> list:
    """One figure per measure with responses: NPS per quarter and CSAT
    mean per quarter, each titled with how it moved (no chart drawn from 0
    ratings); the quarters' responses are in the table below."""
    kinds = [m for m in ("nps", "csat") if trend.loc[trend["measure"] == m, "responses"].sum() > 0]
    style = {"nps": ("NPS", 0), "csat": ("CSAT (mean, 1 to 5)", 2)}
    quarters = sorted(trend["quarter"].unique())
    figs = []
    for measure in kinds:
        name, digits = style[measure]
        fig, ax = plots.new_figure(plots.WIDTH, 2.8)
        rows = trend[trend["measure"] == measure].set_index("quarter").reindex(quarters)
        x = range(len(quarters))
        ax.plot(x, rows["value"], color=plots.BLUE, marker="o", lw=2)
        shown = rows["value"].dropna()
        if len(shown):
            last = quarters.index(shown.index[-1])
            ax.annotate(f"{shown.iloc[-1]:,.{digits}f}", (last, shown.iloc[-1]), xytext=(7, 0),
                        textcoords="offset points", va="center", ha="left", fontweight="bold")
        step = 1 if len(quarters) <= 5 else 2
        ticks = list(x)[::-1][::step][::-1]
        ax.set_xticks(ticks, [quarters[i] for i in ticks])
        ax.set_xlim(-0.4, len(quarters) - 0.4 + 0.8)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _, d=min(digits, 1): f"{v:,.{d}f}"))
        if measure == "nps":
            ax.axhline(0, color=plots.GREY, lw=1)
            low, high = rows["value"].min(), rows["value"].max()
            if pd.notna(low):
                ax.set_ylim(max(-100, min(low, 0) - 15), min(100, max(high, 0) + 15))
        else:
            ax.set_ylim(1, 5.3)
        ax.set(ylabel=name, xlabel="calendar quarter")
        plots.say(ax, _trend_message(name.split(" (")[0], rows["value"], rows["responses"], digits))
        figs.append(fig)
    return figs


def _trend_message(name: str, values: pd.Series, responses: pd.Series, digits: int) -> str:
    """'NPS rose from -9.6 in 2024Q4 to 4.2 in 2026Q3 (600 to 700 responses a quarter)'."""
    shown = values.dropna()
    if shown.empty:
        return f"{name}: no quarter to show"
    counts = responses[values.notna()].fillna(0).astype(int)
    n = (f"{counts.iloc[0]:,} responses" if len(counts) == 1 else
         f"{counts.min():,} to {counts.max():,} responses a quarter")
    fmt = lambda v: f"{v:,.{digits}f}"  # noqa: E731
    if len(shown) == 1:
        return f"{name} {fmt(shown.iloc[0])} in {shown.index[0]} ({n})"
    a, b = fmt(shown.iloc[0]), fmt(shown.iloc[-1])
    if a == b:
        return f"{name} unchanged at {b} from {shown.index[0]} to {shown.index[-1]} ({n})"
    verb = "rose" if shown.iloc[-1] > shown.iloc[0] else "fell"
    return f"{name} {verb} from {a} in {shown.index[0]} to {b} in {shown.index[-1]} ({n})"


def trend(view: View):
    """NPS and CSAT per calendar quarter up to the as-of date, with responses."""
    trend_rows = view[VOICE_TREND_CSV]
    if trend_rows is None or not len(trend_rows):
        return _missing(view, "surveys") or note("No survey response or ticket rating is dated on or before the as-of "
                                                 "date, so there is no trend to show.", "skip")
    parts = []
    nps_n = int(trend_rows.loc[trend_rows["measure"] == "nps", "responses"].sum())
    csat_n = int(trend_rows.loc[trend_rows["measure"] == "csat", "responses"].sum())
    if nps_n or csat_n:
        drawn = [f"NPS from {nps_n:,} survey responses" if nps_n else "",
                 f"mean CSAT from {csat_n:,} ratings" if csat_n else ""]
        drawn = [d for d in drawn if d]
        parts.append(figure(
            _trend_figure(trend_rows),
            [f"A line chart by calendar quarter: {d}, its number of responses per quarter in its title"
             for d in drawn],
            "Only quarters with responses are shown; the last quarter ends on the as-of date and may be a part "
            "quarter."))
    wide = trend_rows.pivot_table(index="quarter", columns="measure", values=["value", "responses"], aggfunc="first")
    shown = pd.DataFrame(index=wide.index)
    for measure in ("nps", "csat", "csat_satisfied", "touchpoints_negative"):
        if ("value", measure) in wide.columns:
            shown[measure] = wide[("value", measure)]
            if measure != "csat_satisfied":
                shown[f"{measure}_n"] = wide[("responses", measure)]
    shown = shown.reset_index()
    names = {"quarter": "Quarter", "nps": "NPS", "nps_n": "NPS responses", "csat": "CSAT (mean, 1-5)",
             "csat_n": "CSAT ratings", "csat_satisfied": "Satisfied (4-5)",
             "touchpoints_negative": "Negative touchpoints", "touchpoints_negative_n": "Touchpoints with a sentiment"}
    formats = {"nps": _nps, "csat": lambda v: number(v, 2), "csat_satisfied": pct, "touchpoints_negative": pct,
               "nps_n": count, "csat_n": count, "touchpoints_negative_n": count}
    parts.append(table(shown, formats, max_rows=40, names=names))
    return stack(*parts)


# --------------------------------------------------------------------------
# Quadrants


def quadrants(view: View):
    """NPS, detractor share and CSAT per quadrant of the active accounts."""
    by_quadrant = view[VOICE_BY_QUADRANT_CSV]
    if by_quadrant is None or not len(by_quadrant):
        return _missing(view, "surveys") or _uncovered(view) or note(
            "NPS per quadrant cannot be shown: no quadrant was computed for the active accounts.", "skip")
    rated = by_quadrant[by_quadrant["responses"] > 0]
    parts = []
    if len(rated) >= 2:
        worst, best = rated.loc[rated["detractor_share"].idxmax()], rated.loc[rated["detractor_share"].idxmin()]
        parts.append(finding(
            f"{pct(worst['detractor_share'], 0)} of NPS responses from {worst['quadrant']} accounts were detractors "
            f"(NPS {_nps(worst['nps'])}, {worst['responses']:,} responses), against "
            f"{pct(best['detractor_share'], 0)} from {best['quadrant']} accounts (NPS {_nps(best['nps'])}, "
            f"{best['responses']:,} responses)."))
    names = {"quadrant": "Quadrant", "accounts": "Active accounts", "accounts_responding": "Accounts responding",
             "responses": "NPS responses", "nps": "NPS", "promoter_share": "Promoters (9-10)",
             "detractor_share": "Detractors (0-6)", "csat_responses": "CSAT ratings", "csat": "CSAT (mean, 1-5)"}
    formats = {"nps": _nps, "promoter_share": pct, "detractor_share": pct, "csat": lambda v: number(v, 2),
               "accounts": count, "accounts_responding": count, "responses": count, "csat_responses": count}
    parts.append(table(by_quadrant, formats, names=names))
    return stack(*parts)


# --------------------------------------------------------------------------
# Support


def support(view: View):
    """Tickets per account-month, by category and priority, with escalations."""
    facts = _facts(view)
    missing = _missing(view, "support_tickets") or _uncovered(view)
    if missing:
        return missing
    load, frame = facts["support"], view[SUPPORT_LOAD_CSV]
    change = _moved(load["tickets_per_account_month"], load["previous_tickets_per_account_month"],
                    lambda v: number(v, 2))
    parts = [finding(
        f"{load['tickets']:,} tickets were opened in the 12 months to {_day(facts['as_of'])} by "
        f"{_accounts(load['accounts_with_tickets'])}: {number(load['tickets_per_account_month'], 2)} per "
        f"account-month ({load['account_months']:,} account-months with ARR)"
        + (f", {change} in the previous window." if change else "."))]
    if frame is not None and len(frame):
        names = {"value": "Value", "tickets": "Tickets", "share": "Share of tickets",
                 "per_account_month": "Tickets per account-month", "escalated": "Escalated"}
        formats = {"tickets": count, "share": pct, "per_account_month": lambda v: number(v, 3), "escalated": count}
        for dimension, title in (("category", "Category"), ("priority", "Priority")):
            rows = frame[frame["dimension"] == dimension].drop(columns="dimension")
            if len(rows):
                parts.append(note(f"By {dimension}:"))
                parts.append(table(rows, formats, names={**names, "value": title}))
    return stack(*parts)


def backlog(view: View):
    """The open backlog at the as-of date, its age, and escalations."""
    facts = _facts(view)
    missing = _missing(view, "support_tickets") or _uncovered(view)
    if missing:
        return missing
    b, esc = facts["backlog"], facts["escalations"]
    parts = [finding(
        f"{b['open_tickets']:,} tickets from {_accounts(b['accounts'])} were open on {_day(facts['as_of'])}"
        + (f"; their median age was {number(b['median_age_days'])} days and {b['older_than_30_days']:,} "
           f"({pct(b['share_older_than_30_days'], 0)}) were older than 30 days." if b["open_tickets"] else "."))]
    if b["by_priority"]:
        rows = pd.DataFrame({"priority": list(b["by_priority"]), "open": list(b["by_priority"].values())})
        parts.append(table(rows, {"open": count}, names={"priority": "Priority", "open": "Open tickets"}))
    if esc:
        change = _share_moved(esc["share_of_tickets"], esc["previous_share_of_tickets"])
        parts.append(finding(
            f"{esc['escalated']:,} of {esc['tickets_flagged']:,} tickets opened in the window were escalated "
            f"({pct(esc['share_of_tickets'])}{', ' + change + ' in the previous window' if change else ''}), from "
            f"{_accounts(esc['accounts'])} holding {money(esc['arr'])} ARR."))
    else:
        parts.append(_reason(view, "escalations", "Escalations are"))
    return stack(*parts)


def touchpoints(view: View):
    """Sentiment recorded at CSM contacts in the window."""
    facts = _facts(view)
    missing = _missing(view, "touchpoints") or _uncovered(view)
    if missing:
        return missing
    tp = facts["touchpoints"]
    if not tp:
        return _reason(view, "touchpoints", "Touchpoint sentiment is")
    change = _share_moved(tp["negative_share"], tp["previous_negative_share"])
    return finding(
        f"Of {tp['with_sentiment']:,} touchpoints with a recorded sentiment in the window, {tp['negative']:,} "
        f"({pct(tp['negative_share'])}) were negative and {tp['positive']:,} positive"
        + (f"; the negative share is {change} in the previous window." if change else "."))


# --------------------------------------------------------------------------
# Themes


def _themes_figure(themes: pd.DataFrame, top: int = 10) -> list:
    """One figure per source group: its themes by the ARR of the accounts
    naming them (the ``top`` largest), each bar labelled in one unit."""
    groups = [g for g in GROUP_NAMES if g in set(themes["source_group"])]
    figs = []
    for group in groups:
        rows = themes[themes["source_group"] == group].head(top).iloc[::-1]
        fig, ax = plots.new_figure(plots.WIDTH, max(2.2, 0.36 * len(rows) + 1.4))
        unit = plots.money_unit(rows["arr"])
        names = [textwrap.shorten(words.plain(t), 24, placeholder="…") for t in rows["theme"]]
        ax.barh(range(len(rows)), rows["arr"], color=plots.VERMILLION if group == "churn" else plots.BLUE)
        for y, (arr, n) in enumerate(zip(rows["arr"], rows["accounts"])):
            ax.text(arr, y, f" {plots.money_in(arr, unit)}, {_accounts(n)}", va="center")
        ax.set_yticks(range(len(rows)), names)
        ax.set_xticks([])
        ax.spines[["bottom"]].set_visible(False)
        ax.tick_params(axis="y", length=0)
        ax.set_xlim(0, rows["arr"].max() * 1.75 if rows["arr"].max() > 0 else 1)
        plots.say(ax, _themes_message(themes[themes["source_group"] == group], group, unit))
        figs.append(fig)
    return figs


def _themes_message(rows: pd.DataFrame, group: str, unit) -> str:
    """'Missing feature and reporting are the costliest churn themes: 1.5M of ARR each'."""
    kind = "churn theme" if group == "churn" else "theme heard"
    if rows.empty or rows["arr"].max() <= 0:
        return f"No {kind} carries ARR"
    top = rows["arr"].max()
    leaders = [words.plain(t) for t, a in zip(rows["theme"], rows["arr"])
               if plots.money_in(a, unit) == plots.money_in(top, unit)]
    amount = plots.money_in(top, unit, currency=True)
    if len(leaders) == 1:
        return f"{leaders[0][:1].upper() + leaders[0][1:]} is the costliest {kind}: {amount} of ARR"
    named = ", ".join(leaders[:-1]) + " and " + leaders[-1]
    return f"{named[:1].upper() + named[1:]} tie as the costliest {kind}s: {amount} of ARR each"


def themes(view: View):
    """Interview themes of the window per source group, weighted by ARR."""
    facts = _facts(view)
    missing = _missing(view, "interviews") or _uncovered(view)
    if missing:
        return missing
    frame = view[THEMES_CSV]
    counts = facts["themes"] or {}
    heard = "; ".join(f"{GROUP_NAMES[g].split(' (')[0].lower()}: {c['interviews']:,} with {_accounts(c['accounts'])}"
                      for g, c in counts.items() if c["interviews"])
    parts = [note(f"Interviews held in the window: {heard or 'none'}. ARR basis: {facts['arr_basis']}.")]
    if counts and counts.get("churn", {}).get("interviews") and not counts.get("other", {}).get("interviews"):
        parts.append(note("Only churn interviews were held in the window. Win/loss interviews, advisory-board notes, "
                          "call recordings or observation sessions (interviews.source) would show what customers "
                          "who stay say.", "skip"))
    if frame is None or not len(frame):
        parts.append(_reason(view, "themes", "Themes are"))
        return stack(*parts)
    figs = _themes_figure(frame)
    groups = [g for g in GROUP_NAMES if g in set(frame["source_group"])]
    parts.append(figure(
        figs,
        [f"Horizontal bar chart of the themes of {GROUP_NAMES[g].split(' (')[0].lower()} by the ARR of the accounts "
         "naming them, each bar labelled with its number of accounts" for g in groups],
        "Each account counts once per theme, with its ARR; the ten largest themes per group are drawn."))
    for group in GROUP_NAMES:
        rows = frame[frame["source_group"] == group].drop(columns="source_group")
        if len(rows):
            parts.append(note(f"{GROUP_NAMES[group]}:"))
            parts.append(table(rows, {"arr": money, "arr_share": pct, "accounts": count, "mentions": count},
                               max_rows=20, names={"theme": "Theme", "accounts": "Accounts", "mentions": "Mentions",
                                                   "arr": "ARR", "arr_share": "Share of ARR heard"}))
    return stack(*parts)


# --------------------------------------------------------------------------
# Findings


def _trend_sentence(trend_rows: pd.DataFrame | None, measure: str, name: str, fmt, unit: str) -> str | None:
    """'<name> fell from A in Q1 to B in Q5 (n1 and n2 responses)': the latest
    quarter against the one four quarters earlier, else the earliest."""
    if trend_rows is None:
        return None
    rows = trend_rows[trend_rows["measure"] == measure].sort_values("quarter")
    if len(rows) < 2:
        return None
    last = rows.iloc[-1]
    earlier = pd.PeriodIndex(rows["quarter"], freq="Q")
    target = pd.Period(last["quarter"], freq="Q") - 4
    first = rows[earlier == target].iloc[0] if (earlier == target).any() else rows.iloc[0]
    a, b = fmt(first["value"]), fmt(last["value"])
    verb = "stayed at" if a == b else "rose from" if last["value"] > first["value"] else "fell from"
    n = f"{first['responses']:,} and {last['responses']:,} responses"
    caution = "; too few responses to read as a change" if min(first["responses"], last["responses"]) < FEW else ""
    if a == b:
        return f"{name} {verb} {b}{unit} from {first['quarter']} to {last['quarter']} ({n}{caution})."
    return f"{name} {verb} {a}{unit} in {first['quarter']} to {b}{unit} in {last['quarter']} ({n}{caution})."


def findings(view: View):
    """The voice of the customer in sentences from the data."""
    facts = _facts(view)
    if _uncovered(view):
        return _uncovered(view)
    window = f"the 12 months to {_day(facts['as_of'])}"
    before = f"the 12 months to {_day(facts['previous_window']['end'])}"
    lines = []
    nps = facts["nps"]
    if nps and nps["responses"]:
        prev = nps["previous"]
        line = (f"NPS over {window} is {_nps(nps['nps'])} from {nps['responses']:,} responses "
                f"({pct(nps['promoter_share'], 0)} promoters, {pct(nps['detractor_share'], 0)} detractors)")
        if prev["responses"]:
            line += f", against {_nps(prev['nps'])} over {before} ({prev['responses']:,} responses)"
        lines.append(line + ".")
    lines.append(_trend_sentence(view[VOICE_TREND_CSV], "nps", "NPS", _nps, ""))
    csat = facts["csat"]
    if csat and csat["responses"]:
        prev = csat["previous"]
        line = (f"CSAT over {window} averages {number(csat['mean'], 2)} of 5 from {_ratings(csat)}, with "
                f"{pct(csat['satisfied_share'], 0)} satisfied (4 or 5)")
        if prev["responses"]:
            line += f", against {number(prev['mean'], 2)} and {pct(prev['satisfied_share'], 0)} over {before}"
        lines.append(line + ".")
    lines.append(_trend_sentence(view[VOICE_TREND_CSV], "csat", "Mean CSAT", lambda v: number(v, 2), " of 5"))
    by_quadrant = view[VOICE_BY_QUADRANT_CSV]
    if by_quadrant is not None:
        rated = by_quadrant[by_quadrant["responses"] > 0].sort_values("nps")
        if len(rated) >= 2:
            low, high = rated.iloc[0], rated.iloc[-1]
            lines.append(f"{low['quadrant']} accounts give the lowest NPS, {_nps(low['nps'])} ({low['responses']:,} "
                         f"responses), and {high['quadrant']} accounts the highest, {_nps(high['nps'])} "
                         f"({high['responses']:,} responses).")
    load, frame = facts["support"], view[SUPPORT_LOAD_CSV]
    if load and load["tickets"] and frame is not None and len(frame):
        top = frame[frame["dimension"] == "category"].head(1)
        lines.append(f"Customers opened {number(load['tickets_per_account_month'], 2)} tickets per account-month"
                     + (f"; the largest category is {top.iloc[0]['value']} ({pct(top.iloc[0]['share'], 0)} of "
                        f"{load['tickets']:,} tickets)." if len(top) else "."))
    b = facts["backlog"]
    if b and b["open_tickets"]:
        lines.append(f"{b['open_tickets']:,} tickets were open on {_day(facts['as_of'])}, with a median age of "
                     f"{number(b['median_age_days'])} days; {pct(b['share_older_than_30_days'], 0)} were older than "
                     "30 days.")
    esc = facts["escalations"]
    if esc and esc["escalated"]:
        lines.append(f"{esc['escalated']:,} tickets ({pct(esc['share_of_tickets'])}) were escalated over {window}, "
                     f"from {_accounts(esc['accounts'])} holding {money(esc['arr'])} ARR.")
    frame = view[THEMES_CSV]
    if frame is not None:
        for group in GROUP_NAMES:
            rows = frame[frame["source_group"] == group]
            if len(rows):
                t = rows.iloc[0]
                lines.append(f"In {GROUP_NAMES[group].split(' (')[0].lower()}, the theme with the most ARR behind it "
                             f"is '{words.plain(t['theme'])}': {_accounts(t['accounts'])}, {money(t['arr'])} "
                             f"({pct(t['arr_share'], 0)} of the ARR heard over {window}).")
    lines = [line for line in lines if line]
    if not lines:
        reasons = "; ".join(sorted(set(facts["reasons"].values()))) or "no data"
        return note(f"No finding on the voice of the customer: {reasons}.", "skip")
    return stack(*[finding(line) for line in lines])
