"""Step 10, the journey map: from onboarding to renewal, where accounts drop
off and where they meet friction (definitions in :mod:`vga.analysis.journey`)."""

from __future__ import annotations

import pandas as pd

from ..periods import Period
from ..inputs import Inputs
from ..outputs import JOURNEY_MAP_JSON, JOURNEY_STAGES_CSV, MILESTONES_CSV
from ..analysis import journey as j
from ..analysis.coverage import table_dates
from ..analysis.decisions import decision_table
from ..analysis.retention import arr_at
from ..analysis.usage import window_usage
from ..analysis.decisions import CANCELLATIONS_ONLY, renewals_shape
from . import Context, Node, Output
from ..analysis.usage_health import workflow_abandonment

HOW_TO = {
    "onboarding": "no onboarding table was given: export one row per account and milestone (account_id, milestone, "
                  "completed_at, due_at) as onboarding.csv",
    "usage_events": "no usage events were given: export product events (timestamp, feature, user_id, account_id) "
                    "to time first value and measure adoption",
    "value_events": "no value events are configured: name the features that mean a customer got value in vga.toml, "
                    "[usage] value_events = [\"...\"]",
    "core_features": "no core features are configured: list them in vga.toml, [usage] core_features = [\"...\"]",
    "contract_start": "accounts have no contract_start: time to first value and tickets by tenure count from it",
    "workflow_runs": "no workflow_runs table was given: export account_id, workflow, started_at, completed_at and "
                     "last_step as workflow_runs.csv to see where workflows are abandoned",
    "support_tickets": "no support_tickets table was given: export ticket_id, account_id and opened_at as "
                       "support_tickets.csv to count tickets by stage",
    "renewals": "no renewals table was given: renewal decisions and churn by milestone need it",
}


def _events(inputs: Inputs):
    """The events as an Ibis table (one DuckDB connection per thread: see :class:`vga.inputs.Events`)."""
    return inputs.events.table()


def _onboarding(inputs: Inputs, period: Period, ids, decisions, analysis):
    onboarding = inputs.table("onboarding", needs=("completed_at",))
    if onboarding is None:
        return (HOW_TO["onboarding"] if not inputs.has("onboarding") else inputs.lacks("onboarding", ("completed_at",))), None
    status = j.milestone_status(onboarding, ids, period.as_of)
    if not len(status):
        return "no milestone of the journey's accounts was due or completed by the as-of date", None
    at_decision = None if decisions is None else j.milestones_at_decision(onboarding, j.decided_accounts(decisions))
    table = j.milestone_table(status, at_decision, inputs.table("accounts"), int(analysis.min_accounts),
                              float(analysis.alpha))
    per_account = status.groupby("account_id")["completed"].all()
    worst = table.sort_values("completion_rate").iloc[0]
    summary = {
        "accounts": int(len(per_account)), "milestones": int(len(status)),
        "not_all_completed": int((~per_account).sum()), "not_all_completed_share": float((~per_account).mean()),
        "late_share": float(status["late"].mean()), "worst_milestone": str(worst["milestone"]),
        "worst_completion_rate": float(worst["completion_rate"]),
        "flagged": [str(m) for m in table.loc[table["flagged"], "milestone"]],
        "churn_reason": None if decisions is not None else HOW_TO["renewals"],
        "churn_lookback_months": int(analysis.churn_lookback_months),
    }
    return summary, table


def _first_value(inputs: Inputs, period: Period, ids, usage):
    accounts = inputs.table("accounts")
    if inputs.events is None:
        return HOW_TO["usage_events"]
    if not usage.value_events:
        return HOW_TO["value_events"]
    if "contract_start" not in accounts.columns:
        return HOW_TO["contract_start"]
    events = _events(inputs)
    first_day = table_dates(inputs.sources, "usage_events")[0] or j.events_start(events)
    starts = accounts.loc[accounts["account_id"].isin(ids), ["account_id", "contract_start"]].dropna()
    starts = starts[(pd.to_datetime(starts["contract_start"]) >= pd.Timestamp(first_day))
                    & (pd.to_datetime(starts["contract_start"]) <= pd.Timestamp(period.as_of))]
    if not len(starts):
        return f"no account of the journey started on or after {first_day}, the first day the events cover"
    first = j.first_value_events(events, starts, usage.value_events, period.as_of)
    summary = j.first_value_summary(j.time_to_first_value(first, starts, period.as_of))
    return summary | {"value_events": list(usage.value_events), "events_from": str(first_day)}


def _adoption(inputs: Inputs, period: Period, ids, usage) -> dict:
    out: dict = {}
    runs = inputs.table("workflow_runs", needs=("completed_at",))
    if runs is None:
        out["workflows"] = (HOW_TO["workflow_runs"] if not inputs.has("workflow_runs")
                            else inputs.lacks("workflow_runs", ("completed_at",)))
    else:
        window = j.runs_in_window(runs, ids, period.window_start, period.as_of)
        if not len(window):
            out["workflows"] = "no workflow run was started in the retention window"
        else:
            steps = workflow_abandonment(window, period.as_of)
            abandoned = int(steps["abandoned_runs"].sum())
            worst = steps.sort_values("abandoned_runs", ascending=False).iloc[0] if len(steps) else None
            out["workflows"] = {
                "runs": int(len(window)), "accounts": int(window["account_id"].nunique()), "abandoned": abandoned,
                "abandoned_share": abandoned / len(window),
                "worst_workflow": "" if worst is None else str(worst["workflow"]),
                "worst_step": "" if worst is None else str(worst["last_step"]),
                "worst_step_runs": 0 if worst is None else int(worst["abandoned_runs"]),
                "steps": steps.to_dict("records"),
            }
    core = list(usage.core_features)
    if inputs.events is None:
        out["core"] = HOW_TO["usage_events"]
    elif not core:
        out["core"] = HOW_TO["core_features"]
    else:
        active = arr_at(inputs.table("accounts"), inputs.table("renewals"), period.as_of)
        active_ids = [a for a in ids if active.get(a, 0) > 0]
        measures = window_usage(_events(inputs), period.as_of, 90, core, features=core).to_pandas()
        adoption = j.core_adoption(measures[measures["account_id"].isin(active_ids)], active_ids)
        out["core"] = {"accounts": int(len(adoption)), "median": float(adoption.median()) if len(adoption) else None,
                       "low_share": float((adoption < 0.5).mean()) if len(adoption) else None,
                       "none_share": float((adoption == 0).mean()) if len(adoption) else None}
    return out


