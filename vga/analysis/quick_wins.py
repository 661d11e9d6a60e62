"""Quick wins: the actions to take first, ranked by the money at risk.

Two kinds (``results/quick_wins.csv``: ``rank``, ``kind``, ``account_id``,
``gap``, ``action``, ``owner``, ``arr_at_stake``, ``evidence``, then the
money and test columns below):

- **systemic** wins, each a value gap of a group of accounts compared with
  a reference group: a slice flagged for churning more than the rest of the
  cohort (the 12 months of the retention window); the Frustrated Power Users
  and Churn Risk quadrants held 90 days before each renewal decision of the
  look-back, against the Champions (Fisher's exact test, the two adjusted
  together by Benjamini-Hochberg); an onboarding milestone that renewed
  customers complete significantly more often than churned ones (the
  decisions without it against those with it); and two plain counts, not
  tests: the workflow step where most runs were abandoned in the 90 days to
  the as-of date and the support ticket category most often opened then.
- **account** wins: one row per active account with a gap, the gap being
  the first of, in this order: Frustrated Power User, Churn Risk, an open
  escalated ticket, usage down 15 points or more since the previous period,
  health colour worse than at the previous period, a milestone as above not
  completed. The evidence lists every gap found for the account. Owner: its
  CSM.

``arr_at_stake`` is the ARR at the as-of date of the active accounts exposed
(the spec's definition: every account's ARR, not a loss). The money a gap
costs is :mod:`vga.analysis.money_at_risk`'s: ``money_at_risk`` (ARR at risk now:
exposed ARR x the excess ARR loss rate over the reference group, with its
95% interval ``money_at_risk_low`` / ``_high``) and ``arr_kept`` (ARR the
company would have kept over the comparison's ``window`` had the exposed
group lost ARR at the reference rate, with ``arr_kept_low`` / ``_high``).
An account win of a tested gap carries its group's excess rate times its
own ARR. ``tested``: a test stands behind the gap (``q_value`` below
alpha); ``do_first``: tested, churning more than the reference, by
enough to act on (:func:`vga.analysis.money_at_risk.large_enough`), and with
the 95% interval of its money at risk above 0; otherwise ``not_first`` says
why (a key of :data:`NOT_FIRST`). ``exposed_loss_rate`` and
``reference_loss_rate`` are the ARR loss rates the money comes from (ARR
lost / ARR at the start, churn and contraction together), beside the
logo-churn rates the test compares. A slice is compared with the cohort's
other *known* values of its dimension (accounts with no value are in
neither group). Ranked: the
``do_first`` wins by money at risk, then the others by money at risk (where
known) and ARR at stake.

Actions come from the configurable playbook (``[quick_wins.playbook]``,
gap -> action). Everything is as of the as-of date (nothing dated later).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from . import money_at_risk as mar
from .. import words
from ..stats import bh_q_values, fisher_p
from .quadrant import CHAMPIONS, CHURN_RISK, FRUSTRATED
from .slicing import is_unknown
from .decisions import missing_groups
from .voice import open_tickets

#: The spec's columns, then the money and test columns (module docstring).
COLUMNS = ["rank", "kind", "account_id", "gap", "action", "owner", "arr_at_stake", "evidence", "q_value", "tested",
           "do_first", "not_first", "window", "compared_with", "exposed_churn_rate", "reference_churn_rate",
           "exposed_loss_rate", "reference_loss_rate", "excess_loss_rate", "arr_kept", "arr_kept_low",
           "arr_kept_high", "money_at_risk", "money_at_risk_low", "money_at_risk_high", "accounts", "owner_basis",
           "due_date", "due_basis"]
MONEY = ["exposed_churn_rate", "reference_churn_rate", "exposed_loss_rate", "reference_loss_rate",
         "excess_loss_rate", "arr_kept", "arr_kept_low", "arr_kept_high", "money_at_risk", "money_at_risk_low",
         "money_at_risk_high"]
#: Why a gap is not in Do first (``not_first``), a code and its words.
NOT_FIRST = {
    "count": "a count, not a test",
    "chance": "the difference could be chance (q not below alpha)",
    "no_worse": "the exposed accounts churn no more than the reference",
    "small": "the difference is smaller than the minimum effect to act on",
    "may_be_zero": "the 95% interval of its money at risk reaches 0 or below: the gap may cost nothing",
}
#: A due date leaves at least this many days to act, whatever renews sooner (as vga.config's).
MIN_DUE_DAYS = 7
#: A gap's due date falls before this share of the ARR it covers comes up for renewal.
DUE_ARR_SHARE = 0.25
#: Gaps whose accounts' CSMs own the action when no role is set (a
#: workflow step or a ticket category is the product's or support's).
CSM_OWNED = ("quadrant", "slice", "milestone", "account")
#: The playbook keys of the actions for a whole group of accounts.
SYSTEMIC_KEYS = {FRUSTRATED: "systemic_frustrated", CHURN_RISK: "systemic_churn_risk"}
COLOR_ORDER = {"red": 0, "yellow": 1, "lime": 2, "green": 3}
USAGE_DROP_POINTS = 15.0
NO_OWNER = "(no CSM)"
#: The workbook's sheet of the accounts each Do first action covers (before the CSMs' sheets).
DO_FIRST_SHEET = "Do first accounts"
#: The lead at which a decision's quadrant is taken (as quadrant_churn.csv).
QUADRANT_LEAD = 90


#: The default Frustrated Power Users action by what the data holds: (support
#: tickets given, surveys given) -> action. Only the default is adapted; an
#: action the configuration sets is used as written.
FRUSTRATED_ACTIONS = {
    (True, True): "Run a fix-what-hurts review: walk the open tickets and the last survey comments with the account, "
                  "and agree a fix date",
    (True, False): "Run a fix-what-hurts review: walk the open tickets with the account, and agree a fix date",
    (False, True): "Run a fix-what-hurts review: walk the last survey comments with the account, and agree a fix date",
    (False, False): "Run a fix-what-hurts review: ask the account's main users what hurts most, and agree a fix date",
}


def playbook_for(playbook: dict, has_tickets: bool, has_surveys: bool) -> dict:
    """``playbook`` with the default Frustrated Power Users action fitted to
    the tables given (no "walk the open tickets" without a tickets table)."""
    out = dict(playbook)
    if out.get(FRUSTRATED) == FRUSTRATED_ACTIONS[(True, True)]:
        out[FRUSTRATED] = FRUSTRATED_ACTIONS[(bool(has_tickets), bool(has_surveys))]
    return out


def _end(day: date) -> pd.Timestamp:
    return pd.Timestamp(day) + pd.Timedelta(days=1)


def open_escalations(tickets: pd.DataFrame | None, as_of: date) -> pd.Series:
    """account_id -> escalated tickets open at ``as_of`` (opened on or
    before it and not closed by then)."""
    if tickets is None or "escalated" not in tickets.columns:
        return pd.Series(dtype=int)
    still = open_tickets(tickets, as_of)
    return still[still["escalated"].fillna(False).astype(bool)].groupby("account_id").size()


def missed_milestones(onboarding: pd.DataFrame | None, milestones: list[str], as_of: date) -> pd.DataFrame:
    """Rows (account_id, milestone) of the given milestones not completed by ``as_of``."""
    if onboarding is None or not milestones:
        return pd.DataFrame(columns=["account_id", "milestone"])
    rows = onboarding[onboarding["milestone"].isin(milestones)]
    done = rows["completed_at"].notna() & (rows["completed_at"] < _end(as_of))
    return rows.loc[~done, ["account_id", "milestone"]].drop_duplicates()


def account_wins(quadrants: pd.DataFrame, owners: pd.Series, escalations: pd.Series, missed: pd.DataFrame,
                 playbook: dict, limit: int) -> pd.DataFrame:
    """Account-level wins (see the module docstring), the ``limit`` largest
    by ARR. ``key`` (internal) names the gap for :func:`price_account_wins`:
    a quadrant's name, ``milestone:<name>`` or the gap's code."""
    gaps: dict[str, list[tuple[str, str]]] = {}

    def add(account, gap, evidence):
        gaps.setdefault(account, []).append((gap, evidence))

    q = quadrants
    for _, r in q.iterrows():
        account = r["account_id"]
        scores = f"usage {r['usage_score']:.0f}, health {r['health_score']:.0f}" if pd.notna(r["usage_score"]) \
            and pd.notna(r["health_score"]) else ""
        if r["quadrant"] == FRUSTRATED:
            add(account, FRUSTRATED, f"Frustrated Power User ({scores})")
        elif r["quadrant"] == CHURN_RISK:
            add(account, CHURN_RISK, f"Churn Risk ({scores})")
        n = int(escalations.get(account, 0))
        if n:
            add(account, "open_escalation", f"{words.plural(n, 'escalated ticket')} open")
        change = r.get("usage_change", np.nan)
        if pd.notna(change) and change <= -USAGE_DROP_POINTS:
            add(account, "usage_decline", f"usage score down {words.plural(round(-change), 'point')} since the previous period")
        before, now = r.get("previous_health_color", ""), r.get("health_color", "")
        if isinstance(before, str) and before and isinstance(now, str) and now and COLOR_ORDER[now] < COLOR_ORDER[before]:
            add(account, "health_drop", f"health colour {before} -> {now}")
    for account, group in missed.groupby("account_id"):
        names = sorted(group["milestone"])
        add(account, "milestone:" + names[0], "onboarding not done: " + ", ".join(words.feature(m) for m in names))
    arr = q.set_index("account_id")["arr"]
    rows = []
    for account, found in gaps.items():
        key = found[0][0]
        code = "missed_milestone" if key.startswith("milestone:") else key
        rows.append({"kind": "account", "account_id": account, "gap": words.plain(code), "key": key,
                     "action": playbook.get(code, playbook["default"]), "owner": owners.get(account) or NO_OWNER,
                     "arr_at_stake": float(arr.get(account, 0.0)), "evidence": "; ".join(e for _, e in found)})
    out = pd.DataFrame(rows, columns=["kind", "account_id", "gap", "key", "action", "owner", "arr_at_stake", "evidence"])
    out["q_value"] = np.nan
    return out.sort_values(["arr_at_stake", "account_id"], ascending=[False, True]).head(limit)


def _decision_units(frame: pd.DataFrame) -> pd.DataFrame:
    """:func:`vga.analysis.money_at_risk.loss_units` of renewal decisions (ARR before
    and after each)."""
    return mar.loss_units(frame["arr_before"], frame["arr_after"])


def quadrant_gaps(decisions: pd.DataFrame | None, quadrants: pd.DataFrame, lookback: str) -> list[dict]:
    """The Frustrated Power Users and Churn Risk quadrants, each against the
    Champions: the decisions of the look-back by the quadrant held
    :data:`QUADRANT_LEAD` days before, Fisher's exact test of their churn,
    the two p values adjusted together (Benjamini-Hochberg)."""
    column = f"quadrant_d{QUADRANT_LEAD}"
    if decisions is None or decisions.empty or column not in decisions.columns:
        return []
    if missing_groups(decisions, second=("renewed", "expanded", "downgraded")):  # all decisions churned (cancellations only) or none: nothing to compare
        return []
    champions = decisions[decisions[column] == CHAMPIONS]
    arr = quadrants.groupby("quadrant")["arr"].sum()
    members = quadrants.groupby("quadrant").size()
    found = []
    for name in (FRUSTRATED, CHURN_RISK):
        mine = decisions[decisions[column] == name]
        if mine.empty or champions.empty:
            continue
        churned, base = int((mine["outcome"] == "churned").sum()), int((champions["outcome"] == "churned").sum())
        p = fisher_p(churned, len(mine), base, len(champions))
        money = mar.money_at_risk(_decision_units(mine), _decision_units(champions), float(arr.get(name, 0.0)))
        found.append({"key": name, "p": float(p), "money": money, "window": lookback,
                      "compared_with": "Champions", "accounts_now": int(members.get(name, 0)),
                      "arr_now": float(arr.get(name, 0.0)), "churned": churned, "decisions": len(mine),
                      "base_churned": base, "base_decisions": len(champions)})
    if found:
        for g, value in zip(found, bh_q_values(g["p"] for g in found)):
            g["q"] = float(value)
    return found


def systemic_wins(quadrants: pd.DataFrame, accounts: pd.DataFrame, slices: pd.DataFrame | None, missed: pd.DataFrame,
                  milestone_q: dict, runs: pd.DataFrame | None, tickets: pd.DataFrame | None, as_of: date, playbook: dict,
                  *, cohort: pd.DataFrame | None = None, decisions: pd.DataFrame | None = None,
                  features: pd.DataFrame | None = None, retention_window: str = "", lookback: str = "",
                  alpha: float = 0.05, min_points: float = 5.0, min_ratio: float = 1.25) -> pd.DataFrame:
    """Systemic wins (see the module docstring), each with its money at risk
    where a comparison stands behind it. ``cohort``: ``cohort.csv``;
    ``decisions``: ``decisions.csv``; ``features``: the behaviour features
    of each decision (``behaviour_features.csv``); ``retention_window`` and
    ``lookback``: the two windows in words, for the ``window`` column."""
    arr = quadrants.set_index("account_id")["arr"]
    active = set(arr.index)
    rows = []

    def exposed(ids) -> tuple[int, float]:
        ids = set(ids) & active
        return len(ids), float(arr.reindex(list(ids)).sum())

    def row(gap, action, owner, at_stake, evidence, key, q=np.nan, money=None, window="", compared_with="",
            members=()):
        tested = bool(q == q and q < alpha)
        money = money or {}
        why = not_first_reason(q, alpha, money, min_points, min_ratio)
        rows.append({"gap": gap, "key": key, "action": action, "owner": owner, "arr_at_stake": at_stake,
                     "evidence": evidence, "q_value": q, "tested": tested, "do_first": why == "",
                     "not_first": why, "window": window, "compared_with": compared_with,
                     "members": sorted(set(members) & active), **{k: money.get(k, np.nan) for k in MONEY}})

    for g in quadrant_gaps(decisions, quadrants, lookback):
        m = g["money"]
        row(f"{g['key']} quadrant", _action_for(playbook, playbook_key(g["key"], "systemic"), g["key"]),
            "Customer Success leadership",
            g["arr_now"], f"{words.plural(g['accounts_now'], 'active account')} in the quadrant now; over the "
            f"look-back, {g['churned']:,} of {words.plural(g['decisions'], 'renewal decision')} held in it 90 days "
            f"before churned ({100 * m['exposed_churn_rate']:.1f}%) against {g['base_churned']:,} of "
            f"{g['base_decisions']:,} for Champions ({100 * m['reference_churn_rate']:.1f}%)",
            g["key"], g["q"], m, g["window"], g["compared_with"],
            quadrants.loc[quadrants["quadrant"] == g["key"], "account_id"])
    if slices is not None and len(slices):
        if "known_flagged" not in slices.columns:  # a slices table from before the known comparison
            slices = slices.assign(known_flagged=slices["flagged"], known_rest_churn_rate=slices["rest_churn_rate"],
                                   known_q_value=slices["q_value"], unknown_accounts=0)
        # Compared with the dimension's other known values only: accounts with
        # no value are never part of "the rest" (slicing module docstring).
        worse = slices[slices["known_flagged"].astype(bool) & (slices["churn_rate"] > slices["known_rest_churn_rate"])]
        units = None
        if cohort is not None and len(cohort):
            units = mar.loss_units(cohort.set_index("account_id")["arr_start"], cohort.set_index("account_id")["arr_end"])
        attrs = accounts.drop_duplicates("account_id").set_index("account_id")
        for _, s in worse.iterrows():
            dim = s["dimension"]
            raw = attrs[dim]
            values = raw.astype(object).where(raw.notna(), "").map(lambda v: str(v).strip())
            members = values.index[values == str(s["value"])]
            others = values.index[(values != str(s["value"])) & ~values.map(is_unknown)]
            n, at_stake = exposed(members)
            money = None
            if units is not None:
                money = mar.money_at_risk(units[units.index.isin(members)], units[units.index.isin(others)], at_stake)
            owner = str(s["value"]) if dim == "csm" else "Customer Success leadership"
            unknowns = int(s.get("unknown_accounts", 0) or 0)
            apart = ""
            if unknowns:
                apart = (f"; {words.plural(unknowns, 'cohort account')} with no {words.dimension(dim)} recorded "
                         f"({100 * s['unknown_churn_rate']:.1f}% churned) {'is' if unknowns == 1 else 'are'} in "
                         "neither group")
            row(f"{words.slice_name(dim, s['value'])}: churn {100 * s['churn_rate']:.1f}% against "
                f"{100 * s['known_rest_churn_rate']:.1f}% for the other {words.dimension(dim)} values",
                playbook["slice"], owner, at_stake,
                f"{int(s['churned']):,} of {words.plural(int(s['accounts']), 'cohort account')} churned in the 12 months "
                f"to {as_of}; {words.plural(n, 'active account')} in the slice now{apart}",
                f"slice:{dim}={s['value']}", float(s["known_q_value"]), money, retention_window,
                f"the cohort's other known {words.dimension(dim)} values", members)
    for milestone, group in missed.groupby("milestone"):
        n, at_stake = exposed(group["account_id"])
        if not n:
            continue
        money, column = None, f"milestone_{milestone}"
        if features is not None and column in features.columns:
            done = features[column]
            known = features[done.notna()]
            finished = known[column].astype(str).str.lower().isin(["true", "1", "1.0"])
            money = mar.money_at_risk(_decision_units(known[~finished]), _decision_units(known[finished]), at_stake)
        q = milestone_q.get(milestone, np.nan)
        extra = "" if money is None else (f"; of the renewal decisions of the look-back, those without it 30 days "
                                          f"before churned at {100 * money['exposed_churn_rate']:.1f}% "
                                          f"({words.plural(money['exposed_units'], 'decision')}) against "
                                          f"{100 * money['reference_churn_rate']:.1f}% with it "
                                          f"({words.plural(money['reference_units'], 'decision')})")
        row(f"onboarding milestone \u201c{words.feature(milestone)}\u201d not completed",
            _action_for(playbook, "systemic_milestone", "missed_milestone"),
            "Onboarding", at_stake, f"{words.plural(n, 'active account')} {'has' if n == 1 else 'have'} not completed "
            f"it{extra}",
            f"milestone:{milestone}", q, money, lookback, "the decisions with the milestone done", group["account_id"])
    end = _end(as_of)
    start = end - pd.Timedelta(days=90)
    if runs is not None and len(runs):
        recent = runs[(runs["started_at"] >= start) & (runs["started_at"] < end)]
        abandoned = recent[recent["completed_at"].isna() | (recent["completed_at"] >= end)]
        if len(abandoned):
            step = abandoned.get("last_step", pd.Series("(not recorded)", index=abandoned.index)).fillna("(not recorded)")
            counts = abandoned.assign(step=step).groupby(["workflow", "step"]).agg(
                runs=("account_id", "size"), accounts=("account_id", "unique")).reset_index()
            top = counts.sort_values("runs", ascending=False).iloc[0]
            n, at_stake = exposed(top["accounts"])
            row(f"workflow {words.feature(top['workflow'])} abandoned at step {words.feature(top['step'])}",
                playbook["workflow_step"], "Product", at_stake,
                f"{words.plural(int(top['runs']), 'run')} abandoned there in the 90 days to {as_of}, by "
                f"{words.plural(n, 'active account')}; a count, not a test", "workflow_step", members=top["accounts"])
    if tickets is not None and "category" in tickets.columns:
        recent = tickets[(tickets["opened_at"] >= start) & (tickets["opened_at"] < end) & tickets["category"].notna()]
        if len(recent):
            by = recent.groupby("category").agg(tickets=("account_id", "size"), accounts=("account_id", "unique"))
            top_name = by["tickets"].idxmax()
            n, at_stake = exposed(by.loc[top_name, "accounts"])
            row(f"recurring ticket category {words.feature(top_name)}", playbook["ticket_category"], "Support", at_stake,
                f"{words.plural(int(by.loc[top_name, 'tickets']), 'ticket')} in the 90 days to {as_of} "
                f"({100 * by.loc[top_name, 'tickets'] / len(recent):.0f}% of all), from "
                f"{words.plural(n, 'active account')}; a count, not a test", "ticket_category",
                members=by.loc[top_name, "accounts"])
    out = pd.DataFrame(rows, columns=["gap", "key", "action", "owner", "arr_at_stake", "evidence", "q_value", "tested",
                                      "do_first", "not_first", "window", "compared_with", "members", *MONEY])
    out["q_value"] = out["q_value"].astype(float)
    out.insert(0, "account_id", "")
    out.insert(0, "kind", "systemic")
    return out


def _action_for(playbook: dict, key: str, fallback: str) -> str:
    """The playbook's action for ``key``, else for ``fallback``, else its default."""
    return playbook.get(key) or playbook.get(fallback) or playbook["default"]


