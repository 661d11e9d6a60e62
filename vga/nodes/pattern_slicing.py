"""Step 5, pattern slicing: churn per slice against the rest of the cohort."""

from __future__ import annotations

from ..outputs import COHORT_CSV, SLICES_CSV
from ..analysis.slicing import slice_churn, slicing_dimensions
from . import Context, Node, Output


def compute(run: Context, upstream: dict) -> dict:
    """Fisher's exact test per (dimension, value), Benjamini-Hochberg across
    slices; None without a cohort (no renewals, or a period past the data)."""
    cohort = upstream[COHORT_CSV]
    if cohort is None or cohort.empty:  # retention.json says why
        return {SLICES_CSV: None}
    cfg = run.settings.analysis
    accounts = run.inputs.table("accounts")
    dims = slicing_dimensions(accounts, cfg.slicing_dimensions)
    return {SLICES_CSV: slice_churn(cohort, accounts, dims, int(cfg.min_accounts), float(cfg.alpha))}


NODE = Node(
    key="pattern_slicing", title="Pattern slicing", compute=compute,
    needs=("retention",),
    outputs=(
        Output(SLICES_CSV, "one row per (dimension, value): cohort accounts, churned, churn rate, p, q, flagged (against every "
               "other cohort account, as the spec says), then the same against the dimension's other known values "
               "only, and the dimension's unknowns (empty or not-recorded values)",
               {"dimension": "str", "value": "str", "accounts": "int", "churned": "int", "churn_rate": "float",
                "rest_accounts": "int", "rest_churned": "int", "rest_churn_rate": "float", "p_value": "float",
                "q_value": "float", "flagged": "bool", "tested": "bool", "known": "bool",
                "known_rest_accounts": "int", "known_rest_churned": "int", "known_rest_churn_rate": "float",
                "known_p_value": "float", "known_q_value": "float", "known_flagged": "bool",
                "unknown_accounts": "int", "unknown_churned": "int", "unknown_churn_rate": "float"},
               optional=True),
    ),
)
