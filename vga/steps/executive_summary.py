"""Step 11, the executive summary: ``results/summary.json``."""

from __future__ import annotations

from .. import quadrant as q
from . import Output, Step

FIGURES = ("cohort_accounts", "nrr", "grr", "logo_churn_rate", "arr_churned", "arr_contracted", "arr_expanded")


def compute(inputs, period, settings, upstream) -> dict:
    """The headline figures, from the outputs of the retention, quadrant and
    data-gathering steps (nothing is computed twice)."""
    retention = upstream["retention.json"]
    view = upstream["quadrant_view.json"]
    gathering = upstream["data_gathering.json"]
    reasons = {}
    if retention.get("reason"):
        reasons["retention"] = retention["reason"]
    if not view["covered"]:
        reasons["quadrants"] = view["reason"]
        quadrants = {name: {"accounts": None, "arr": None} for name in q.QUADRANTS}
    else:
        quadrants = q.quadrant_totals(upstream["quadrants.csv"])
    summary = {
        "period": period.label,
        "as_of": period.as_of.isoformat(),
        "window_start": period.window_start.isoformat(),
        "previous_period": period.previous_label,
        "accounts_total": retention["accounts_total"],
        "arr_total": retention["arr_total"],
        "active_accounts": retention["active_accounts"],
        **{k: retention[k] for k in FIGURES},
        "quadrants": quadrants,
        "data_quality": inputs.quality(),
        "coverage": gathering["coverage"],
        "warnings": gathering["warnings"],
        "null_reasons": reasons,
    }
    return {"summary.json": summary}


STEP = Step(
    key="executive_summary", number=11, title="Executive summary", notebook="11_executive_summary", compute=compute,
    needs=("retention", "quadrant_view", "data_gathering", "pattern_slicing"),
    shows=("quadrants.csv", "slices.csv"),
    outputs=(Output("summary.json", "the headline figures (see the metric definitions)"),),
)