def not_first_reason(q: float, alpha: float, money: dict, min_points: float, min_ratio: float) -> str:
    """Why a gap is not in Do first (a key of :data:`NOT_FIRST`), or "" when
    it is: its test passed after correction (q below ``alpha``), the exposed
    group churns more than the reference by at least the minimum effect
    (:func:`vga.analysis.money_at_risk.large_enough`), *and* the 95% interval
    of its money at risk lies above 0 (a gap that may cost nothing is not
    one to act on first, however small its q)."""
    if q != q:
        return "count"
    if not q < alpha:
        return "chance"
    exposed, reference = money.get("exposed_churn_rate", np.nan), money.get("reference_churn_rate", np.nan)
    if not (exposed == exposed and reference == reference and exposed > reference):
        return "no_worse"
    if not mar.large_enough(exposed, reference, min_points, min_ratio):
        return "small"
    low = money.get("money_at_risk_low", np.nan)
    if not (low == low and low > 0):
        return "may_be_zero"
    return ""


def do_first_total(systemic: pd.DataFrame, quadrants: pd.DataFrame) -> dict:
    """One total for the systemic Do first gaps, each account counted once:
    an active account in several gaps counts its ARR (as of the as-of date)
    times the largest excess ARR loss rate among them. Returns
    ``money_at_risk`` (in the data's currency), ``accounts`` (distinct active
    accounts), ``gaps`` (how many), ``sum_of_gaps`` (the gaps' own figures
    added, which counts an account in two gaps twice) and
    ``accounts_in_several`` (accounts in more than one gap)."""
    out = {"money_at_risk": 0.0, "accounts": 0, "gaps": 0, "sum_of_gaps": 0.0, "accounts_in_several": 0}
    if systemic is None or systemic.empty or "members" not in systemic.columns:
        return out
    first = systemic[systemic["do_first"].astype(bool)]
    if first.empty:
        return out
    arr = quadrants.drop_duplicates("account_id").set_index("account_id")["arr"].astype(float)
    pairs = first[["members", "excess_loss_rate"]].explode("members").dropna(subset=["members"])
    best = pairs.groupby("members")["excess_loss_rate"].agg(["max", "size"])
    total = float((arr.reindex(best.index).fillna(0.0) * best["max"]).sum())
    out.update(money_at_risk=total, accounts=int(len(best)), gaps=int(len(first)),
               sum_of_gaps=float(first["money_at_risk"].sum()), accounts_in_several=int((best["size"] > 1).sum()))
    return out


