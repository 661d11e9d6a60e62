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
alpha); ``do_first``: tested, churning more than the reference, and by
enough to act on (:func:`vga.analysis.money_at_risk.large_enough`). Ranked: the
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
from .voice import open_tickets

#: The spec's columns, then the money and test columns (module docstring).
COLUMNS = ["rank", "kind", "account_id", "gap", "action", "owner", "arr_at_stake", "evidence", "q_value", "tested",
           "do_first", "window", "compared_with", "exposed_churn_rate", "reference_churn_rate", "excess_loss_rate",
           "arr_kept", "arr_kept_low", "arr_kept_high", "money_at_risk", "money_at_risk_low", "money_at_risk_high"]
MONEY = ["exposed_churn_rate", "reference_churn_rate", "excess_loss_rate", "arr_kept", "arr_kept_low",
         "arr_kept_high", "money_at_risk", "money_at_risk_low", "money_at_risk_high"]
COLOR_ORDER = {"red": 0, "yellow": 1, "lime": 2, "green": 3}
USAGE_DROP_POINTS = 15.0
NO_OWNER = "(no CSM)"
#: The lead at which a decision's quadrant is taken (as quadrant_churn.csv).
QUADRANT_LEAD = 90


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

    def row(gap, action, owner, at_stake, evidence, key, q=np.nan, money=None, window="", compared_with=""):
        tested = bool(q == q and q < alpha)
        money = money or {}
        big = tested and mar.large_enough(money.get("exposed_churn_rate", np.nan),
                                          money.get("reference_churn_rate", np.nan), min_points, min_ratio)
        rows.append({"gap": gap, "key": key, "action": action, "owner": owner, "arr_at_stake": at_stake,
                     "evidence": evidence, "q_value": q, "tested": tested, "do_first": bool(big), "window": window,
                     "compared_with": compared_with, **{k: money.get(k, np.nan) for k in MONEY}})

    for g in quadrant_gaps(decisions, quadrants, lookback):
        m = g["money"]
        row(f"{g['key']} quadrant", playbook.get(g["key"], playbook["default"]), "Customer Success leadership",
            g["arr_now"], f"{words.plural(g['accounts_now'], 'active account')} in the quadrant now; over the "
            f"look-back, {g['churned']:,} of {words.plural(g['decisions'], 'renewal decision')} held in it 90 days "
            f"before churned ({100 * m['exposed_churn_rate']:.1f}%) against {g['base_churned']:,} of "
            f"{g['base_decisions']:,} for Champions ({100 * m['reference_churn_rate']:.1f}%)",
            g["key"], g["q"], m, g["window"], g["compared_with"])
    if slices is not None and len(slices):
        worse = slices[slices["flagged"] & (slices["churn_rate"] > slices["rest_churn_rate"])]
        units = None
        if cohort is not None and len(cohort):
            units = mar.loss_units(cohort.set_index("account_id")["arr_start"], cohort.set_index("account_id")["arr_end"])
        attrs = accounts.drop_duplicates("account_id").set_index("account_id")
        for _, s in worse.iterrows():
            values = attrs[s["dimension"]].astype(str).str.strip()
            members = values.index[values == str(s["value"])]
            n, at_stake = exposed(members)
            money = None
            if units is not None:
                inside = units.index.isin(members)
                money = mar.money_at_risk(units[inside], units[~inside], at_stake)
            owner = str(s["value"]) if s["dimension"] == "csm" else "Customer Success leadership"
            row(f"{words.slice_name(s['dimension'], s['value'])}: churn {100 * s['churn_rate']:.1f}% against "
                f"{100 * s['rest_churn_rate']:.1f}% for the rest", playbook["slice"], owner, at_stake,
                f"{int(s['churned']):,} of {words.plural(int(s['accounts']), 'cohort account')} churned in the 12 months "
                f"to {as_of}; {words.plural(n, 'active account')} in the slice now",
                f"slice:{s['dimension']}={s['value']}", float(s["q_value"]), money, retention_window, "the rest of the cohort")
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
        extra = "" if money is None else (f"; over the look-back, decisions without it churned at "
                                          f"{100 * money['exposed_churn_rate']:.1f}% against "
                                          f"{100 * money['reference_churn_rate']:.1f}% with it")
        row(f"onboarding milestone {words.feature(milestone)} not completed", playbook["missed_milestone"],
            "Onboarding", at_stake, f"{words.plural(n, 'active account')} have not completed it{extra}",
            f"milestone:{milestone}", q, money, lookback, "the decisions with the milestone done")
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
                f"{words.plural(n, 'active account')}; a count, not a test", "workflow_step")
    if tickets is not None and "category" in tickets.columns:
        recent = tickets[(tickets["opened_at"] >= start) & (tickets["opened_at"] < end) & tickets["category"].notna()]
        if len(recent):
            by = recent.groupby("category").agg(tickets=("account_id", "size"), accounts=("account_id", "unique"))
            top_name = by["tickets"].idxmax()
            n, at_stake = exposed(by.loc[top_name, "accounts"])
            row(f"recurring ticket category {words.feature(top_name)}", playbook["ticket_category"], "Support", at_stake,
                f"{words.plural(int(by.loc[top_name, 'tickets']), 'ticket')} in the 90 days to {as_of} "
                f"({100 * by.loc[top_name, 'tickets'] / len(recent):.0f}% of all), from "
                f"{words.plural(n, 'active account')}; a count, not a test", "ticket_category")
    out = pd.DataFrame(rows, columns=["gap", "key", "action", "owner", "arr_at_stake", "evidence", "q_value", "tested",
                                      "do_first", "window", "compared_with", *MONEY])
    out["q_value"] = out["q_value"].astype(float)
    out.insert(0, "account_id", "")
    out.insert(0, "kind", "systemic")
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
        out.loc[i, ["exposed_churn_rate", "reference_churn_rate", "excess_loss_rate"]] = [
            g["exposed_churn_rate"], g["reference_churn_rate"], rate]
        out.loc[i, ["q_value", "tested", "do_first", "window", "compared_with"]] = [
            g["q_value"], True, bool(g["do_first"]), g["window"], g["compared_with"]]
    return out


