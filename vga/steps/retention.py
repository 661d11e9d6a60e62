"""Retention over the window: the cohort, NRR, GRR, logo churn, ARR movements."""

from __future__ import annotations

from ..coverage import assess
from ..retention import RETENTION_KEYS, arr_at, cohort_exclusions, cohort_table, retention_summary
from . import Output, Step


def compute(inputs, period, settings, upstream) -> dict:
    """The cohort table and the retention figures (null with a reason when
    the data lacks renewals, has an empty cohort, or ends before the as-of date)."""
    accounts, renewals = inputs.table("accounts"), inputs.table("renewals")
    coverage = assess(inputs.sources, period.as_of, settings["analysis"])
    arr_now = arr_at(accounts, renewals, period.as_of)
    figures = {"accounts_total": int(len(accounts)), "arr_total": float(arr_now.sum()),
               "active_accounts": int((arr_now > 0).sum())}
    if not coverage.covers_as_of:
        figures = {"accounts_total": int(len(accounts)), "arr_total": None, "active_accounts": None}
        retention = {k: None for k in RETENTION_KEYS}
        retention["reason"] = coverage.reason
        cohort = None
    else:
        retention = retention_summary(accounts, renewals, period.as_of, period.window_start)
        cohort = cohort_table(accounts, renewals, period.as_of, period.window_start) if renewals is not None else None
        retention["cohort_churned"] = None if cohort is None else int(cohort["churned"].sum())
        retention["cohort_excluded"] = cohort_exclusions(accounts, renewals, period.as_of, period.window_start)
    return {"retention.json": {**figures, **retention}, "cohort.csv": cohort}


STEP = Step(
    key="retention", number=3, title="Retention", notebook="", compute=compute,
    outputs=(
        Output("retention.json", "accounts and ARR at the as-of date; NRR, GRR, logo churn, ARR movements; the "
                                 "cohort's churned accounts and the accounts left out of it, by why"),
        Output("cohort.csv", "one row per cohort account: ARR at window start and as-of, churned, movement",
               {"account_id": "str", "arr_start": "float", "arr_end": "float", "churned": "bool", "movement": "str"},
               optional=True),
    ),
)