def price_account_wins(accounts: pd.DataFrame, systemic: pd.DataFrame) -> pd.DataFrame:
    """Account wins with the money of their gap: where the account's first
    gap is a tested group gap (its quadrant, a milestone), the group's
    excess loss rate times the account's ARR, with the interval scaled the
    same way; ``do_first`` as the group's. Other gaps carry no money."""
    out = accounts.copy()
    for column in MONEY:
        out[column] = np.nan
    out["tested"], out["do_first"], out["window"], out["compared_with"] = False, False, "", ""
    out["not_first"] = "count"
    if systemic.empty or out.empty:
        return out
    groups = systemic[systemic["tested"]].set_index("key")
    for i, r in out.iterrows():
        if r["key"] not in groups.index:
            continue
        g = groups.loc[r["key"]]
        if isinstance(g, pd.DataFrame):
            g = g.iloc[0]
        rate, low, high = g["excess_loss_rate"], np.nan, np.nan
        if g["arr_at_stake"] > 0 and g["money_at_risk_low"] == g["money_at_risk_low"]:
            low, high = g["money_at_risk_low"] / g["arr_at_stake"], g["money_at_risk_high"] / g["arr_at_stake"]
        out.loc[i, ["money_at_risk", "money_at_risk_low", "money_at_risk_high"]] = [
            r["arr_at_stake"] * rate, r["arr_at_stake"] * low, r["arr_at_stake"] * high]
        out.loc[i, ["exposed_churn_rate", "reference_churn_rate", "exposed_loss_rate", "reference_loss_rate",
                    "excess_loss_rate"]] = [g["exposed_churn_rate"], g["reference_churn_rate"], g["exposed_loss_rate"],
                                            g["reference_loss_rate"], rate]
        out.loc[i, ["q_value", "tested", "do_first", "not_first", "window", "compared_with"]] = [
            g["q_value"], True, bool(g["do_first"]), g["not_first"], g["window"], g["compared_with"]]
    return out