def rank(wins: pd.DataFrame) -> pd.DataFrame:
    """All wins ranked and numbered from 1: the ``do_first`` ones by money at
    risk, then the rest by money at risk (where known) and ARR at stake;
    systemic before account on ties. Columns :data:`COLUMNS` (the internal
    ``key`` is dropped)."""
    out = wins.copy()
    for column in COLUMNS[1:]:
        if column not in out.columns:
            out[column] = False if column in ("tested", "do_first") else "" if column in ("window", "compared_with") \
                else np.nan
    out["do_first"] = out["do_first"].fillna(False).astype(bool)
    out["tested"] = out["tested"].fillna(False).astype(bool)
    out = out.assign(_kind=out["kind"].map({"systemic": 0, "account": 1}), _first=~out["do_first"],
                     _money=out["money_at_risk"].fillna(-np.inf))
    out = out.sort_values(["_first", "_money", "arr_at_stake", "_kind", "account_id", "gap"],
                          ascending=[True, False, False, True, True, True])
    out = out.reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out[COLUMNS]


def per_owner(wins: pd.DataFrame, names: pd.Series) -> dict[str, pd.DataFrame]:
    """The account wins split by owner (CSM), in the ranking's order, with
    the account's name beside its id and the money at risk where known."""
    accounts = wins[wins["kind"] == "account"].copy()
    accounts.insert(3, "account_name", accounts["account_id"].map(names).fillna(""))
    keep = ["rank", "account_id", "account_name", "gap", "action", "arr_at_stake", "money_at_risk", "evidence"]
    return {owner: group[keep].reset_index(drop=True)
            for owner, group in sorted(accounts.groupby("owner"), key=lambda kv: str(kv[0]))}
