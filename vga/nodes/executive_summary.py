"""Step 11, the executive summary: ``results/summary.json``."""

from __future__ import annotations

from ..periods import Period
from ..inputs import Inputs
from ..outputs import (BEHAVIOURS_CSV, FIGURES_CSV, INTERVENTIONS_JSON, INTERVENTION_EFFECT_CSV, CHURNED_CUSTOMERS_JSON, CHURN_LABELS_CSV, CHURN_POPULATIONS_CSV,
    DATA_GATHERING_JSON, EARLY_WARNING_CSV, QUADRANTS_CSV, QUADRANT_VIEW_JSON, QUICK_WINS_CSV, QUICK_WINS_JSON,
    RETENTION_JSON,
    RETENTION_TREND_CSV, SLICES_CSV, SUMMARY_JSON, SURVIVAL_JSON)
from ..analysis import quadrant as q
from ..analysis.coverage import assess
from ..periods import one_year_before
from ..analysis.plausibility import plausibility_warnings
from ..analysis.populations import churn_populations
from ..analysis.figures import named_figures
from ..analysis.news import news
from ..analysis.slicing import slicing_dimensions
from ..analysis.retention import RETENTION_KEYS, retention_summary
from ..analysis.frames import account_names
from ..stats import confidence
from . import Context, Node, Output

FIGURES = ("cohort_accounts", "nrr", "grr", "logo_churn_rate", "arr_churned", "arr_contracted", "arr_expanded")


def previous_figures(inputs: Inputs, period: Period, settings, previous_quadrants: dict | None) -> dict:
    """The headline figures as of the previous period's as-of date, from the
    same data (the same definitions, as of that date), for "what changed".
    Null, with the reason, where the data does not reach back that far."""
    accounts, renewals = inputs.table("accounts"), inputs.table("renewals")
    out = {"period": period.previous_label, "as_of": period.previous_as_of.isoformat(), "reason": None}
    coverage = assess(inputs.sources, period.previous_as_of, settings.analysis)
    first, _ = coverage.reach("renewals") or (None, None)
    if renewals is None:
        out.update({k: None for k in RETENTION_KEYS}, reason="no renewals table")
    elif coverage.snapshot or first is None or first > period.previous_as_of:
        # Figures as of a date before any renewal would read as "nothing
        # changed": a comparison needs the earlier period's own data.
        begin = f"begin on {first.isoformat()}" if first else "carry no dates"
        out.update({k: None for k in RETENTION_KEYS},
                   reason=f"the renewals {begin}, after the previous period's as-of date "
                          f"{period.previous_as_of.isoformat()}: that period has no data of its own to compare with")
    else:
        figures = retention_summary(accounts, renewals, period.previous_as_of, one_year_before(period.previous_as_of))
        out.update({k: figures[k] for k in RETENTION_KEYS}, reason=figures.get("reason") or
                   (None if coverage.covers_as_of else coverage.reason))
    out["quadrants"] = previous_quadrants
    return out


def _plain(row: dict) -> dict:
    return {k: (None if isinstance(v, float) and v != v else v.item() if hasattr(v, "item")
                else v.isoformat()[:10] if hasattr(v, "isoformat") else v)
            for k, v in row.items()}


GAP_KEYS = ("rank", "kind", "account_id", "gap", "action", "owner", "arr_at_stake", "evidence", "q_value", "not_first",
            "window", "compared_with", "exposed_churn_rate", "reference_churn_rate", "exposed_loss_rate",
            "reference_loss_rate", "excess_loss_rate", "arr_kept", "arr_kept_low",
            "arr_kept_high", "money_at_risk", "money_at_risk_low", "money_at_risk_high", "accounts", "owner_basis",
            "due_date", "due_basis")


