"""Step 5 · Pattern slicing: which slices lose customers."""

from __future__ import annotations

from . import View
from ..outputs import RETENTION_JSON, SLICES_CSV
from . import Chapter, plots
from .blocks import not_shown, stat, count, figure, finding, kpis, note, p_value, pct, stack, table

CHAPTER = Chapter(number=5, title="Pattern slicing", notebook="05_pattern_slicing", node="pattern_slicing",
                  shows=(RETENTION_JSON,))

SHOWN = ["dimension", "value", "accounts", "churned", "churn_rate", "rest_churn_rate", "p_value", "q_value"]
FORMATS = {"churn_rate": pct, "rest_churn_rate": pct, "p_value": p_value, "q_value": p_value}


def _skipped(view: View):
    reason = view[RETENTION_JSON].get("reason")
    return note(f"Slices cannot be compared: {reason}." if reason else "Slices cannot be compared.", "skip")


def findings(view: View):
    """Counts of slices tested and flagged, and one sentence per flagged slice."""
    slices = view[SLICES_CSV]
    if slices is None:
        return _skipped(view)
    a = view.settings.analysis
    flagged = slices[slices["flagged"]].sort_values("q_value")
    lines = [
        finding(f"{r.dimension} = {r.value} churned {pct(r.churn_rate)} of its {r.accounts:,} cohort accounts, "
                f"against {pct(r.rest_churn_rate)} for the rest ({stat('q', r.q_value)}).")
        for r in flagged.itertuples()
    ]
    if not lines:
        lines = [finding(f"No slice's churn differs from the rest of the cohort after adjusting for the "
                         f"{int(slices['tested'].sum())} slices tested.")]
    return stack(kpis([
        ("slices tested", count(slices["tested"].sum()), f"at least {a.min_accounts} cohort accounts"),
        ("slices flagged", count(len(flagged)), f"q below {a.alpha}"),
        ("listed, not tested", count((~slices["tested"]).sum()), "too few accounts to judge"),
    ]), *lines)


def flagged(view: View):
    slices = view[SLICES_CSV]
    if slices is None:
        return not_shown()
    rows = slices[slices["flagged"]]
    if not len(rows):
        return note("No slice differs from the rest after adjustment.")
    return table(rows[SHOWN], FORMATS)


def chart(view: View):
    slices = view[SLICES_CSV]
    if slices is None or not len(slices):
        return not_shown("no slice to chart")
    first = slices.iloc[0]
    overall = (first["churned"] + first["rest_churned"]) / (first["accounts"] + first["rest_accounts"])
    tested = int(slices["tested"].sum())
    fig, ax = plots.new_figure(7, max(2.5, 0.28 * tested + 1))
    plots.slice_churn_bars(slices, overall, ax=ax)
    return figure(fig, f"Bar chart of logo churn for {tested} tested slices against the whole cohort's "
                       f"{pct(overall)}; flagged slices in red",
                  "Churn of each tested slice; the dashed line is the whole cohort.")


def untested(view: View):
    slices = view[SLICES_CSV]
    if slices is None:
        return not_shown()
    small = slices[~slices["tested"]][["dimension", "value", "accounts", "churned", "churn_rate"]]
    if not len(small):
        return note("Every slice was large enough to test.")
    return table(small, {"churn_rate": pct})