def playbook_key(key: str, kind: str) -> str:
    """The playbook's (and ``[quick_wins.owners]``') name for the action of
    a gap with internal ``key``: a systemic gap of a quadrant or a
    milestone has an action for the whole group (``systemic_frustrated``,
    ``systemic_churn_risk``, ``systemic_milestone``), a slice ``slice``; an
    account win its own gap's (``missed_milestone`` for a milestone)."""
    if key.startswith("slice:"):
        return "slice"
    if key.startswith("milestone:"):
        return "systemic_milestone" if kind == "systemic" else "missed_milestone"
    if kind == "systemic":
        return SYSTEMIC_KEYS.get(key, key)
    return key


def _owned_by(key: str, kind: str) -> str:
    """Which owners a gap's action can have: the accounts' CSMs (quadrant,
    slice, milestone, account) or only a role or team (a workflow step, a
    ticket category)."""
    if kind == "account":
        return "account"
    if key.startswith("slice:"):
        return "slice"
    if key.startswith("milestone:"):
        return "milestone"
    return "quadrant" if key in (FRUSTRATED, CHURN_RISK) else key


def next_renewals(accounts: pd.DataFrame, as_of: date) -> pd.Series:
    """account_id -> its next renewal date after ``as_of``
    (``accounts.renewal_date``; missing when none is given or it has passed)."""
    if "renewal_date" not in accounts.columns:
        return pd.Series(dtype="datetime64[ns]")
    due = pd.to_datetime(accounts.drop_duplicates("account_id").set_index("account_id")["renewal_date"], errors="coerce")
    return due[due > pd.Timestamp(as_of)]


