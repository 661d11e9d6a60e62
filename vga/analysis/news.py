"""The news first: what an executive must know this period, ranked by money.

Each item is a record of its ``kind`` with its numbers, the ARR it is
ranked by (``arr``, in the data's currency, or None for a status without
money), a ``tone`` ("bad", "good" or "neutral") and the ``chapter`` whose
section says more; :func:`vga.present.executive_summary.news_text` words it
(in the report's money and percentage formats, the currency included). The
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
- **Playbooks without effect** (``intervention_effect.csv``): the playbooks
  measured whose difference in differences shows no clear gain (no flagged
  measure with a positive effect), with the accounts they treated.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

#: Days ahead for the renewals due.
RENEWALS_AHEAD_DAYS = 90
#: The targets ``[targets]`` may set: key -> (name in words, higher is better).
TARGETS = {"nrr": ("NRR", True), "grr": ("GRR", True), "logo_churn_rate": ("logo churn", False)}


def target_items(figures: dict, targets: dict) -> list[dict]:
    """Each headline figure against its target ([targets]): ``kind``
    "target" with ``name``, ``value``, ``target``, ``points`` (value minus
    target, in points), ``met`` and ``cohort_accounts``; one item of kind
    "no_targets" when none is set."""
    given = {k: v for k, v in targets.items() if k in TARGETS and v not in ("", None)}
    if not given:
        return [{"kind": "no_targets", "arr": None, "tone": "neutral", "chapter": "executive_summary"}]
    out = []
    for key, target in given.items():
        value = figures.get(key)
        name, higher = TARGETS[key]
        if value is None:
            continue
        points = 100 * (value - float(target))
        met = points >= 0 if higher else points <= 0
        out.append({"kind": "target", "name": name, "value": float(value), "target": float(target),
                    "points": points, "met": bool(met), "cohort_accounts": figures.get("cohort_accounts"),
                    "arr": None, "tone": "good" if met else "bad", "chapter": "executive_summary"})
    return out


def stayed_red(quadrants: pd.DataFrame | None) -> dict | None:
    """Active accounts red now and red at the previous period's as-of date:
    ``accounts``, ``arr``, ``share`` (of active ARR)."""
    if quadrants is None or quadrants.empty or "previous_health_color" not in quadrants.columns:
        return None
    red = quadrants[(quadrants["health_color"] == "red") & (quadrants["previous_health_color"] == "red")]
    if red.empty:
        return None
    total = float(quadrants["arr"].sum())
    arr = float(red["arr"].sum())
    return {"kind": "stayed_red", "accounts": int(len(red)), "arr": arr, "share": arr / total if total else 0.0,
            "tone": "bad", "chapter": "interventions"}


def renewals_due(accounts: pd.DataFrame, quadrants: pd.DataFrame | None, as_of: date) -> dict | None:
    """Active accounts renewing in the next :data:`RENEWALS_AHEAD_DAYS` days
    (``accounts.renewal_date``): ``accounts``, ``arr_due``, ``by`` (the last
    day, ISO), ``weak_accounts`` and ``weak_arr`` (red or yellow now);
    ``arr``, the figure it is ranked by, is the weak ARR (or all of it when
    none is weak)."""
    if quadrants is None or quadrants.empty or "renewal_date" not in accounts.columns:
        return None
    due = pd.to_datetime(accounts.drop_duplicates("account_id").set_index("account_id")["renewal_date"],
                         errors="coerce")
    end = pd.Timestamp(as_of + timedelta(days=RENEWALS_AHEAD_DAYS))
    soon = set(due[(due > pd.Timestamp(as_of)) & (due <= end)].index)
    rows = quadrants[quadrants["account_id"].isin(soon)]
    if rows.empty:
        return None
    weak = rows[rows["health_color"].isin(["red", "yellow"])]
    weak_arr = float(weak["arr"].sum())
    return {"kind": "renewals_due", "accounts": int(len(rows)), "arr_due": float(rows["arr"].sum()),
            "by": end.date().isoformat(), "days": RENEWALS_AHEAD_DAYS, "weak_accounts": int(len(weak)),
            "weak_arr": weak_arr, "arr": weak_arr or float(rows["arr"].sum()),
            "tone": "bad" if len(weak) else "neutral", "chapter": "quadrant_view"}


def intervention_items(facts: dict | None) -> list[dict]:
    """Overdue interventions (``overdue``, ``arr`` of their accounts now,
    ``left``: on accounts with no ARR now) and shipped fixes
    (``shipped``, ``confirmed``), from ``interventions.json``."""
    if not facts:
        return []
    out = []
    overdue = facts.get("overdue_list") or []
    if overdue:
        out.append({"kind": "overdue", "overdue": len(overdue), "left": sum(1 for o in overdue if not o.get("arr")),
                    "arr": float(sum(o.get("arr") or 0 for o in overdue)), "tone": "bad", "chapter": "interventions"})
    fixes = facts.get("fixes") or {}
    if fixes.get("shipped"):
        confirmed, shipped = int(fixes.get("confirmed") or 0), int(fixes["shipped"])
        out.append({"kind": "fixes", "confirmed": confirmed, "shipped": shipped, "arr": None,
                    "tone": "bad" if confirmed < shipped / 2 else "good", "chapter": "interventions"})
    return out


#: The row of ``intervention_effect.csv`` for every playbook together (not a playbook).
ALL_PLAYBOOKS = "all playbooks"


def playbooks_without_effect(effect: pd.DataFrame | None) -> dict | None:
    """The playbooks measured (``intervention_effect.csv``, tested rows; the
    row of all playbooks together is not one) and those with no clear gain
    on any measure (no flagged row with a positive effect): ``measured``,
    ``without`` (their names, sorted) and ``treated`` (accounts each of
    those treated, in the same order: an account two playbooks treated is
    in both)."""
    if effect is None or effect.empty or "playbook" not in effect.columns:
        return None
    tested = effect[effect["playbook"] != ALL_PLAYBOOKS]
    if "tested" in tested.columns:
        tested = tested[tested["tested"].astype(str).str.lower().isin(["true", "1"])]
    if tested.empty:
        return None
    flagged = tested["flagged"].astype(str).str.lower().isin(["true", "1"])
    gained = set(tested.loc[flagged & (tested["effect"].astype(float) > 0), "playbook"])
    measured = sorted(set(tested["playbook"]))
    without = [p for p in measured if p not in gained]
    treated = tested.groupby("playbook")["treated"].max()
    return {"kind": "playbooks", "measured": len(measured), "without": without,
            "treated": [int(treated[p]) for p in without], "arr": None, "tone": "bad" if without else "good",
            "chapter": "interventions"}


def news(figures: dict, targets: dict, quadrants: pd.DataFrame | None, accounts: pd.DataFrame,
         interventions: dict | None, as_of: date, effect: pd.DataFrame | None = None) -> list[dict]:
    """Every item (module docstring): targets first, then the bad news with
    money by ARR (largest first), then the rest."""
    found = [stayed_red(quadrants), renewals_due(accounts, quadrants, as_of), *intervention_items(interventions),
             playbooks_without_effect(effect)]
    found = [f for f in found if f]
    money = sorted((f for f in found if f["arr"] is not None), key=lambda f: -f["arr"])
    other = [f for f in found if f["arr"] is None]
    return target_items(figures, targets) + money + other
