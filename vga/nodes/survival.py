"""Survival (shown in step 3): how long accounts stay, overall and by group,
and what shortens it (Kaplan-Meier, log-rank, Cox)."""

from __future__ import annotations

import pandas as pd

from ..outputs import COX_CSV, SURVIVAL_CSV, SURVIVAL_JSON, SURVIVAL_TESTS_CSV
from ..analysis.slicing import slicing_dimensions
from ..analysis.survival import (COX_COLUMNS, ONBOARDING_DAYS, OTHER, at_risk_counts, cox_design, cox_groups, cox_model,
                                 logrank_tests, milestones_missed, proportional_hazards_check, survival_curves,
                                 survival_subjects, left_out_reasons)
from ..stats import bh_q_values
from . import Context, Node, Output


def compute(run: Context, upstream: dict) -> dict:
    """Subjects from accounts and renewals; curves and log-rank tests per
    slicing dimension; a Cox model on the slicing dimensions' groups (at
    most ``cox_max_groups`` apart per dimension, the rest pooled; a group
    without a churned account counted with the reference) and the
    onboarding milestones missed in the first 180 days."""
    analysis = run.settings.analysis
    accounts, renewals = run.inputs.table("accounts"), run.inputs.table("renewals")
    facts = {"as_of": run.period.as_of.isoformat(), "reason": None, "subjects": 0, "events": 0, "left_out": 0,
             "left_out_examples": [], "cox_reason": None, "proportional_hazards": [],
             "onboarding_days": ONBOARDING_DAYS, "dimensions": [],
             "cox_q_values": {}, "cox_reference": {}, "cox_pooled": [], "cox_merged": [],
             "at_risk": {"times": [], "rows": []}}
    coverage = run.coverage
    if renewals is None:
        facts["reason"] = "no renewals table was given, so no account's churn date is known"
    elif "contract_start" not in accounts.columns:
        facts["reason"] = "accounts have no contract_start, so no account's time as a customer is known"
    elif not coverage.covers_as_of:
        facts["reason"] = coverage.reason
    if facts["reason"]:
        return {SURVIVAL_JSON: facts, SURVIVAL_CSV: None, SURVIVAL_TESTS_CSV: None, COX_CSV: None}
    subjects, left_out = survival_subjects(accounts, renewals, run.period.as_of)
    why = left_out_reasons(accounts, renewals, run.period.as_of)
    facts["left_out"] = len(left_out)
    facts["left_out_by_reason"] = {k: int(v) for k, v in why.value_counts().items() if k}
    if subjects.empty:
        detail = "; ".join(f"{n:,} {reason}" for reason, n in facts["left_out_by_reason"].items())
        facts["reason"] = (f"no account can be followed: each needs a contract_start on or before the as-of date and "
                           f"to have paid ({detail})")
        return {SURVIVAL_JSON: facts, SURVIVAL_CSV: None, SURVIVAL_TESTS_CSV: None, COX_CSV: None}
    dimensions = slicing_dimensions(accounts, analysis.slicing_dimensions)
    min_accounts = int(analysis.min_accounts)
    max_groups = int(analysis.cox_max_groups)
    milestones = milestones_missed(subjects, run.inputs.table("onboarding", needs=("completed_at",)), run.period.as_of)
    milestones = milestones.loc[:, milestones.nunique() > 1]
    fitted = milestones.notna().all(axis=1)  # the rows the model is fitted on
    groups = cox_groups(subjects, dimensions, min_accounts, max_groups, rows=fitted)
    design = pd.concat([cox_design(subjects, dimensions, min_accounts, max_groups, rows=fitted), milestones], axis=1)
    design = design.loc[:, design.nunique() > 1]
    cox, cox_reason = cox_model(subjects, design)
    # Many terms are tested at once: the report flags a term on its
    # Benjamini-Hochberg q, kept here (cox.csv holds the spec's columns).
    q_values = {} if cox.empty else dict(zip(cox["term"], bh_q_values(cox["p_value"]).tolist()))
    used = design.notna().all(axis=1)
    facts.update({
        "subjects": int(len(subjects)), "events": int(subjects["churned"].sum()),
        "left_out_examples": left_out[:10], "cox_reason": cox_reason, "dimensions": dimensions,
        "cox_q_values": q_values, "cox_reference": {dim: g.reference for dim, g in groups.items()},
        # What the model did with many-valued dimensions and groups no account left, said in the report.
        "cox_pooled": [{"dimension": dim, "values": g.values, "kept": g.kept, "pooled": g.pooled,
                        "term": g.term(OTHER)} for dim, g in groups.items() if g.pooled],
        "cox_merged": [{"dimension": dim, "group": group, "term": g.term(group), "subjects": n,
                        "reference": g.reference} for dim, g in groups.items() for group, n in g.merged],
        "median_days": None, "at_risk": at_risk_counts(subjects, dimensions, min_accounts),
        "proportional_hazards": [] if cox_reason else proportional_hazards_check(subjects[used], design[used],
                                                                                 analysis.alpha),
    })
    curves = survival_curves(subjects, dimensions, min_accounts)
    overall = curves[(curves["dimension"] == "all") & (curves["survival"] <= 0.5)]
    facts["median_days"] = None if overall.empty else float(overall["time_days"].iloc[0])
    return {SURVIVAL_JSON: facts, SURVIVAL_CSV: curves,
            SURVIVAL_TESTS_CSV: logrank_tests(subjects, dimensions, min_accounts), COX_CSV: cox}


NODE = Node(
    key="survival", title="Survival", compute=compute,
    outputs=(
        Output(SURVIVAL_JSON, "survival subjects, events, accounts left out, the Cox model's reason and its "
                                "proportional-hazards check"),
        Output(SURVIVAL_CSV, "Kaplan-Meier curves: overall, then each group of each slicing dimension",
               {"dimension": "str", "group": "str", "time_days": "float", "at_risk": "int", "events": "int",
                "survival": "float", "ci_lower": "float", "ci_upper": "float"}, optional=True),
        Output(SURVIVAL_TESTS_CSV, "log-rank test per slicing dimension",
               {"dimension": "str", "groups": "int", "statistic": "float", "p_value": "float"}, optional=True),
        Output(COX_CSV, "Cox model of time to churn: hazard ratio per term",
               {c: ("str" if c == "term" else "int" if c in ("subjects", "events") else "float") for c in COX_COLUMNS},
               optional=True),
    ),
)
