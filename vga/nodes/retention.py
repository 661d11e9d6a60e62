"""Retention over the window: the cohort, NRR, GRR, logo churn, ARR movements."""

from __future__ import annotations

from datetime import timedelta

from ..inputs import Inputs
from ..outputs import COHORT_CSV, RETENTION_BY_SLICE_CSV, RETENTION_JSON, RETENTION_TREND_CSV
from ..analysis.coverage import assess
from ..periods import one_year_before
from ..analysis.retention import (RETENTION_KEYS, arr_at, arr_bridge, cohort_exclusions, cohort_table,
                                  retention_by_slice, retention_summary, retention_trend)
from ..analysis.slicing import slicing_dimensions
from . import Context, Node, Output


def trend_covers(inputs: Inputs, day, analysis) -> bool:
    """Whether an earlier quarter's retention can join the trend: the data
    reaches the day, is not a snapshot, and the renewals begin by the start
    of that quarter's own 12 months (to within the coverage tolerance). A
    window the renewals cover only in part would count the churn before the
    export began as none, and read as a better year than it was."""
    coverage = assess(inputs.sources, day, analysis)
    first, _ = coverage.reach("renewals") or (None, None)
    start = one_year_before(day) + timedelta(days=coverage.tolerance_days)
    return coverage.covers_as_of and not coverage.snapshot and first is not None and first <= start


def compute(run: Context, upstream: dict) -> dict:
    """The cohort table and the retention figures (null with a reason when
    the data lacks renewals, has an empty cohort, or ends before the as-of date)."""
    accounts, renewals = run.inputs.table("accounts"), run.inputs.table("renewals")
    coverage = run.coverage
    arr_now = arr_at(accounts, renewals, run.period.as_of)
    figures = {"accounts_total": int(len(accounts)), "arr_total": float(arr_now.sum()),
               "active_accounts": int((arr_now > 0).sum())}
    if not coverage.covers_as_of:
        figures = {"accounts_total": int(len(accounts)), "arr_total": None, "active_accounts": None}
        retention = {k: None for k in RETENTION_KEYS}
        retention["reason"] = coverage.reason
        cohort = None
    else:
        retention = retention_summary(accounts, renewals, run.period.as_of, run.period.window_start)
        cohort = cohort_table(accounts, renewals, run.period.as_of, run.period.window_start) if renewals is not None else None
        retention["cohort_churned"] = None if cohort is None else int(cohort["churned"].sum())
        retention["cohort_excluded"] = cohort_exclusions(accounts, renewals, run.period.as_of, run.period.window_start)
    trend = by_slice = None
    if cohort is not None and retention.get("nrr") is not None:
        retention["bridge"] = arr_bridge(cohort, figures["arr_total"])
        analysis = run.settings.analysis
        # The period itself is always the trend's last point (its figures are the headline's).
        trend = retention_trend(accounts, renewals, run.period.as_of,
                                lambda day: day == run.period.as_of or trend_covers(run.inputs, day, analysis))
        by_slice = retention_by_slice(cohort, accounts, slicing_dimensions(accounts, analysis.slicing_dimensions),
                                      int(analysis.min_accounts))
    return {RETENTION_JSON: {**figures, **retention}, COHORT_CSV: cohort, RETENTION_TREND_CSV: trend,
            RETENTION_BY_SLICE_CSV: by_slice}


NODE = Node(
    key="retention", title="Retention", compute=compute,
    outputs=(
        Output(RETENTION_JSON, "accounts and ARR at the as-of date; NRR, GRR, logo churn, ARR movements; the "
                                 "cohort's churned accounts and the accounts left out of it, by why; the ARR bridge"),
        Output(RETENTION_TREND_CSV, "NRR, GRR and logo churn as of the as-of date and up to seven quarters before "
                                      "it, each over its own 12 months, where the data reaches",
               {"as_of": "date", "cohort_accounts": "int", "nrr": "float", "grr": "float", "logo_churn_rate": "float"},
               optional=True),
        Output(RETENTION_BY_SLICE_CSV, "NRR, GRR and logo churn of each slice with enough cohort accounts",
               {"dimension": "str", "value": "str", "cohort_accounts": "int", "arr_start": "float", "nrr": "float",
                "grr": "float", "logo_churn_rate": "float"}, optional=True),
        Output(COHORT_CSV, "one row per cohort account: ARR at window start and as-of, churned, movement",
               {"account_id": "str", "arr_start": "float", "arr_end": "float", "churned": "bool", "movement": "str"},
               optional=True),
    ),
)
