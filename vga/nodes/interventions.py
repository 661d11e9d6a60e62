"""Step 9, MVP and intervention tracking: health-colour movement against
the target, interventions by playbook, status and owner, their association
with colour movement, and the loop from complaint to shipped fix."""

from __future__ import annotations

from ..periods import Period
from ..inputs import Inputs
from ..outputs import (HEALTH_TRANSITIONS_CSV, INTERVENTIONS_CSV, INTERVENTIONS_JSON, INTERVENTION_EFFECT_CSV,
    QUADRANTS_CSV, QUADRANT_VIEW_JSON)
from ..analysis import interventions as ivx
from ..analysis.retention import arr_at
from . import Context, Node, Output

HOW_TO_INTERVENTIONS = ("no interventions table was given: export what the team did (account_id, started_at, "
                        "playbook, and optionally owner, objective, target_date, status) as interventions.csv")
HOW_TO_FIXES = ("no product_fixes table was given: export fix_id, account_id, raised_at, shipped_at and "
                "confirmed_at as product_fixes.csv to follow complaints to shipped fixes")


def _no_previous_reason(facts: dict) -> str:
    return (f"no health colour is known at the end of {facts['previous_period']}: the data holds no health "
            "history (health_scores or usage events) for that date and no previous run of that period was found "
            "in the reports folder; the target and the colour changes start with the next run")


def compute(run: Context, upstream: dict) -> dict:
    """The target, transitions, intervention tables and the fix loop; each
    part is null with a reason when its input is missing."""
    cfg, analysis = run.settings.interventions, run.settings.analysis
    facts = upstream[QUADRANT_VIEW_JSON]
    out = {"as_of": run.period.as_of.isoformat(), "previous_period": run.period.previous_label,
           "previous_as_of": run.period.previous_as_of.isoformat(), "window_start": run.period.window_start.isoformat(),
           "reasons": {}, "status_note": ("statuses are those in the export, which may have been set after the "
                                          "as-of date")}
    reasons = out["reasons"]
    if not facts["covered"]:
        for part in ("target", "interventions", "fixes"):
            reasons[part] = facts["reason"]
        return {INTERVENTIONS_JSON: out, INTERVENTIONS_CSV: None, HEALTH_TRANSITIONS_CSV: None,
                INTERVENTION_EFFECT_CSV: None}

    table = ivx.with_previous_colors(upstream[QUADRANTS_CSV], run.inputs.previous_quadrants)
    sources = table.loc[table["previous_color_source"] != "", "previous_color_source"].value_counts()
    out["previous_color_source"] = {str(k): int(v) for k, v in sources.items()}
    out["active_accounts"] = int(len(table))
    transitions = None
    if sources.sum() == 0:
        reasons["target"] = _no_previous_reason(facts)
    else:
        out["target"] = ivx.color_target(table, cfg.from_colors, cfg.to_colors, float(cfg.target_share))
        transitions = ivx.transition_matrix(table)
        table_up = table[table["previous_color"].isin(ivx.COLORS) & table["health_color"].isin(ivx.COLORS)]
        out["moved_up"] = int((table_up["health_color"].map(ivx.RANK) > table_up["previous_color"].map(ivx.RANK)).sum())
        out["moved_down"] = int((table_up["health_color"].map(ivx.RANK) < table_up["previous_color"].map(ivx.RANK)).sum())
        out["colored_both_times"] = int(len(table_up))

    playbooks = effect = None
    raw = run.inputs.table("interventions")
    if raw is None:
        reasons["interventions"] = HOW_TO_INTERVENTIONS
    else:
        accounts, renewals = run.inputs.table("accounts"), run.inputs.table("renewals")
        arr = arr_at(accounts, renewals, run.period.as_of)
        arr.index = arr.index.astype(str)
        iv = ivx.interventions_as_of(raw, run.period.as_of)
        playbooks = ivx.by_playbook(iv, arr)
        out["interventions_total"] = int(len(iv))
        out["accounts_with_interventions"] = int(iv["account_id"].nunique())
        out["open"] = int((iv["status"] == "open").sum())
        out["overdue"] = int(iv["overdue"].sum())
        out["by_owner"] = ivx.by_owner(iv, arr).to_dict("records")
        overdue = iv[iv["overdue"]].sort_values("target_date")
        out["overdue_list"] = [{"account_id": str(r.account_id), "playbook": r.playbook, "owner": r.owner,
                                "target_date": r.target_date.date().isoformat(), "arr": float(arr.get(str(r.account_id), 0.0))}
                               for r in overdue.itertuples()]
        effect = _effect(run.inputs, raw, run.period, run.settings)
        out["effect_after_days"], out["effect_matches"] = ivx.EFFECT_AFTER_DAYS, ivx.EFFECT_MATCHES
        if sources.sum():
            outcome = ivx.outcome_association(table, iv, run.period.window_start, run.period.as_of,
                                              int(analysis.min_accounts))
            out["outcome"] = outcome.to_dict("records")
        else:
            reasons["outcome"] = (f"no health colour is known at the end of {facts['previous_period']}, so whether "
                                  "accounts moved up cannot be compared")
    fixes = run.inputs.table("product_fixes")
    if fixes is None:
        reasons["fixes"] = HOW_TO_FIXES
    else:
        out["fixes"] = ivx.fix_loop(fixes, run.period.as_of, run.period.window_start)
    return {INTERVENTIONS_JSON: out, INTERVENTIONS_CSV: playbooks, HEALTH_TRANSITIONS_CSV: transitions,
            INTERVENTION_EFFECT_CSV: effect}


