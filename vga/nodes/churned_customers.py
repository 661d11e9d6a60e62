"""Step 3, churned customers: every decision of the look-back, what was lost
and why, and what the signals looked like 30, 60 and 90 days before."""

from __future__ import annotations

import pandas as pd

from ..outputs import (CHURNED_CUSTOMERS_JSON, CHURN_LABELS_CSV, CHURN_REASONS_CSV, CHURN_SIGNALS_CSV,
    CHURN_THEMES_CSV, DECISIONS_CSV)
from ..analysis.decisions import (DECISION_COLUMNS, LEADS, add_point_in_time, churn_label_agreement, decision_table,
                                  group_summary, HISTORY_NEEDED, lookback_start, missing_groups, reasons_by_arr, renewals_shape,
                                  signal_comparison)
from ..analysis.themes import themes_by_arr
from ..analysis.compare import COMPARISON_TYPES
from . import Context, Node, Output

def arr_lost_by_account(decisions: pd.DataFrame) -> pd.Series:
    """account_id -> ARR lost over the look-back (churn and downgrades), for weighting themes."""
    lost = decisions[decisions["outcome"].isin(["churned", "downgraded"])]
    return (lost["arr_before"] - lost["arr_after"]).groupby(lost["account_id"]).sum()


def compute(run: Context, upstream: dict) -> dict:
    analysis = run.settings.analysis
    months = int(analysis.churn_lookback_months)
    start = lookback_start(run.period.as_of, months)
    facts = {"lookback_months": months, "lookback_start": start.isoformat(), "as_of": run.period.as_of.isoformat(),
             "leads": list(LEADS), "reason": None, "has_interviews": run.inputs.has("interviews")}
    coverage = run.coverage
    renewals = run.inputs.table("renewals")
    if renewals is None:
        facts["reason"] = ("no renewals table was given, so there are no renewal decisions to study: export one row "
                           "per change of ARR (account_id, renewal_date, arr_before, arr_after) as renewals.csv")
    elif not coverage.covers_as_of:
        facts["reason"] = coverage.reason
    facts["renewals_shape"] = renewals_shape(renewals)
    labels = churn_label_agreement(run.inputs.churn_labels, renewals, run.inputs.table("accounts"), run.period.as_of)
    table = decision_table(renewals, run.period.as_of, months) if not facts["reason"] else None
    if table is not None and table.empty:
        facts["reason"] = (f"the renewals hold no decision in the look-back window: no row dated after {start.isoformat()} "
                           f"and on or before {run.period.as_of.isoformat()} had ARR before the change")
    if facts["reason"]:
        empty = decision_table(None, run.period.as_of, months)
        return {DECISIONS_CSV: add_point_in_time(empty, run.inputs, run.settings), CHURNED_CUSTOMERS_JSON: facts,
                CHURN_SIGNALS_CSV: None, CHURN_REASONS_CSV: None, CHURN_THEMES_CSV: None,
                CHURN_LABELS_CSV: labels}
    decisions = add_point_in_time(table, run.inputs, run.settings)
    facts.update(group_summary(decisions))
    facts["reasons"] = {}
    signals = signal_comparison(decisions, alpha=analysis.alpha)
    if not (signals["signal"] != "arr").any():  # ARR alone is known from renewals; the warning signs are not
        signals = None
        facts["reasons"][CHURN_SIGNALS_CSV] = missing_groups(decisions) or (
            "no decision has a health score, usage score or ticket count from 30 to 90 days before it: "
            + HISTORY_NEEDED + (" (the data is a snapshot)" if coverage.snapshot else ""))
    facts["scores_available"] = {
        signal: bool(decisions[f"{signal}_d{LEADS[0]}"].notna().any()) for signal in ("health_score", "usage_score", "tickets")
    }
    interviews = run.inputs.table("interviews")
    themes = None
    if interviews is not None:
        held = interviews[pd.to_datetime(interviews["held_at"]) <= pd.Timestamp(run.period.as_of)]
        churned = decisions.loc[decisions["group"] == "churned", "account_id"]
        themes = themes_by_arr(held, arr_lost_by_account(decisions), accounts=churned)
    return {
        DECISIONS_CSV: decisions,
        CHURNED_CUSTOMERS_JSON: facts,
        CHURN_SIGNALS_CSV: signals,
        CHURN_REASONS_CSV: reasons_by_arr(decisions),
        CHURN_THEMES_CSV: themes,
        CHURN_LABELS_CSV: labels,
    }


NODE = Node(
    key="churned_customers", title="Churned customers", compute=compute,
    outputs=(
        Output(DECISIONS_CSV, "one row per renewal decision of the look-back, with its signals 30, 60 and 90 days before",
               {"account_id": "str", "decision_date": "date", "outcome": "str", "arr_before": "float",
                "arr_after": "float", "churn_reason": "str", "group": "str",
                **{c: "float" for c in DECISION_COLUMNS[7:]}, **{f"quadrant_d{lead}": "str" for lead in LEADS}}),
        Output(CHURNED_CUSTOMERS_JSON, "the look-back window, decisions by outcome, accounts by group, ARR lost"),
        Output(CHURN_SIGNALS_CSV, "per lead and signal: churned against retained decisions, difference and interval",
               {"lead_days": "int", "signal": "str", "signal_name": "str", **COMPARISON_TYPES}, optional=True),
        Output(CHURN_REASONS_CSV, "churn reasons of churned and downgraded decisions, by ARR lost",
               {"churn_reason": "str", "decisions": "int", "accounts": "int", "arr_lost": "float", "arr_share": "float"},
               optional=True),
        Output(CHURN_THEMES_CSV, "interview themes of churned accounts, weighted by the ARR they took",
               {"theme": "str", "accounts": "int", "mentions": "int", "arr": "float", "arr_share": "float"}, optional=True),
        Output(CHURN_LABELS_CSV, "the export's other churn labels ([churn_labels]) counted against the figures' churn",
               {"label": "str", "accounts": "int", "also_churned_in_figures": "int", "only_in_label": "int",
                "only_in_figures": "int", "unknown_ids": "int", "left_after_as_of": "int"}, optional=True),
    ),
)