def due_date(members, arr: pd.Series, renewals: pd.Series, as_of: date, due_days: int) -> tuple[date, str]:
    """When an action on ``members`` (active account ids) is due, and why in
    words: the day before the date by which :data:`DUE_ARR_SHARE` of their
    ARR (as of ``as_of``) has come up for renewal, when that is sooner than
    ``due_days`` days from ``as_of``; never sooner than
    :data:`MIN_DUE_DAYS` days (a week to act)."""
    start = pd.Timestamp(as_of)
    cap, floor = start + pd.Timedelta(days=int(due_days)), start + pd.Timedelta(days=MIN_DUE_DAYS)
    ids = list(members)
    held = arr.reindex(ids).fillna(0.0)
    dates = renewals.reindex(ids).dropna().sort_values()
    total = float(held.sum())
    when = None
    if len(dates) and total > 0:
        reached = held.reindex(dates.index).cumsum() >= DUE_ARR_SHARE * total - 1e-9
        if reached.any():
            when = dates[reached.to_numpy()].iloc[0]
    one = len(ids) == 1
    if when is not None and when - pd.Timedelta(days=1) < cap:
        due = max(floor, when - pd.Timedelta(days=1))
        what = "its renewal" if one else "a quarter of its ARR comes up for renewal"
        if due == floor and when - pd.Timedelta(days=1) < floor:
            return due.date(), f"a week from the as-of date: {what} by {when.date().isoformat()}"
        return due.date(), f"before {what} on {when.date().isoformat()}" if one else \
            f"before {what} (by {when.date().isoformat()})"
    return cap.date(), f"{int(due_days)} days from the as-of date"


