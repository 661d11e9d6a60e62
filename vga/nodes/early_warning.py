"""Early warnings (shown in step 3): each signal backtested over the
decisions of the look-back, the CS team's health score among them."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd

from ..outputs import (CHURNED_CUSTOMERS_JSON, DECISIONS_CSV, EARLY_WARNING_CSV, EARLY_WARNING_DECISIONS_CSV,
    EARLY_WARNING_JSON)
from ..analysis.decisions import HISTORY_NEEDED, missing_groups
from ..analysis.early_warning import (EXTRA_COLUMNS, WARNING_COLUMNS, DayGrid, backtest, definitions, health_on_grid,
                                      health_signals, nps_detractor, settings_with_defaults, ticket_spike, usage_drop)
from ..analysis.scores import health_scores_for_pairs
from . import Context, Node, Output

SIGNAL_ORDER = ("usage_drop", "health_red", "health_drop", "nps_detractor", "ticket_spike", "health_below_threshold")
NEEDS = {"usage_drop": "usage_events", "nps_detractor": "surveys", "ticket_spike": "support_tickets"}


def compute(run: Context, upstream: dict) -> dict:
    analysis = run.settings.analysis
    s = settings_with_defaults(run.settings.early_warning)
    decisions = upstream[DECISIONS_CSV]
    facts = {"reason": upstream[CHURNED_CUSTOMERS_JSON].get("reason"), "span_days": 180, "settings": s,
             "not_given": [], "health_threshold": float(analysis.health_threshold),
             "red_below": float(analysis.health_colors[0])}
    if not facts["reason"] and (decisions is None or decisions.empty):
        facts["reason"] = "no renewal decisions in the look-back window"
    if not facts["reason"]:
        # A warning is judged on both sides: the churn it caught, the renewals it cried wolf for.
        gap = missing_groups(decisions)
        if gap:
            facts["reason"] = gap + "; a warning is judged on churned and on renewed decisions"
    if facts["reason"]:
        return {EARLY_WARNING_JSON: facts, EARLY_WARNING_CSV: None, EARLY_WARNING_DECISIONS_CSV: None}
    decisions = decisions.reset_index(drop=True)
    grid = DayGrid(decisions)
    fired = {}
    # The days each source reaches, within the tolerance (vga/analysis/coverage.py).
    coverage = run.coverage
    first, last = coverage.reach("usage_events") or (None, None)
    if run.inputs.events is not None:
        from ..analysis.usage import daily_events

        start = pd.Timestamp(grid.date_of(np.array([0]))[0]).date()
        end = pd.to_datetime(decisions["decision_date"]).max().date() - timedelta(days=1)
        daily = daily_events(run.inputs.events.table(), start, end).to_pandas()
        fired["usage_drop"] = usage_drop(grid, daily, first, last, s)
    else:
        fired["usage_drop"] = usage_drop(grid, None, None, None, s)
    health = health_on_grid(grid, lambda pairs: health_scores_for_pairs(run.inputs, pairs, run.settings))
    from_health = health_signals(grid, health, facts["health_threshold"], facts["red_below"], s)
    fired["health_red"], fired["health_drop"] = from_health["health_red"], from_health["health_drop"]
    fired["nps_detractor"] = nps_detractor(grid, run.inputs.table("surveys"))
    t_first, t_last = coverage.reach("support_tickets") or (None, None)
    fired["ticket_spike"] = ticket_spike(grid, run.inputs.table("support_tickets"), t_first, t_last, s)
    fired["health_below_threshold"] = from_health["health_below_threshold"]
    facts["not_given"] = [signal for signal, table in NEEDS.items() if not run.inputs.has(table)]
    texts = definitions(s, facts["health_threshold"], facts["red_below"])
    table, per_decision = backtest(decisions, {k: fired[k] for k in SIGNAL_ORDER}, texts, alpha=analysis.alpha,
                                   min_n=int(analysis.min_accounts))
    if table["recall"].isna().all():
        facts["reason"] = (f"no warning signal could be checked on any decision: {HISTORY_NEEDED}"
                           + (" (the data is a snapshot)" if coverage.snapshot else ""))
        return {EARLY_WARNING_JSON: facts, EARLY_WARNING_CSV: None, EARLY_WARNING_DECISIONS_CSV: None}
    return {EARLY_WARNING_JSON: facts, EARLY_WARNING_CSV: table, EARLY_WARNING_DECISIONS_CSV: per_decision}


_INT = {"churned_decisions", "fired_before_churn", "retained_decisions", "fired_before_retained", "churned_evaluable",
        "retained_evaluable"}

NODE = Node(
    key="early_warning", title="Early warnings", compute=compute,
    needs=("churned_customers",),
    outputs=(
        Output(EARLY_WARNING_JSON, "the span checked before each decision, the signals' settings, signals whose "
                                     "table was not given"),
        Output(EARLY_WARNING_CSV, "per signal: churned decisions it warned about and how early, retained "
                                    "decisions it fired for (false alarms), intervals and a test",
               {c: ("str" if c in ("signal", "definition", "signal_name") else "bool" if c in ("flagged", "tested")
                    else "int" if c in _INT else "float") for c in WARNING_COLUMNS + EXTRA_COLUMNS}, optional=True),
        Output(EARLY_WARNING_DECISIONS_CSV, "per decision: each signal's lead in days (its first firing in the "
                                              "180 days before), empty where it did not fire",
               {"account_id": "str", "decision_date": "date", "outcome": "str",
                **{k: "float" for k in SIGNAL_ORDER}}, optional=True),
    ),
)
