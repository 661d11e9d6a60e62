"""Step 5 · Pattern slicing: which slices lose customers."""

from __future__ import annotations

from . import View
from ..outputs import RETENTION_JSON, SLICES_CSV
from . import Chapter, plots
from .blocks import Html, not_shown, stat, count, figure, finding, kpis, note, p_value, pct, stack, table
from .. import words
from ..analysis.slicing import STANDARD_DIMENSIONS, mostly_unknown

CHAPTER = Chapter(number=5, title="Pattern slicing", notebook="05_pattern_slicing", node="pattern_slicing", place=2,
                  shows=(RETENTION_JSON,), reads=('analysis.slicing_dimensions', 'analysis.min_accounts', 'analysis.alpha'))

SHOWN = ["dimension", "value", "accounts", "churned", "churn_rate", "known_rest_churn_rate", "known_q_value",
         "rest_churn_rate", "q_value"]
FORMATS = {"churn_rate": pct, "known_rest_churn_rate": pct, "rest_churn_rate": pct, "known_q_value": p_value,
           "q_value": p_value}
NAMES = {"known_rest_churn_rate": "churn of its dimension's other known values", "known_q_value": "q (known values)",
         "rest_churn_rate": "churn of all other accounts (spec)", "q_value": "q (spec)"}


def _known(slices):
    """``slices`` with the known comparison (older tables: the spec's)."""
    if "known_flagged" in slices.columns:
        return slices
    return slices.assign(known=True, known_flagged=slices["flagged"], known_q_value=slices["q_value"],
                         known_rest_churn_rate=slices["rest_churn_rate"], unknown_accounts=0,
                         unknown_churned=0, unknown_churn_rate=float("nan"))


def slice_lines(slices) -> list[str]:
    """One sentence per slice flagged against the other known values of its
    dimension, with the dimension's unknowns named apart, never as part of
    the rest: "segment = SMB churned 31.2% of its 402 cohort accounts, against
    18.0% for the other segment values (q < 0.001); 41 accounts with no
    segment recorded churned 2.4%, counted in neither"."""
    slices = _known(slices)
    flagged = slices[slices["known_flagged"].astype(bool)].sort_values("known_q_value")
    lines = []
    for r in flagged.itertuples():
        dim = words.dimension(r.dimension)
        text = (f"{words.slice_name(r.dimension, r.value)} churned {pct(r.churn_rate)} of its {r.accounts:,} cohort "
                f"accounts, against {pct(r.known_rest_churn_rate)} for the other {dim} values "
                f"({stat('q', r.known_q_value)})")
        if r.unknown_accounts:
            text += (f"; {words.plural(int(r.unknown_accounts), 'account')} with no {dim} recorded churned "
                     f"{pct(r.unknown_churn_rate)}, counted in neither")
        lines.append(text + ".")
    return lines


def _skipped(view: View):
    reason = view[RETENTION_JSON].get("reason")
    return note(f"Slices cannot be compared: {reason}." if reason else "Slices cannot be compared.", "skip")


