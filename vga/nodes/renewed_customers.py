"""Step 4, renewed and expanded customers: what they did before their
decision that churned customers did not, each difference with its interval."""

from __future__ import annotations

from ..outputs import (ADOPTION_BY_OUTCOME_CSV, BEHAVIOURS_CSV, BEHAVIOUR_FEATURES_CSV, CHURNED_CUSTOMERS_JSON,
    DECISIONS_CSV, RENEWED_CUSTOMERS_JSON)
from ..analysis.adoption import ADOPTION_COLUMNS, adoption_by_outcome, adoption_features
from ..analysis.decisions import RETAINED, behaviour_comparison, behaviour_features, missing_groups
from ..analysis.compare import COMPARISON_TYPES
from . import Context, Node, Output

#: Behaviours are measured this many days before each decision (point-in-time).
BEHAVIOUR_LEAD = 30
#: The two comparisons: (first outcomes, second outcomes).
COMPARED = {"retained vs churned": (RETAINED, ("churned",)), "expanded vs renewed": (("expanded",), ("renewed",))}


def compute(run: Context, upstream: dict) -> dict:
    facts = dict(upstream[CHURNED_CUSTOMERS_JSON])
    decisions = upstream[DECISIONS_CSV]
    out = {RENEWED_CUSTOMERS_JSON: {"lead_days": BEHAVIOUR_LEAD, "reason": facts.get("reason"),
                                      "decisions_by_outcome": facts.get("decisions_by_outcome"),
                                      "accounts_by_group": facts.get("accounts_by_group"),
                                      "tables": {t: run.inputs.has(t) for t in
                                                 ("usage_events", "onboarding", "training", "support_tickets")}},
           BEHAVIOURS_CSV: None, ADOPTION_BY_OUTCOME_CSV: None, BEHAVIOUR_FEATURES_CSV: None}
    if facts.get("reason") or decisions is None or decisions.empty:
        out[RENEWED_CUSTOMERS_JSON]["reason"] = facts.get("reason") or "no renewal decisions in the look-back window"
        return out
    features = behaviour_features(decisions, run.inputs, run.settings, lead=BEHAVIOUR_LEAD)
    table = behaviour_comparison(features, alpha=run.settings.analysis.alpha)
    # Each decision's behaviours with its ARR before and after: the quick
    # wins price a milestone gap from them (vga/analysis/money_at_risk.py).
    out[BEHAVIOUR_FEATURES_CSV] = features.assign(arr_before=decisions["arr_before"].to_numpy(),
                                                    arr_after=decisions["arr_after"].to_numpy())
    reasons = {}
    for which, (first, second) in COMPARED.items():
        gap = missing_groups(decisions, first, second)
        if gap or not (table["comparison"] == which).any():
            reasons[which] = gap or "no behaviour was measured for both groups of decisions"
    out[RENEWED_CUSTOMERS_JSON]["reasons"] = reasons
    out[BEHAVIOURS_CSV] = table if len(table) else None
    if out[BEHAVIOURS_CSV] is None and decisions is not None:
        given = [t for t, ok in out[RENEWED_CUSTOMERS_JSON]["tables"].items() if ok]
        out[RENEWED_CUSTOMERS_JSON]["reason"] = (
            reasons.get("retained vs churned") if given and "retained vs churned" in reasons else None)
    core = list(run.settings.usage.core_features)
    out[RENEWED_CUSTOMERS_JSON]["core_features"] = core
    if run.inputs.events is not None and core:
        first, last = run.coverage.reach("usage_events") or (None, None)

        def covered(day):  # the 90 days to the day lie inside the events (to within the tolerance at the end)
            return first is not None and (day - first).days >= 89 and (last is None or day <= last)

        adoption = adoption_features(decisions, run.inputs.events.table(), core, covered)
        out[ADOPTION_BY_OUTCOME_CSV] = adoption_by_outcome(adoption, core, int(run.settings.analysis.min_accounts))
    return out


NODE = Node(
    key="renewed_customers", title="Renewed and expanded customers", compute=compute,
    needs=("churned_customers",),
    outputs=(
        Output(RENEWED_CUSTOMERS_JSON, "the lead used, decisions by outcome, which behaviour tables were given"),
        Output(BEHAVIOURS_CSV, "each behaviour: retained against churned and expanded against renewed, "
                                 "difference, 95% interval, p and q values",
               {"comparison": "str", "measure": "str", **COMPARISON_TYPES}, optional=True),
        Output(BEHAVIOUR_FEATURES_CSV, "each renewal decision's behaviours 30 days before it (point-in-time), "
                                         "with its ARR before and after",
               {"account_id": "str", "decision_date": "date", "outcome": "str", "group": "str",
                "arr_before": "float", "arr_after": "float"}, optional=True),
        Output(ADOPTION_BY_OUTCOME_CSV, "core-feature adoption 90, 60 and 30 days before each decision, by "
                                          "outcome, with 95% intervals",
               {c: ("str" if c in ("outcome", "measure") else "bool" if c == "small" else "int"
                    if c in ("lead_days", "decisions") else "float") for c in ADOPTION_COLUMNS}, optional=True),
    ),
)