def plan_actions(wins: pd.DataFrame, accounts: pd.DataFrame, quadrants: pd.DataFrame, as_of: date,
                 roles: dict | None = None, due_days: int = 30) -> pd.DataFrame:
    """Each win with what a person needs to own it: ``accounts`` (the
    active accounts it covers), ``owner`` and ``owner_basis`` (in words),
    ``due_date`` and ``due_basis`` (:func:`due_date`), and ``members`` (the
    covered account ids, internal). The owner of a systemic gap is, in
    order: the role ``roles`` maps its kind to (``[quick_wins.owners]``,
    keys as the playbook's); for a quadrant, slice or milestone, the
    accounts' CSM when they share one, else the CSM holding the most of
    their ARR (each account's CSM is in the account list); else the team
    the gap's kind belongs to. An account win's owner is the account's CSM,
    else the role set for its gap."""
    roles = dict(roles or {})
    out = wins.copy()
    arr = quadrants.drop_duplicates("account_id").set_index("account_id")["arr"].astype(float)
    csm = (accounts.drop_duplicates("account_id").set_index("account_id")["csm"].astype(object)
           .where(lambda c: c.notna(), "").map(lambda v: str(v).strip())
           if "csm" in accounts.columns else pd.Series(dtype=object))
    renewals = next_renewals(accounts, as_of)
    if "members" not in out.columns:
        out["members"] = None
    covered, owners, bases, dues, due_why = [], [], [], [], []
    for _, w in out.iterrows():
        kind, key = w["kind"], str(w.get("key") or "")
        members = [w["account_id"]] if kind == "account" else list(w["members"] if isinstance(w["members"], (list, tuple, np.ndarray)) else [])
        role = roles.get(playbook_key(key, kind)) if kind == "systemic" else None
        owner, basis = str(w["owner"]), "team for this kind of gap"
        if kind == "account":
            basis = "the account's CSM"
            if owner == NO_OWNER and roles.get(playbook_key(key, kind)):
                owner, basis = roles[playbook_key(key, kind)], "role set for this kind of gap (the account has no CSM)"
        elif role:
            owner, basis = str(role), "role set for this kind of gap"
        elif _owned_by(key, kind) in CSM_OWNED and len(csm):
            mine = csm.reindex(members).fillna("")
            named = mine[mine != ""]
            if len(named):
                by = arr.reindex(named.index).fillna(0.0).groupby(named).sum().sort_index()
                lead = by.sort_values(ascending=False, kind="stable").index[0]
                none = int((mine == "").sum())
                apart = f"; {words.plural(none, 'account')} with no CSM" if none else ""
                if len(by) == 1:
                    owner, basis = lead, f"CSM of {'the account' if len(named) == 1 else 'all ' + words.plural(len(named), 'account')}{apart}"
                else:
                    owner, basis = lead, (f"the CSM with the most of this ARR; {words.plural(len(by) - 1, 'other CSM')} "
                                          f"hold the rest (each account's CSM is in the account list){apart}")
        due, why = due_date(members, arr, renewals, as_of, due_days)
        covered.append(members)
        owners.append(owner)
        bases.append(basis)
        dues.append(due)
        due_why.append(why)
    out["members"] = covered
    out["accounts"] = [len(m) for m in covered]
    out["owner"], out["owner_basis"], out["due_date"], out["due_basis"] = owners, bases, pd.to_datetime(dues), due_why
    return out


