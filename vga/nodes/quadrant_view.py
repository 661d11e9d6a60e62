"""The Usage-Health quadrant (step 7) and product usage over time."""

from __future__ import annotations

import pandas as pd

from ..outputs import (CHAMPION_FEATURES_CSV, CHURNED_CUSTOMERS_JSON, DECISIONS_CSV, QUADRANTS_CSV,
    QUADRANT_CHURN_CSV, QUADRANT_VIEW_JSON, USAGE_TREND_CSV, WORKFLOW_ABANDONMENT_CSV)
from ..analysis import quadrant as q
from ..analysis.decisions import HISTORY_NEEDED, missing_groups, quadrant_churn
from ..analysis.usage_health import (QUADRANT_COLUMNS, champion_features, has_history, quadrants_now_and_before,
                                     usage_trend, workflow_abandonment)
from . import Context, Node, Output


def compute(run: Context, upstream: dict) -> dict:
    coverage = run.coverage
    facts = {"covered": coverage.covers_as_of, "reason": coverage.reason, "previous_period": run.period.previous_label,
             "has_history": has_history(run.inputs), "previous_run_found": run.inputs.previous_quadrants is not None,
             "reasons": {}}  # output name -> why it is empty, in words
    trend = usage_trend(run.inputs, run.period.as_of, run.settings.usage.core_features)
    if not coverage.covers_as_of:
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in QUADRANT_COLUMNS})
        return {QUADRANTS_CSV: empty, QUADRANT_VIEW_JSON: facts, USAGE_TREND_CSV: trend,
                WORKFLOW_ABANDONMENT_CSV: None, QUADRANT_CHURN_CSV: None, CHAMPION_FEATURES_CSV: None}
    decisions = upstream[DECISIONS_CSV]
    churn = quadrant_churn(decisions, lead=90) if decisions is not None and len(decisions) else None
    apart = (missing_groups(decisions, second=("renewed", "expanded", "downgraded")) if churn is not None
             else None)
    if churn is None:
        facts["reasons"][QUADRANT_CHURN_CSV] = "there is no renewal decision in the look-back window"
    elif apart:  # every decision churned (a cancellations-only export) or none did: no rate tells quadrants apart
        churn = None
        facts["reasons"][QUADRANT_CHURN_CSV] = apart
    elif (churn["quadrant"] == q.UNSCORED).all():
        churn = None
        facts["reasons"][QUADRANT_CHURN_CSV] = (
            "no account had both a usage and a health score 90 days before its decision, so no decision has a "
            f"quadrant: {HISTORY_NEEDED}" + (" (the data is a snapshot)" if coverage.snapshot else ""))
    facts["quadrant_churn_lead_days"] = 90
    facts["quadrant_churn_from"] = upstream[CHURNED_CUSTOMERS_JSON].get("lookback_start")
    quadrants, facts["previous_quadrants"] = quadrants_now_and_before(run.inputs, run.period, run.settings)
    if quadrants.empty:
        facts["reason"] = (f"no account has ARR above 0 on {run.period.as_of.isoformat()}, so no account is active; the "
                           "quadrant needs accounts with ARR (accounts.arr, or renewals)")
    features, facts["reasons"][CHAMPION_FEATURES_CSV] = champion_features(run.inputs, quadrants, run.period.as_of,
                                                                             run.settings.analysis.alpha)
    return {
        QUADRANTS_CSV: quadrants,
        QUADRANT_CHURN_CSV: churn,
        CHAMPION_FEATURES_CSV: features,
        QUADRANT_VIEW_JSON: facts,
        USAGE_TREND_CSV: trend,
        WORKFLOW_ABANDONMENT_CSV: workflow_abandonment(run.inputs.table("workflow_runs", needs=("completed_at",)), run.period.as_of),
    }


NODE = Node(
    key="quadrant_view", title="The Usage-Health quadrant", compute=compute,
    needs=("churned_customers",),
    outputs=(
        Output(QUADRANTS_CSV, "one row per active account: ARR, scores, colour, quadrant, movement, components",
               {"account_id": "str", "arr": "float", "usage_score": "float", "health_score": "float",
                "health_color": "str", "quadrant": "str", "previous_quadrant": "str", "moved": "bool",
                "usage_source": "str", "health_source": "str", "explanation": "str", "account_name": "str",
                "health_signals_used": "str", "health_signals_stale": "str", "previous_health_color": "str",
                "health_as_of": "date"}),
        Output(QUADRANT_VIEW_JSON, "whether the period is covered, and where the previous quadrant came from"),
        Output(USAGE_TREND_CSV, "per fully covered month: accounts with use, events, median depth and adoption",
               {"month": "date", "active_accounts": "int", "events": "int", "median_events_per_session": "float",
                "median_core_adoption": "float"}, optional=True),
        Output(WORKFLOW_ABANDONMENT_CSV, "per workflow and last step: abandoned runs and their share",
               {"workflow": "str", "last_step": "str", "abandoned_runs": "int", "share": "float"}, optional=True),
        Output(QUADRANT_CHURN_CSV, "per quadrant held 90 days before each decision of the look-back: decisions, "
                                     "churned, churn rate, ARR churned",
               {"quadrant": "str", "decisions": "int", "churned": "int", "churn_rate": "float", "arr_churned": "float"},
               optional=True),
        Output(CHAMPION_FEATURES_CSV, "per feature: share of Champions and of other scored accounts using it "
                                        "in the 90 days to the as-of date, difference, interval, p and q values",
               {"feature": "str", "champions": "int", "champions_share": "float", "others": "int",
                "others_share": "float", "difference": "float", "ci_lower": "float", "ci_upper": "float",
                "p_value": "float", "q_value": "float", "flagged": "bool", "tested": "bool"}, optional=True),
    ),
)