def findings(view: View):
    """Counts of slices tested and flagged, and one sentence per flagged slice."""
    slices = view[SLICES_CSV]
    if slices is None:
        return _skipped(view)
    a = view.settings.analysis
    slices = _known(slices)
    flagged = slices[slices["known_flagged"].astype(bool)]
    lines = [finding(line) for line in slice_lines(slices)]
    if not lines:
        lines = [finding(f"No slice's churn differs from the other known values of its dimension after adjusting "
                         f"for the {int(slices['known_q_value'].notna().sum())} slices tested.")]
    compared = slices["known_q_value"].notna()  # a placeholder, or a dimension's only known value: not compared
    only_spec = slices[slices["flagged"].astype(bool) & ~slices["known_flagged"].astype(bool) & compared]
    if len(only_spec):
        names = ", ".join(words.slice_name(r.dimension, r.value) for r in only_spec.itertuples())
        lines.append(note(f"Against every other cohort account, accounts with no value included (the definition's "
                          f"comparison, in slices.csv's flagged column), {names} "
                          f"{'is' if len(only_spec) == 1 else 'are'} also flagged; against the other known values "
                          f"{'it does' if len(only_spec) == 1 else 'they do'} not differ, so the unknowns make the "
                          "difference and the report does not act on it."))
    for m in mostly_unknown(slices).itertuples():
        lines.append(note(f"{words.dimension(m.dimension).capitalize()} is unknown for {count(m.unknown_accounts)} of "
                          f"the {count(m.cohort_accounts)} cohort accounts ({pct(m.unknown_share)}): its slices speak "
                          "for the accounts that have a value only.", "warn"))
    sliced = list(dict.fromkeys(slices["dimension"]))
    empty = [d for d in a.slicing_dimensions if d not in sliced]  # configured, yet no account has a value
    absent = [d for d in STANDARD_DIMENSIONS if d not in sliced and d not in empty]
    if sliced:
        text = "Sliced by " + ", ".join(words.dimension(d) for d in sliced)
        if empty:
            text += "; configured, yet no cohort account has a value: " + ", ".join(words.dimension(d) for d in empty)
        if absent:
            text += ("; not in the accounts export (or empty for every cohort account): "
                     + ", ".join(words.dimension(d) for d in absent))
        lines.append(note(text + "."))
    return stack(kpis([
        ("slices tested", count(slices["tested"].sum()), f"at least {a.min_accounts} cohort accounts"),
        ("slices flagged", count(len(flagged)), f"q below {a.alpha}, against the other known values"),
        ("listed, not tested", count((~slices["tested"]).sum()), "too few accounts to judge"),
    ]), *lines)


def flagged(view: View):
    slices = view[SLICES_CSV]
    if slices is None:
        return not_shown()
    slices = _known(slices)
    rows = slices[slices["known_flagged"].astype(bool) | slices["flagged"].astype(bool)]
    if not len(rows):
        return note("No slice differs from the rest after adjustment.")
    return table(rows[SHOWN], FORMATS, names=NAMES)


def chart(view: View, key: bool = False):
    """Churn of every tested slice by dimension; with ``key``, only the
    dimensions with a flagged slice (a short chart to show unfolded)."""
    slices = view[SLICES_CSV]
    if slices is None or not len(slices):
        return not_shown("no slice to chart")
    first = slices.iloc[0]
    overall = (first["churned"] + first["rest_churned"]) / (first["accounts"] + first["rest_accounts"])
    tested_rows = slices[slices["tested"].astype(bool)]
    shown = plots.key_dimensions(slices) if key else list(dict.fromkeys(tested_rows["dimension"]))
    if key and not shown:  # nothing flagged: the folded chart below holds every slice
        return Html("")
    drawn = tested_rows[tested_rows["dimension"].isin(shown)]
    fig, ax = plots.new_figure(plots.WIDTH, plots.slice_height(len(drawn), len(shown)))
    plots.slice_churn_bars(slices, overall, ax=ax, dimensions=shown if key else None)
    if key:
        named = ", ".join(words.dimension(d) for d in shown)
        return figure(fig, f"Bar chart of logo churn for the {len(drawn)} tested slices of {named or 'no dimension'}, "
                           f"against the whole cohort's {pct(overall)}; flagged slices in colour",
                      "The dimensions with a slice whose churn differs from the other known values of its dimension "
                      "(in colour); the dashed line is the whole cohort. Every tested slice is in the chart below.")
    return figure(fig, f"Bar chart of logo churn for {len(drawn)} tested slices, grouped by dimension, against the "
                       f"whole cohort's {pct(overall)}; flagged slices in colour",
                  "Churn of each tested slice, grouped by dimension; in colour, the slices whose churn differs from "
                  "the other known values of their dimension; the dashed line is the whole cohort.")


def untested(view: View):
    slices = view[SLICES_CSV]
    if slices is None:
        return not_shown()
    small = slices[~slices["tested"]][["dimension", "value", "accounts", "churned", "churn_rate"]]
    if not len(small):
        return note("Every slice was large enough to test.")
    return table(small, {"churn_rate": pct})