def _effect(inputs: Inputs, raw, period: Period, settings):
    """Scores of every account on the effect's grid of month ends, then the
    difference in differences (:func:`vga.analysis.interventions.intervention_effect`)."""
    import numpy as np
    import pandas as pd

    from ..analysis.retention import arr_for_pairs
    from ..analysis.scores import scores_for_pairs

    days = ivx.score_grid_days(raw, period.as_of)
    if not days:
        return None
    ids = inputs.table("accounts")["account_id"].astype(str).drop_duplicates().to_numpy(dtype=object)
    # Every account on every grid day, day by day.
    pairs = pd.DataFrame({"account_id": np.tile(ids, len(days)),
                          "day": np.repeat(pd.to_datetime(pd.Series(days)).to_numpy(), len(ids))})
    scores = scores_for_pairs(inputs, pairs, settings)
    scores["active"] = arr_for_pairs(inputs.table("accounts"), inputs.table("renewals"), pairs).to_numpy() > 0
    analysis = settings.analysis
    return ivx.intervention_effect(raw, scores, period.as_of, int(analysis.min_accounts), float(analysis.alpha))


NODE = Node(
    key="interventions", title="MVP and intervention tracking", compute=compute,
    needs=("quadrant_view",),
    outputs=(
        Output(INTERVENTIONS_JSON, "colour target and progress, colour moves, interventions by owner, overdue, "
                                     "association with colour movement, the fix loop; reasons where data is missing"),
        Output(INTERVENTIONS_CSV, "per playbook and status: interventions, accounts and their ARR",
               {"playbook": "str", "status": "str", "interventions": "int", "accounts": "int", "arr": "float"},
               optional=True),
        Output(HEALTH_TRANSITIONS_CSV, "per previous and current health colour: active accounts and ARR",
               {"previous_color": "str", "color": "str", "accounts": "int", "arr": "float"}, optional=True),
        Output(INTERVENTION_EFFECT_CSV, "per playbook and measure: health and usage before and after, against "
                                          "matched accounts without one (difference in differences), 95% interval",
               {c: ("str" if c in ("playbook", "measure") else "bool" if c in ("flagged", "tested")
                    else "int" if c in ("treated", "controls") else "float") for c in ivx.EFFECT_COLUMNS},
               optional=True),
    ),
)
