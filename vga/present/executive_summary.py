"""Executive summary: the headline figures, first in the report."""

from __future__ import annotations

import pandas as pd

from .. import plots
from .blocks import bullets, count, figure, kpis, money, note, pct, stack, table
from .quadrant_view import QUADRANT_TEXT


def warnings(view):
    """What the reader must know before any number: coverage and freshness."""
    summary = view["summary.json"]
    return stack(*[note(w, "warn") for w in summary["warnings"]])


def headline(view):
    s = view["summary.json"]
    cards = kpis([
        ("Net revenue retention", pct(s["nrr"]), "ARR kept and grown from the cohort"),
        ("Gross revenue retention", pct(s["grr"]), "ARR kept, ignoring growth"),
        ("Logo churn", pct(s["logo_churn_rate"]), f"of {count(s['cohort_accounts'])} cohort accounts"),
        ("ARR churned", money(s["arr_churned"]), "from accounts that left"),
        ("ARR contracted", money(s["arr_contracted"]), "from accounts that shrank"),
        ("ARR expanded", money(s["arr_expanded"]), "from accounts that grew"),
    ])
    reasons = [note(f"Retention figures are not shown: {r}.", "warn") for k, r in s["null_reasons"].items()
               if k == "retention"]
    return stack(cards, *reasons)


def quadrants(view):
    """Active accounts by quadrant, with the ARR each holds."""
    s = view["summary.json"]
    if "quadrants" in s["null_reasons"]:
        return note(f"The quadrant is not shown: {s['null_reasons']['quadrants']}.", "warn")
    rows = [{"quadrant": k, "accounts": v["accounts"], "ARR": v["arr"], "what it means": QUADRANT_TEXT[k]}
            for k, v in s["quadrants"].items()]
    fig, ax = plots.new_figure(7, 3)
    plots.quadrant_arr_bars(view["quadrants.csv"], ax=ax)
    return stack(table(pd.DataFrame(rows), {"ARR": money, "accounts": count}),
                 figure(fig, "Bar chart of ARR per quadrant with account counts", "ARR at the as-of date, per quadrant."))


def lost_where(view):
    """Flagged slices, as sentences."""
    slices = view["slices.csv"]
    if slices is None:
        return note("Churn by slice cannot be computed without renewals covering the period.", "skip")
    flagged = slices[slices["flagged"]].sort_values("q_value")
    lines = [f"{r.dimension} = {r.value}: churn {pct(r.churn_rate)} vs {pct(r.rest_churn_rate)} for the rest "
             f"({r.accounts:,} accounts)" for r in flagged.itertuples()]
    return bullets(lines) if lines else note("No slice differs from the rest after adjustment.")


def trust(view):
    """What went in and what was set aside."""
    quality = view["summary.json"]["data_quality"]
    read = sum(q["rows_read"] for q in quality.values())
    held = sum(q["rows_quarantined"] for q in quality.values())
    blank = sum(q["cells_blanked"] for q in quality.values())
    return note(f"{len(quality)} tables, {read:,} rows read; {held:,} rows quarantined and {blank:,} cells blanked, "
                "each with its reason in the run's quarantine folder.")
