"""The news first: what an executive must know this period, ranked by money.

Each item is a plain sentence with the ARR it concerns (``arr``, in the
data's currency, or None for a status without money), a ``tone`` ("bad",
"good" or "neutral") and the ``chapter`` whose section says more. The
executive summary's "In short" shows them before anything else, the bad
news with the most ARR first; nothing here is computed that another step
already computed, apart from the renewals due in the next 90 days.

- **Targets** (``[targets]`` in ``vga.toml``: ``nrr``, ``grr``,
  ``logo_churn_rate`` as fractions): each figure against its target, met or
  short by how many points; when none is set, one line says so and how to
  set them.
- **Red that stayed red**: active accounts whose health colour is red now
  and was red at the previous period's as-of date (``quadrants.csv``).
- **Renewals due in the next 90 days**: active accounts whose
  ``accounts.renewal_date`` falls in ``(as_of, as_of + 90 days]``, their ARR,
  and how much of it is red or yellow now.
- **Overdue interventions** (``interventions.json``): open past their
  target date, with the ARR of the accounts still active and how many are on
  accounts that already left.
- **Fixes shipped, not confirmed** by the customer (``interventions.json``).
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

#: Days ahead for the renewals due.
RENEWALS_AHEAD_DAYS = 90
#: The targets ``[targets]`` may set: key -> (name in words, higher is better).
TARGETS = {"nrr": ("NRR", True), "grr": ("GRR", True), "logo_churn_rate": ("logo churn", False)}


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _money(value: float) -> str:
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:,.1f}{suffix}"
    return f"{value:,.0f}"


def _accounts(n: int) -> str:
    return f"{n:,} account{'' if n == 1 else 's'}"


def target_items(figures: dict, targets: dict) -> list[dict]:
    """Each headline figure against its target ([targets]); one line saying
    none is set when no target is."""
    given = {k: v for k, v in targets.items() if k in TARGETS and v not in ("", None)}
    if not given:
        return [{"text": "No targets are set for NRR, GRR or logo churn, so nothing says whether these figures are "
                         "good (set them under targets in vga.toml).",
                 "arr": None, "tone": "neutral", "chapter": "executive_summary"}]
    out = []
    for key, target in given.items():
        value = figures.get(key)
        name, higher = TARGETS[key]
        if value is None:
            continue
        points = 100 * (value - float(target))
        met = points >= 0 if higher else points <= 0
        gap = abs(round(points, 1))
        cohort = figures.get("cohort_accounts")
        whose = f" of the {int(cohort):,} accounts paying a year ago" if cohort else ""
        text = (f"{name}{whose} is {_pct(value)} against a target of {_pct(float(target))}: "
                + ("met." if met and gap == 0 else f"{'better' if met else 'worse'} by {gap:.1f} points."))
        out.append({"text": text, "arr": None, "tone": "good" if met else "bad", "chapter": "executive_summary"})
    return out


def stayed_red(quadrants: pd.DataFrame | None) -> dict | None:
    """Active accounts red now and red at the previous period's as-of date."""
    if quadrants is None or quadrants.empty or "previous_health_color" not in quadrants.columns:
        return None
    red = quadrants[(quadrants["health_color"] == "red") & (quadrants["previous_health_color"] == "red")]
    if red.empty:
        return None
    total = float(quadrants["arr"].sum())
    arr = float(red["arr"].sum())
    one = len(red) == 1
    return {"text": f"{_accounts(len(red))} holding {_money(arr)} of ARR ({_pct(arr / total if total else 0)}) "
                    f"{'was' if one else 'were'} red at the previous period and {'is' if one else 'are'} red still.",
            "arr": arr, "tone": "bad", "chapter": "interventions"}


def renewals_due(accounts: pd.DataFrame, quadrants: pd.DataFrame | None, as_of: date) -> dict | None:
    """Active accounts renewing in the next :data:`RENEWALS_AHEAD_DAYS` days
    (``accounts.renewal_date``), with their ARR and how much of it is red or
    yellow now."""
    if quadrants is None or quadrants.empty or "renewal_date" not in accounts.columns:
        return None
    due = pd.to_datetime(accounts.drop_duplicates("account_id").set_index("account_id")["renewal_date"],
                         errors="coerce")
    end = pd.Timestamp(as_of + timedelta(days=RENEWALS_AHEAD_DAYS))
    soon = set(due[(due > pd.Timestamp(as_of)) & (due <= end)].index)
    rows = quadrants[quadrants["account_id"].isin(soon)]
    if rows.empty:
        return None
    arr = float(rows["arr"].sum())
    weak = rows[rows["health_color"].isin(["red", "yellow"])]
    text = (f"{_accounts(len(rows))} holding {_money(arr)} of ARR renew{'s' if len(rows) == 1 else ''} by "
            f"{end.date().isoformat()} (the next {RENEWALS_AHEAD_DAYS} days); {_money(float(weak['arr'].sum()))} of it "
            f"is on accounts red or yellow now ({_accounts(len(weak))}).")
    return {"text": text, "arr": float(weak["arr"].sum()) or arr, "tone": "bad" if len(weak) else "neutral",
            "chapter": "quadrant_view"}


def intervention_items(facts: dict | None) -> list[dict]:
    """Overdue interventions and unconfirmed fixes, from ``interventions.json``."""
    if not facts:
        return []
    out = []
    overdue = facts.get("overdue_list") or []
    if overdue:
        gone = sum(1 for o in overdue if not o.get("arr"))
        arr = float(sum(o.get("arr") or 0 for o in overdue))
        one = len(overdue) == 1
        text = (f"{len(overdue):,} intervention{' is' if one else 's are'} past {'its' if one else 'their'} target "
                f"date and still open, on accounts holding {_money(arr)} of ARR")
        if gone:
            text += ("; it is on an account that has already left." if one else
                     f"; {gone:,} of them {'is' if gone == 1 else 'are'} on "
                     f"{'an account that has' if gone == 1 else 'accounts that have'} already left.")
        else:
            text += "."
        out.append({"text": text, "arr": arr, "tone": "bad", "chapter": "interventions"})
    fixes = facts.get("fixes") or {}
    if fixes.get("shipped"):
        confirmed = int(fixes.get("confirmed") or 0)
        out.append({"text": f"{confirmed:,} of {int(fixes['shipped']):,} shipped product fixes were confirmed by the "
                            "customer who asked for them.",
                    "arr": None, "tone": "bad" if confirmed < int(fixes["shipped"]) / 2 else "good",
                    "chapter": "interventions"})
    return out


def news(figures: dict, targets: dict, quadrants: pd.DataFrame | None, accounts: pd.DataFrame,
         interventions: dict | None, as_of: date) -> list[dict]:
    """Every item (module docstring): targets first, then the bad news with
    money by ARR (largest first), then the rest."""
    found = [stayed_red(quadrants), renewals_due(accounts, quadrants, as_of), *intervention_items(interventions)]
    found = [f for f in found if f]
    money = sorted((f for f in found if f["arr"] is not None), key=lambda f: -f["arr"])
    other = [f for f in found if f["arr"] is None]
    return target_items(figures, targets) + money + other