def action_accounts(ranked: pd.DataFrame, accounts: pd.DataFrame, quadrants: pd.DataFrame, as_of: date,
                    names: pd.Series) -> pd.DataFrame:
    """The accounts each Do first action covers, one row per (action,
    account), largest ARR first within an action: ``rank``, ``gap``,
    ``account_id``, ``account_name``, ``csm``, ``arr`` (at ``as_of``),
    ``health_color``, ``quadrant``, ``next_renewal_date``, ``due_date``.
    ``ranked`` carries the internal ``members`` of :func:`plan_actions`."""
    columns = ["rank", "gap", "account_id", "account_name", "csm", "arr", "health_color", "quadrant",
               "next_renewal_date", "due_date"]
    first = ranked[ranked["do_first"].astype(bool)] if "members" in ranked.columns else ranked.iloc[0:0]
    if first.empty:
        return pd.DataFrame(columns=columns)
    rows = first[["rank", "gap", "members", "due_date"]].explode("members").dropna(subset=["members"])
    rows = rows.rename(columns={"members": "account_id"})
    q = quadrants.drop_duplicates("account_id").set_index("account_id")
    csm = (accounts.drop_duplicates("account_id").set_index("account_id")["csm"] if "csm" in accounts.columns
           else pd.Series(dtype=object))
    rows["account_name"] = rows["account_id"].map(names[~names.index.duplicated()]).fillna("")
    rows["csm"] = rows["account_id"].map(csm).fillna("")
    rows["arr"] = rows["account_id"].map(q["arr"]).astype(float)
    for column in ("health_color", "quadrant"):
        rows[column] = rows["account_id"].map(q[column]).fillna("") if column in q.columns else ""
    dates = next_renewals(accounts, as_of)
    rows["next_renewal_date"] = pd.to_datetime(rows["account_id"].map(dates.to_dict()), errors="coerce")
    rows["due_date"] = pd.to_datetime(rows["due_date"])
    rows = rows.sort_values(["rank", "arr", "account_id"], ascending=[True, False, True])
    return rows[columns].reset_index(drop=True)


