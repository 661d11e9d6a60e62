"""Step 2, data gathering: what was read, set aside and covered."""

from __future__ import annotations



from ..coverage import assess
from . import Output, Step

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


def compute(inputs, period, settings, upstream) -> dict:
    """Sources with their coverage, reasons by kind, identity resolution,
    tables not given, and the period's coverage verdict."""
    coverage = assess(inputs.sources, period.as_of, settings["analysis"].get("data_end", ""))
    missing = [{"table": t, "needed_for": use} for t, use in TABLE_USES.items() if not inputs.has(t)]
    return {
        "sources.csv": inputs.sources.copy(),
        "quarantine_reasons.csv": inputs.reasons.copy(),
        "data_gathering.json": {
            "coverage": coverage.as_dict(),
            "warnings": coverage.warnings(),
            "identity_resolution": inputs.identity,
            "missing_tables": missing,
        },
    }


STEP = Step(
    key="data_gathering", number=2, title="Data gathering", notebook="02_data_gathering", compute=compute,
    outputs=(
        Output("sources.csv", "per table given: source, rows read/accepted/quarantined, cells blanked, dates covered",
               {"table": "str", "source": "str", "rows_read": "int", "rows_accepted": "int",
                "rows_quarantined": "int", "cells_blanked": "int", "dated_by": "str", "first_date": "date",
                "last_date": "date"}),
        Output("quarantine_reasons.csv", "per table and kind of reason: count, one real example, first rows",
               {"table": "str", "action": "str", "kind": "str", "count": "int", "example": "str", "first_rows": "str"}),
        Output("data_gathering.json", "coverage of the period, warnings, identity resolution, tables not given"),
    ),
)


