"""Step 8, quick wins: ranked actions with an owner and a due date, the accounts each Do first action
covers, and per-CSM action lists."""

from __future__ import annotations

import pandas as pd

from ..outputs import (BEHAVIOURS_CSV, BEHAVIOUR_FEATURES_CSV, CHURNED_CUSTOMERS_JSON, COHORT_CSV, CSM_ACTIONS_CSV,
    CSM_ACTIONS_XLSX, DECISIONS_CSV, DO_FIRST_ACCOUNTS_CSV, QUADRANTS_CSV, QUADRANT_VIEW_JSON, QUICK_WINS_CSV, QUICK_WINS_JSON, SLICES_CSV)
from ..analysis import quick_wins as qw
from ..analysis.frames import account_names
from . import Context, Node, Output


def flagged_milestones(behaviours: pd.DataFrame | None) -> dict[str, float]:
    """Milestones renewed customers complete significantly more often than
    churned ones, with the q value of that difference."""
    if behaviours is None or behaviours.empty:
        return {}
    rows = behaviours[(behaviours["comparison"] == "retained vs churned") & behaviours["flagged"]
                      & behaviours["measure"].str.startswith("milestone_") & (behaviours["difference"] > 0)]
    return {m[len("milestone_"):]: float(v) for m, v in sorted(zip(rows["measure"], rows["q_value"]))}


def compute(run: Context, upstream: dict) -> dict:
    quadrants = upstream[QUADRANTS_CSV]
    playbook = qw.playbook_for(run.settings.quick_wins.playbook, run.inputs.has("support_tickets"),
                               run.inputs.has("surveys"))
    facts = {"reason": None, "playbook": playbook}
    if not upstream[QUADRANT_VIEW_JSON]["covered"] or quadrants is None or quadrants.empty:
        facts["reason"] = upstream[QUADRANT_VIEW_JSON].get("reason") or "no active account at the as-of date"
        return {QUICK_WINS_CSV: pd.DataFrame(columns=qw.COLUMNS), QUICK_WINS_JSON: facts, CSM_ACTIONS_XLSX: None,
                CSM_ACTIONS_CSV: None, DO_FIRST_ACCOUNTS_CSV: None}
    accounts = run.inputs.table("accounts")
    owners = (accounts.set_index("account_id")["csm"] if "csm" in accounts.columns
              else pd.Series(dtype=object))
    milestones = flagged_milestones(upstream[BEHAVIOURS_CSV])
    missed = qw.missed_milestones(run.inputs.table("onboarding", needs=("completed_at",)), list(milestones), run.period.as_of)
    missed = missed[missed["account_id"].isin(set(quadrants["account_id"]))]
    analysis, rules = run.settings.analysis, run.settings.quick_wins
    lookback = upstream[CHURNED_CUSTOMERS_JSON].get("lookback_start")
    systemic = qw.systemic_wins(
        quadrants, accounts, upstream[SLICES_CSV], missed, milestones,
        run.inputs.table("workflow_runs", needs=("completed_at",)), run.inputs.table("support_tickets"), run.period.as_of, playbook,
        cohort=upstream[COHORT_CSV], decisions=upstream[DECISIONS_CSV],
        features=upstream.get(BEHAVIOUR_FEATURES_CSV),
        retention_window=f"the 12 months to {run.period.as_of.isoformat()}",
        lookback=f"renewal decisions from {lookback} to {run.period.as_of.isoformat()}" if lookback else "",
        alpha=float(analysis.alpha), min_points=float(rules.min_churn_points),
        min_ratio=float(rules.min_rate_ratio))
    singles = qw.account_wins(quadrants, owners, qw.open_escalations(run.inputs.table("support_tickets"), run.period.as_of),
                              missed, playbook, int(rules.max_account_wins))
    wins = pd.concat([qw.price_account_wins(singles, systemic), systemic], ignore_index=True)
    wins = qw.plan_actions(wins, accounts, quadrants, run.period.as_of, dict(rules.owners), int(rules.due_days))
    ranked = qw.rank(wins)
    names = account_names(accounts, run.settings.analysis)
    listed = qw.action_accounts(ranked, accounts, quadrants, run.period.as_of, names)
    ranked = ranked.drop(columns="members")
    facts["do_first_total"] = qw.do_first_total(systemic, quadrants)
    facts.update(milestones=sorted(milestones), account_wins=int((ranked["kind"] == "account").sum()),
                 do_first=int(ranked["do_first"].sum()), min_churn_points=float(rules.min_churn_points),
                 min_rate_ratio=float(rules.min_rate_ratio),
                 systemic_wins=int((ranked["kind"] == "systemic").sum()), has_csm=bool("csm" in accounts.columns))
    facts["due_days"] = int(rules.due_days)
    lists = qw.per_owner(ranked, names)
    flat = pd.concat([f.assign(owner=o) for o, f in lists.items()], ignore_index=True) if lists else None
    book = {qw.DO_FIRST_SHEET: listed, **lists} if len(listed) else lists
    return {QUICK_WINS_CSV: ranked, QUICK_WINS_JSON: facts, CSM_ACTIONS_XLSX: book or None,
            CSM_ACTIONS_CSV: flat, DO_FIRST_ACCOUNTS_CSV: listed if len(listed) else None}


NODE = Node(
    key="quick_wins", title="Quick wins", compute=compute,
    needs=("quadrant_view", "pattern_slicing", "renewed_customers", "churned_customers", "retention"),
    outputs=(
        Output(QUICK_WINS_CSV, "ranked actions: rank, kind, account, gap, action, owner, ARR at stake, evidence, "
                                 "then the test behind it, why it is not in Do first, the churn and ARR loss rates the money "
                                 "comes from and the money at risk with its 95% interval",
               {"rank": "int", "kind": "str", "account_id": "str", "gap": "str", "action": "str", "owner": "str",
                "arr_at_stake": "float", "evidence": "str", "q_value": "float", "tested": "bool", "do_first": "bool",
                "not_first": "str", "window": "str", "compared_with": "str", **{c: "float" for c in qw.MONEY},
                "accounts": "int", "owner_basis": "str", "due_date": "date", "due_basis": "str"}),
        Output(QUICK_WINS_JSON, "the playbook used, the milestones treated as gaps, counts of wins by kind, and "
                                  "do_first_total: the Do first gaps' money at risk with each account counted once"),
        Output(CSM_ACTIONS_XLSX, "the account wins as one workbook, a sheet per CSM, safe to open in a spreadsheet; "
                                   "first, when there is one, a sheet 'Do first accounts': the accounts each Do "
                                   "first action covers", optional=True),
        Output(DO_FIRST_ACCOUNTS_CSV, "the accounts each Do first action covers: rank, gap, account, CSM, ARR, "
                                        "health colour, quadrant, next renewal and the action's due date",
               {"rank": "int", "gap": "str", "account_id": "str", "account_name": "str", "csm": "str", "arr": "float",
                "health_color": "str", "quadrant": "str", "next_renewal_date": "date", "due_date": "date"},
               optional=True),
        Output(CSM_ACTIONS_CSV, "the same lists in one CSV with an owner column, safe to open in a spreadsheet",
               {"rank": "int", "account_id": "str", "account_name": "str", "gap": "str", "action": "str",
                "arr_at_stake": "float", "money_at_risk": "float", "evidence": "str", "owner": "str"}, optional=True),
    ),
)