def _support(inputs: Inputs, period: Period, ids):
    tickets, accounts = inputs.table("support_tickets"), inputs.table("accounts")
    if tickets is None:
        return HOW_TO["support_tickets"]
    if "contract_start" not in accounts.columns:
        return HOW_TO["contract_start"]
    first_day = table_dates(inputs.sources, "support_tickets")[0]
    if first_day is None and len(tickets):
        first_day = pd.to_datetime(tickets["opened_at"]).min().date()
    summary = j.tickets_by_tenure(tickets, accounts[accounts["account_id"].isin(ids)], period.as_of, first_day)
    if not summary["accounts"]:
        return (f"no account of the journey started on or after {first_day} (the first day the tickets cover) and "
                f"at least {2 * j.EARLY_DAYS} days before the as-of date")
    if not summary["tickets_first_90_days"] and not summary["tickets_days_90_179"]:
        return (f"none of the {summary['accounts']:,} accounts that started on or after {first_day} opened a ticket in "
                f"its first {2 * j.EARLY_DAYS} days, so the two stages cannot be compared")
    return summary


#: Why the Renewal stage has no share with a renewals export of cancellations only.
CANCELLATIONS_TEXT = ("the renewals export holds cancellations only (every row takes ARR to 0), so the renewals that "
                      "went ahead are not in it and a share of decisions churned would be 100% by construction")


def compute(run: Context, upstream: dict) -> dict:
    analysis, usage = run.settings.analysis, run.settings.usage
    coverage = run.coverage
    facts = {"as_of": run.period.as_of.isoformat(), "window_start": run.period.window_start.isoformat(),
             "stages": list(j.STAGES), "covered": coverage.covers_as_of, "reason": coverage.reason}
    if not coverage.covers_as_of:
        parts = {key: coverage.reason for key in ("onboarding", "first_value", "support", "renewal")}
        parts["adoption"] = {"workflows": coverage.reason}
        return {JOURNEY_MAP_JSON: facts | parts, JOURNEY_STAGES_CSV: j.stage_rows(parts), MILESTONES_CSV: None}
    accounts, renewals = run.inputs.table("accounts"), run.inputs.table("renewals")
    ids = j.journey_accounts(accounts, renewals, run.period.as_of, run.period.window_start)
    decisions = (decision_table(renewals, run.period.as_of, int(analysis.churn_lookback_months))
                 if renewals is not None else None)
    cancellations = renewals is not None and renewals_shape(renewals) == CANCELLATIONS_ONLY
    if cancellations:  # every decision churned: churn with and without a milestone would both read 100%
        decisions = None
    onboarding, milestones = _onboarding(run.inputs, run.period, ids, decisions, analysis)
    if cancellations and isinstance(onboarding, dict):
        onboarding["churn_reason"] = CANCELLATIONS_TEXT
    parts = {
        "onboarding": onboarding,
        "first_value": _first_value(run.inputs, run.period, ids, usage),
        "adoption": _adoption(run.inputs, run.period, ids, usage),
        "support": _support(run.inputs, run.period, ids),
        "renewal": (HOW_TO["renewals"] if renewals is None else CANCELLATIONS_TEXT
                    if renewals_shape(renewals) == CANCELLATIONS_ONLY
                    else j.decisions_by_outcome(renewals, run.period.window_start, run.period.as_of)),
    }
    facts |= {"accounts": int(len(ids))} | parts
    return {JOURNEY_MAP_JSON: facts, JOURNEY_STAGES_CSV: j.stage_rows(parts), MILESTONES_CSV: milestones}


NODE = Node(
    key="journey_map", title="The customer journey", compute=compute,
    outputs=(
        Output(JOURNEY_MAP_JSON, "per stage from onboarding to renewal: the figures behind the map, the "
                                   "distribution of days to first value, and reasons where data is missing"),
        Output(JOURNEY_STAGES_CSV, "per stage and measure: value, accounts counted, detail, main measure, severity",
               {"stage": "str", "measure": "str", "value": "float", "accounts": "int", "detail": "str",
                "main": "bool", "severity": "str"}),
        Output(MILESTONES_CSV, "per onboarding milestone: completion, lateness, churn of the accounts with a "
                                 "decision in the look-back that had and had not completed it, Fisher p, "
                                 "Benjamini-Hochberg q, flagged",
               {"milestone": "str", "accounts": "int", "completed": "int", "completion_rate": "float", "late": "int",
                "churn_rate_completed": "float", "churn_rate_not_completed": "float", "p_value": "float",
                "q_value": "float", "flagged": "bool", "late_rate": "float", "decided_completed": "int",
                "churned_completed": "int", "decided_not_completed": "int", "churned_not_completed": "int",
                "tested": "bool"}, optional=True),
    ),
)
