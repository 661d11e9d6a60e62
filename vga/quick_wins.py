"""Quick wins: the actions to take first, ranked by the ARR they protect.

Two kinds (``results/quick_wins.csv``: ``rank``, ``kind``, ``account_id``,
``gap``, ``action``, ``owner``, ``arr_at_stake``, ``evidence``):

- **account** wins: one row per active account with a gap, the gap being
  the first of, in this order: Frustrated Power User, Churn Risk, an open
  escalated ticket, usage down 15 points or more since the previous period,
  health colour worse than at the previous period, an onboarding milestone
  not completed that renewed customers complete significantly more often
  than churned ones. The evidence lists every gap found for the account.
  ARR at stake: the account's ARR at the as-of date. Owner: its CSM.
- **systemic** wins: a slice flagged for churning more than the rest of the
  cohort; a milestone as above (all active accounts that miss it); the
  workflow step where most runs were abandoned in the 90 days to the as-of
  date; the support ticket category most often opened in those 90 days.
  ARR at stake: the ARR at the as-of date of the active accounts exposed.

Actions come from the configurable playbook (``[quick_wins.playbook]``,
gap -> action). Everything is as of the as-of date (nothing dated later).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from .quadrant import CHURN_RISK, FRUSTRATED
from .voice import open_tickets

COLUMNS = ["rank", "kind", "account_id", "gap", "action", "owner", "arr_at_stake", "evidence", "q_value"]
#: ``q_value`` (beyond the specified columns): the adjusted p-value behind a
#: systemic win where a test stands behind it (slice, milestone), else empty.
COLOR_ORDER = {"red": 0, "yellow": 1, "lime": 2, "green": 3}
USAGE_DROP_POINTS = 15.0
NO_OWNER = "(no CSM)"


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
    """Account-level wins (see the module docstring), the ``limit`` largest by ARR."""
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
            add(account, "open_escalation", f"{n} escalated ticket{'s' if n > 1 else ''} open")
        change = r.get("usage_change", np.nan)
        if pd.notna(change) and change <= -USAGE_DROP_POINTS:
            add(account, "usage_decline", f"usage score {change:+.0f} points since the previous period")
        before, now = r.get("previous_health_color", ""), r.get("health_color", "")
        if isinstance(before, str) and before and isinstance(now, str) and now and COLOR_ORDER[now] < COLOR_ORDER[before]:
            add(account, "health_drop", f"health colour {before} -> {now}")
    for account, group in missed.groupby("account_id"):
        add(account, "missed_milestone", "onboarding not done: " + ", ".join(sorted(group["milestone"])))
    arr = q.set_index("account_id")["arr"]
    rows = []
    for account, found in gaps.items():
        gap = found[0][0]
        rows.append({"kind": "account", "account_id": account, "gap": gap.replace("_", " "),
                     "action": playbook.get(gap, playbook["default"]), "owner": owners.get(account) or NO_OWNER,
                     "arr_at_stake": float(arr.get(account, 0.0)), "evidence": "; ".join(e for _, e in found)})
    out = pd.DataFrame(rows, columns=COLUMNS[1:-1])
    out["q_value"] = np.nan
    return out.sort_values(["arr_at_stake", "account_id"], ascending=[False, True]).head(limit)


def systemic_wins(quadrants: pd.DataFrame, accounts: pd.DataFrame, slices: pd.DataFrame | None, missed: pd.DataFrame,
                  milestone_q: dict, runs: pd.DataFrame | None, tickets: pd.DataFrame | None, as_of: date, playbook: dict) -> pd.DataFrame:
    """Systemic wins (see the module docstring)."""
    arr = quadrants.set_index("account_id")["arr"]
    active = set(arr.index)
    rows = []

    def exposed(ids) -> tuple[int, float]:
        ids = set(ids) & active
        return len(ids), float(arr.reindex(list(ids)).sum())

    if slices is not None and len(slices):
        worse = slices[slices["flagged"] & (slices["churn_rate"] > slices["rest_churn_rate"])]
        for _, s in worse.iterrows():
            members = accounts.loc[accounts[s["dimension"]].astype(str) == str(s["value"]), "account_id"]
            n, at_stake = exposed(members)
            owner = str(s["value"]) if s["dimension"] == "csm" else "Customer Success leadership"
            rows.append({"gap": f"{s['dimension']} = {s['value']}: churn {100 * s['churn_rate']:.1f}% against "
                                f"{100 * s['rest_churn_rate']:.1f}% elsewhere",
                         "action": playbook["slice"], "owner": owner, "arr_at_stake": at_stake,
                         "evidence": f"{int(s['churned'])} of {int(s['accounts'])} cohort accounts churned, q = "
                                     f"{s['q_value']:.2g}; {n} active accounts in the slice", "q_value": s["q_value"]})
    for milestone, group in missed.groupby("milestone"):
        n, at_stake = exposed(group["account_id"])
        if n:
            rows.append({"gap": f"onboarding milestone '{milestone}' not completed", "action": playbook["missed_milestone"],
                         "owner": "Onboarding", "arr_at_stake": at_stake,
                         "evidence": f"{n} active accounts have not completed it; renewed customers complete it "
                                     f"more often than churned ones (q = {milestone_q.get(milestone, float('nan')):.2g})",
                         "q_value": milestone_q.get(milestone)})
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
            rows.append({"gap": f"workflow '{top['workflow']}' abandoned at step '{top['step']}'",
                         "action": playbook["workflow_step"], "owner": "Product", "arr_at_stake": at_stake,
                         "evidence": f"{int(top['runs'])} runs abandoned there in the 90 days to {as_of}, by {n} "
                                     "active accounts"})
    if tickets is not None and "category" in tickets.columns:
        recent = tickets[(tickets["opened_at"] >= start) & (tickets["opened_at"] < end) & tickets["category"].notna()]
        if len(recent):
            by = recent.groupby("category").agg(tickets=("account_id", "size"), accounts=("account_id", "unique"))
            top_name = by["tickets"].idxmax()
            n, at_stake = exposed(by.loc[top_name, "accounts"])
            rows.append({"gap": f"recurring ticket category '{top_name}'", "action": playbook["ticket_category"],
                         "owner": "Support", "arr_at_stake": at_stake,
                         "evidence": f"{int(by.loc[top_name, 'tickets'])} tickets in the 90 days to {as_of} "
                                     f"({100 * by.loc[top_name, 'tickets'] / len(recent):.0f}% of all), from {n} "
                                     "active accounts"})
    out = pd.DataFrame(rows, columns=["gap", "action", "owner", "arr_at_stake", "evidence", "q_value"])
    out["q_value"] = out["q_value"].astype(float)
    out.insert(0, "account_id", "")
    out.insert(0, "kind", "systemic")
    return out


def rank(wins: pd.DataFrame) -> pd.DataFrame:
    """All wins by ARR at stake (largest first; systemic before account on ties), numbered from 1."""
    out = wins.assign(_kind=wins["kind"].map({"systemic": 0, "account": 1}))
    out = out.sort_values(["arr_at_stake", "_kind", "account_id", "gap"], ascending=[False, True, True, True])
    out = out.drop(columns="_kind").reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out[COLUMNS]


def per_owner(wins: pd.DataFrame, names: pd.Series) -> dict[str, pd.DataFrame]:
    """The account wins split by owner (CSM), each list largest ARR first,
    with the account's name beside its id."""
    accounts = wins[wins["kind"] == "account"].copy()
    accounts.insert(3, "account_name", accounts["account_id"].map(names).fillna(""))
    return {owner: group.drop(columns=["kind", "owner", "q_value"]).reset_index(drop=True)
            for owner, group in sorted(accounts.groupby("owner"), key=lambda kv: str(kv[0]))}
