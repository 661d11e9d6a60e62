"""Step 11, the executive summary: ``results/summary.json``."""

from __future__ import annotations

from scipy.stats import fisher_exact

from .. import quadrant as q
from ..coverage import assess
from ..periods import one_year_before
from ..plausibility import plausibility_warnings
from ..populations import churn_populations
from ..slicing import slicing_dimensions
from ..retention import RETENTION_KEYS, retention_summary
from . import Output, Step

FIGURES = ("cohort_accounts", "nrr", "grr", "logo_churn_rate", "arr_churned", "arr_contracted", "arr_expanded")


def previous_figures(inputs, period, settings, previous_quadrants: dict | None) -> dict:
    """The headline figures as of the previous period's as-of date, from the
    same data (the same definitions, as of that date), for "what changed".
    Null, with the reason, where the data does not reach back that far."""
    accounts, renewals = inputs.table("accounts"), inputs.table("renewals")
    out = {"period": period.previous_label, "as_of": period.previous_as_of.isoformat(), "reason": None}
    coverage = assess(inputs.sources, period.previous_as_of, settings["analysis"])
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


def confidence(q_value) -> str:
    """A word for a q value: how sure the analysis is that a gap is real."""
    if q_value is None or q_value != q_value:
        return "descriptive"
    return "high" if q_value < 0.01 else "medium" if q_value < 0.05 else "low"


def value_gaps(upstream, alpha: float, top: int) -> list[dict]:
    """Where value leaks, ranked by ARR at stake: the Frustrated Power Users
    and Churn Risk quadrants (with their churn over the look-back against
    Champions), and each systemic quick win (flagged slice, milestone,
    workflow step, ticket category). Each with its evidence and confidence."""
    gaps = []
    quadrants = upstream["quadrants.csv"]
    churn = upstream["quadrant_churn.csv"]
    rates = churn.set_index("quadrant") if churn is not None and len(churn) else None
    if quadrants is not None and len(quadrants):
        for name in (q.FRUSTRATED, q.CHURN_RISK):
            part = quadrants[quadrants["quadrant"] == name]
            if part.empty:
                continue
            evidence = f"{len(part):,} active accounts"
            level = "descriptive"
            if rates is not None and name in rates.index and q.CHAMPIONS in rates.index:
                mine, base = rates.loc[name], rates.loc[q.CHAMPIONS]
                evidence += (f"; over the churn look-back this quadrant churned at {100 * mine['churn_rate']:.1f}% of "
                             f"{int(mine['decisions'])} decisions against {100 * base['churn_rate']:.1f}% for Champions")
                table = [[int(mine["churned"]), int(mine["decisions"] - mine["churned"])],
                         [int(base["churned"]), int(base["decisions"] - base["churned"])]]
                level = confidence(fisher_exact(table)[1]) if min(mine["decisions"], base["decisions"]) >= 10 else "low"
            gaps.append({"gap": f"{name} quadrant", "arr_at_stake": float(part["arr"].sum()), "evidence": evidence,
                         "confidence": level})
    wins = upstream["quick_wins.csv"]
    if wins is not None and len(wins):
        for _, w in wins[wins["kind"] == "systemic"].iterrows():
            level = confidence(w["q_value"])
            gaps.append({"gap": w["gap"], "arr_at_stake": float(w["arr_at_stake"]), "evidence": w["evidence"],
                         "confidence": level, "owner": w["owner"], "action": w["action"]})
    gaps.sort(key=lambda g: -g["arr_at_stake"])
    return gaps[:top]


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


def compute(inputs, period, settings, upstream) -> dict:
    """The headline figures, from the outputs of the retention, quadrant and
    data-gathering steps (nothing is computed twice), with the same figures
    as of the previous period, the top value gaps and the top quick wins."""
    retention = upstream["retention.json"]
    view = upstream["quadrant_view.json"]
    gathering = upstream["data_gathering.json"]
    report = settings["report"]
    reasons = {}
    if retention.get("reason"):
        reasons["retention"] = retention["reason"]
    if not view["covered"]:
        reasons["quadrants"] = view["reason"]
        quadrants = {name: {"accounts": None, "arr": None} for name in q.QUADRANTS}
    else:
        quadrants = q.quadrant_totals(upstream["quadrants.csv"])
    wins = upstream["quick_wins.csv"]
    top_wins = [] if wins is None else [
        {k: (float(v) if k == "arr_at_stake" else int(v) if k == "rank" else str(v)) for k, v in row.items() if k != "q_value"}
        for row in wins.head(int(report["top_quick_wins"])).to_dict("records")]
    slices = upstream["slices.csv"]
    accounts = inputs.table("accounts")
    analysis = settings["analysis"]
    checks = plausibility_warnings(retention, upstream["quadrants.csv"] if view["covered"] else None, accounts,
                                   slicing_dimensions(accounts, analysis["slicing_dimensions"]),
                                   int(analysis["min_accounts"]))
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
        "warnings": gathering["warnings"] + checks,
        "plausibility": checks,
        "null_reasons": reasons,
        "previous": previous_figures(inputs, period, settings, view.get("previous_quadrants")),
        "value_gaps": value_gaps(upstream, settings["analysis"]["alpha"], int(report["top_value_gaps"])) if view["covered"] else [],
        "top_quick_wins": top_wins,
        "lookback": {k: upstream["churned_customers.json"].get(k) for k in ("lookback_months", "lookback_start")},
        "untested_slices": int((~slices["tested"]).sum()) if slices is not None else None,
        "currency": report["currency"],
        "assumptions": list(settings["analysis"].get("assumptions") or []),
        "churn_labels": churn_labels(upstream.get("churn_labels.csv")),
        "early_warning": early_warnings(upstream.get("early_warning.csv")),
        "health_threshold": float(settings["analysis"]["health_threshold"]),
    }
    populations = churn_populations(retention, period.window_start.isoformat(), period.as_of.isoformat(),
                                    upstream["churned_customers.json"], upstream["survival.json"])
    summary["churn_populations"] = populations.to_dict("records")
    return {"summary.json": summary, "churn_populations.csv": populations}


STEP = Step(
    key="executive_summary", number=11, title="Executive summary", notebook="11_executive_summary", compute=compute,
    needs=("retention", "quadrant_view", "data_gathering", "pattern_slicing", "quick_wins", "churned_customers",
           "early_warning", "survival"),
    settings=("analysis", "report"),
    shows=("quadrants.csv", "slices.csv"),
    outputs=(Output("summary.json", "the headline figures (see the metric definitions), the same as of the previous "
                                    "period, the top value gaps and quick wins"),
             Output("churn_populations.csv", "the run's churn counts side by side: the retention cohort, the renewal "
                                             "decisions of the look-back and the survival subjects, with what each "
                                             "leaves out",
                    {"population": "str", "window": "str", "counted": "int", "unit": "str", "churned": "int",
                     "churn_share": "float", "left_out": "str", "used_for": "str"})),
)