def value_gaps(wins, top: int, alpha: float) -> dict:
    """Where value leaks, from the ranked quick wins (step 8; nothing is
    computed twice): ``do_first``, the tested gaps large enough to act on
    (systemic or account), in the ranking's order; ``gaps``, every tested
    systemic gap by money at risk; ``worth_a_look``, the systemic gaps that
    are plain counts or did not pass the test or the minimum effect. Each
    record carries its evidence, window, money and confidence
    (:func:`vga.stats.confidence` at ``alpha``)."""
    out = {"do_first": [], "gaps": [], "worth_a_look": []}
    if wins is None or wins.empty:
        return out

    def records(frame):
        rows = []
        for row in frame.to_dict("records"):
            rec = _plain({k: row[k] for k in GAP_KEYS if k in row})
            rec["confidence"] = (confidence(row.get("q_value"), alpha, row.get("money_at_risk_low"))
                                 if row.get("tested") else "descriptive")
            rows.append(rec)
        return rows

    systemic = wins[wins["kind"] == "systemic"]
    out["do_first"] = records(wins[wins["do_first"]].head(top))
    out["gaps"] = records(systemic[systemic["tested"]].head(top))
    out["worth_a_look"] = records(systemic[~systemic["do_first"]].head(top))
    return out


def expansion_lines(behaviours) -> list[dict]:
    """The expansion drivers (:func:`vga.analysis.money_at_risk.expansion_drivers`) as records."""
    from ..analysis.money_at_risk import expansion_drivers

    return [_plain(r) for r in expansion_drivers(behaviours).to_dict("records")]


def churn_labels(agreement) -> list[dict]:
    """``churn_labels.csv`` as records (empty without [churn_labels])."""
    if agreement is None:
        return []
    return [{k: (str(v) if k == "label" else int(v)) for k, v in row.items()} for row in agreement.to_dict("records")]


def early_warnings(table) -> dict:
    """The backtest's headline for the summary: the health score as a
    warning, and the signal that tells churn from renewal best (the largest
    gap between its two rates among the flagged ones); empty without one."""
    if table is None or table.empty:
        return {}
    keep = ["signal", "signal_name", "churned_decisions", "fired_before_churn", "recall", "lead_days_median",
            "lead_days_min", "lead_days_max",
            "retained_decisions", "fired_before_retained", "false_alarm_rate", "q_value", "flagged", "tested"]

    def plain(row):
        return {k: (None if v != v else v.item() if hasattr(v, "item") else v) for k, v in row[keep].items()}

    out = {}
    score = table[table["signal"] == "health_below_threshold"]
    if len(score):
        out["health_score"] = plain(score.iloc[0])
    flagged = table[table["flagged"] & (table["signal"] != "health_below_threshold")]
    if len(flagged):
        best = flagged.assign(gap=flagged["recall"] - flagged["false_alarm_rate"]).sort_values("gap").iloc[-1]
        out["best_signal"] = plain(best)
    return out