def rank(wins: pd.DataFrame) -> pd.DataFrame:
    """All wins ranked and numbered from 1: the ``do_first`` ones by money at
    risk, then the rest by money at risk (where known) and ARR at stake;
    systemic before account on ties. Columns :data:`COLUMNS` (the internal
    ``key`` is dropped; ``members``, of :func:`plan_actions`, is kept when
    given, for :func:`action_accounts`)."""
    out = wins.copy()
    for column in COLUMNS[1:]:
        if column not in out.columns:
            out[column] = False if column in ("tested", "do_first") else "" if column in ("window", "compared_with") \
                else np.nan
    out["do_first"] = out["do_first"].fillna(False).astype(bool)
    out["tested"] = out["tested"].fillna(False).astype(bool)
    reason = out["not_first"].fillna("").astype(str)
    out["not_first"] = reason.where(out["do_first"] | (reason != ""), "count").where(~out["do_first"], "")
    out = out.assign(_kind=out["kind"].map({"systemic": 0, "account": 1}), _first=~out["do_first"],
                     _money=out["money_at_risk"].fillna(-np.inf))
    out = out.sort_values(["_first", "_money", "arr_at_stake", "_kind", "account_id", "gap"],
                          ascending=[True, False, False, True, True, True])
    out = out.reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out[COLUMNS + (["members"] if "members" in out.columns else [])]


def per_owner(wins: pd.DataFrame, names: pd.Series) -> dict[str, pd.DataFrame]:
    """The account wins split by owner (CSM), in the ranking's order, with
    the account's name beside its id and the money at risk where known."""
    accounts = wins[wins["kind"] == "account"].copy()
    accounts.insert(3, "account_name", accounts["account_id"].map(names).fillna(""))
    keep = ["rank", "account_id", "account_name", "gap", "action", "arr_at_stake", "money_at_risk", "evidence"]
    return {owner: group[keep].reset_index(drop=True)
            for owner, group in sorted(accounts.groupby("owner"), key=lambda kv: str(kv[0]))}
