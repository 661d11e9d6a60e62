"""Step 2, data gathering: what was read, set aside and covered."""

from __future__ import annotations

import pandas as pd

from ..inputs import Inputs
from ..outputs import ACCOUNT_COVERAGE_CSV, DATA_GATHERING_JSON, QUARANTINE_REASONS_CSV, SOURCES_CSV
from ..contract import TABLES
from ..inputs import NEEDED_COLUMNS
from ..analysis.retention import arr_at
from ..analysis.decisions import renewals_shape
from . import Context, Node, Output

# What each optional table feeds, for the notes on tables not given.
TABLE_USES = {
    "renewals": "NRR, GRR, logo churn, ARR movements and pattern slicing",
    "usage_events": "the usage score from events (else accounts.usage_score)",
    "health_scores": "the health score and its history (else accounts.health_score)",
    "users": "resolving events that carry no account_id",
    "workflow_runs": "workflow completion in the usage score",
    "support_tickets": "the voice of the customer and the health composite",
    "surveys": "NPS/CSAT in the voice of the customer",
    "touchpoints": "CSM contact and sentiment",
    "onboarding": "onboarding milestones in the churn analysis",
    "training": "training completion",
    "interviews": "qualitative evidence",
    "interventions": "intervention tracking",
    "product_fixes": "the complaint-to-fix loop",
}


def not_given(inputs: Inputs) -> str:
    """One line naming the optional tables not given and what each would
    add ("" when every one is given): said in the console and on the
    report's first screen, so that a missing table is never silent."""
    missing = [f"{t} ({use})" for t, use in TABLE_USES.items() if not inputs.has(t)]
    return ("Not given: " + "; ".join(missing) + ". The sections that need them say so.") if missing else ""


def account_coverage(inputs: Inputs, as_of) -> pd.DataFrame:
    """Per table given that names accounts: how many of the accounts active
    at ``as_of`` (ARR > 0) have at least one row dated on or before it, and
    the share of ARR they hold. Columns: ``table``, ``accounts_with_data``,
    ``account_share``, ``arr_with_data``, ``arr_share``."""
    accounts = inputs.table("accounts")
    arr = arr_at(accounts, inputs.table("renewals"), as_of)
    active = arr[arr > 0]
    end = pd.Timestamp(as_of) + pd.Timedelta(days=1)
    rows = []
    named = [t for t in TABLES if t not in ("accounts", "users") and (inputs.has(t))]
    for name in named:
        if name == "usage_events":
            events = inputs.events.table()
            events = events.filter(events.timestamp < end.to_pydatetime())
            ids = set(events.select("account_id").distinct().to_pandas()["account_id"].astype(str))
        else:
            frame = inputs.table(name)
            dated = TABLES[name].occurred
            if dated and dated in frame.columns:
                frame = frame[pd.to_datetime(frame[dated]) < end]
            ids = set(frame["account_id"].astype(str))
        covered = active[active.index.isin(ids)]
        rows.append({"table": name, "accounts_with_data": int(len(covered)),
                     "account_share": len(covered) / len(active) if len(active) else None,
                     "arr_with_data": float(covered.sum()),
                     "arr_share": float(covered.sum() / active.sum()) if active.sum() else None})
    return pd.DataFrame(rows, columns=["table", "accounts_with_data", "account_share", "arr_with_data", "arr_share"])


#: Columns that hold plans (dates something is due), not history.
PLAN_COLUMNS = (("onboarding", "due_at"),)


def plan_dates(inputs: Inputs) -> list[dict]:
    """The latest date of each plan column given (``table``, ``column``,
    ``last_date`` ISO): plans may run past the as-of date and are never
    part of how far the data runs."""
    out = []
    for table, column in PLAN_COLUMNS:
        frame = inputs.table(table) if inputs.has(table) else None
        if frame is None or column not in frame.columns:
            continue
        last = pd.to_datetime(frame[column], errors="coerce").max()
        if pd.notna(last):
            out.append({"table": table, "column": column, "last_date": last.date().isoformat()})
    return out


def compute(run: Context, upstream: dict) -> dict:
    """Sources with their coverage, reasons by kind, identity resolution,
    tables not given, and the period's coverage verdict."""
    coverage = run.coverage
    missing = [{"table": t, "needed_for": use} for t, use in TABLE_USES.items() if not run.inputs.has(t)]
    missing += [{"table": f"{t}.{c}", "needed_for": use} for (t, c), use in NEEDED_COLUMNS.items()
                if run.inputs.has(t) and run.inputs.table(t, needs=(c,)) is None]
    return {
        SOURCES_CSV: run.inputs.sources.copy(),
        ACCOUNT_COVERAGE_CSV: account_coverage(run.inputs, run.period.as_of),
        QUARANTINE_REASONS_CSV: run.inputs.reasons.copy(),
        DATA_GATHERING_JSON: {
            "coverage": coverage.as_dict(),
            "warnings": coverage.warnings(),
            "identity_resolution": run.inputs.identity,
            "missing_tables": missing,
            "renewals_shape": renewals_shape(run.inputs.table("renewals")),
            "plans": plan_dates(run.inputs),
        },
    }


NODE = Node(
    key="data_gathering", title="Data gathering", compute=compute,
    outputs=(
        Output(SOURCES_CSV, "per table given: source, rows read/accepted/quarantined, cells blanked, dates covered",
               {"table": "str", "source": "str", "rows_read": "int", "rows_accepted": "int",
                "rows_quarantined": "int", "cells_blanked": "int", "dated_by": "str", "first_date": "date",
                "last_date": "date"}),
        Output(QUARANTINE_REASONS_CSV, "per table and kind of reason: count, one real example, first rows",
               {"table": "str", "action": "str", "kind": "str", "count": "int", "example": "str", "first_rows": "str"}),
        Output(ACCOUNT_COVERAGE_CSV, "per table: active accounts with a row on or before the as-of date, and their "
                                       "share of accounts and of ARR",
               {"table": "str", "accounts_with_data": "int", "account_share": "float", "arr_with_data": "float",
                "arr_share": "float"}),
        Output(DATA_GATHERING_JSON, "coverage of the period, warnings, identity resolution, tables not given"),
    ),
)