def compute(run: Context, upstream: dict) -> dict:
    """The headline figures, from the outputs of the retention, quadrant and
    data-gathering steps (nothing is computed twice), with the same figures
    as of the previous period, the top value gaps and the top quick wins."""
    retention = upstream[RETENTION_JSON]
    view = upstream[QUADRANT_VIEW_JSON]
    gathering = upstream[DATA_GATHERING_JSON]
    report = run.settings.report
    reasons = {}
    if retention.get("reason"):
        reasons["retention"] = retention["reason"]
    if not view["covered"]:
        reasons["quadrants"] = view["reason"]
        quadrants = {name: {"accounts": None, "arr": None} for name in q.QUADRANTS}
    else:
        quadrants = q.quadrant_totals(upstream[QUADRANTS_CSV])
    wins = upstream[QUICK_WINS_CSV]
    top_wins = [] if wins is None else [_plain({k: row[k] for k in GAP_KEYS if k in row})
                                        for row in wins.head(int(report.top_quick_wins)).to_dict("records")]
    slices = upstream[SLICES_CSV]
    accounts = run.inputs.table("accounts")
    analysis = run.settings.analysis
    checks = plausibility_warnings(retention, upstream[QUADRANTS_CSV] if view["covered"] else None, accounts,
                                   slicing_dimensions(accounts, analysis.slicing_dimensions),
                                   int(analysis.min_accounts))
    gaps = value_gaps(upstream[QUICK_WINS_CSV] if view["covered"] else None, int(report.top_value_gaps),
                      float(run.settings.analysis.alpha))
    # Accounts by name where the data has one (and names are not redacted).
    names = account_names(accounts, analysis).to_dict()
    for record in [*gaps["do_first"], *top_wins]:
        record["account_name"] = names.get(record.get("account_id") or "", "") or ""
    summary = {
        "period": run.period.label,
        "as_of": run.period.as_of.isoformat(),
        "window_start": run.period.window_start.isoformat(),
        "previous_period": run.period.previous_label,
        "accounts_total": retention["accounts_total"],
        "arr_total": retention["arr_total"],
        "active_accounts": retention["active_accounts"],
        **{k: retention[k] for k in FIGURES},
        "quadrants": quadrants,
        "data_quality": run.inputs.quality(),
        "coverage": gathering["coverage"],
        "warnings": gathering["warnings"] + checks,
        "plausibility": checks,
        "null_reasons": reasons,
        "previous": previous_figures(run.inputs, run.period, run.settings, view.get("previous_quadrants")),
        "value_gaps": gaps["gaps"],
        "do_first": gaps["do_first"],
        "renewals_shape": upstream[CHURNED_CUSTOMERS_JSON].get("renewals_shape") or "full",
        "do_first_total": ((upstream.get(QUICK_WINS_JSON) or {}).get("do_first_total") if view["covered"] else None),
        "worth_a_look": gaps["worth_a_look"],
        "expansion_drivers": expansion_lines(upstream.get(BEHAVIOURS_CSV)),
        "bridge": retention.get("bridge") or {},
        "trend": [] if upstream.get(RETENTION_TREND_CSV) is None else
        [_plain(r) for r in upstream[RETENTION_TREND_CSV].to_dict("records")],
        "top_quick_wins": top_wins,
        "lookback": {k: upstream[CHURNED_CUSTOMERS_JSON].get(k) for k in ("lookback_months", "lookback_start")},
        "untested_slices": int((~slices["tested"]).sum()) if slices is not None else None,
        "currency": report.currency,
        "assumptions": list(run.settings.analysis.assumptions),
        "churn_labels": churn_labels(upstream.get(CHURN_LABELS_CSV)),
        "early_warning": early_warnings(upstream.get(EARLY_WARNING_CSV)),
        "health_threshold": float(run.settings.analysis.health_threshold),
    }
    populations = churn_populations(retention, run.period.window_start.isoformat(), run.period.as_of.isoformat(),
                                    upstream[CHURNED_CUSTOMERS_JSON], upstream[SURVIVAL_JSON])
    summary["churn_populations"] = populations.to_dict("records")
    figures = named_figures({**retention, "window_start": run.period.window_start.isoformat(),
                             "as_of": run.period.as_of.isoformat()}, upstream[CHURNED_CUSTOMERS_JSON],
                            upstream[SURVIVAL_JSON], populations, summary.get("do_first_total"))
    summary["figures"] = figures.to_dict("records")
    summary["news"] = news(retention, dict(run.settings.targets),
                           upstream[QUADRANTS_CSV] if view["covered"] else None, accounts,
                           upstream.get(INTERVENTIONS_JSON), run.period.as_of, upstream.get(INTERVENTION_EFFECT_CSV))
    return {SUMMARY_JSON: summary, CHURN_POPULATIONS_CSV: populations, FIGURES_CSV: figures}


NODE = Node(
    key="executive_summary", title="Executive summary", compute=compute,
    needs=("retention", "quadrant_view", "data_gathering", "pattern_slicing", "quick_wins", "churned_customers",
           "early_warning", "survival", "renewed_customers", "interventions"),
    outputs=(Output(SUMMARY_JSON, "the headline figures (see the metric definitions), the same as of the previous "
                                    "period, the top value gaps and quick wins"),
             Output(CHURN_POPULATIONS_CSV, "the run's churn counts side by side: the retention cohort, the renewal "
                                             "decisions of the look-back and the survival subjects, with what each "
                                             "leaves out",
                    {"population": "str", "window": "str", "counted": "int", "unit": "str", "churned": "int",
                     "churn_share": "float", "left_out": "str", "used_for": "str"}),
             Output(FIGURES_CSV, "the named figures the report's sentences cite, each once: name, label, value, "
                                 "unit (share, money, count), population and window",
                    {"name": "str", "label": "str", "value": "float", "unit": "str", "population": "str",
                     "window": "str"})),
)
