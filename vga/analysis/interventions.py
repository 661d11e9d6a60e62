"""MVP and intervention tracking: health-colour movement against a target,
what the team did (interventions and success plans), and the loop from a
complaint to a shipped fix.

All functions are pure: frames and plain values in, frames and dicts out.
Money is in the data folder's one currency; rates are fractions (0.2),
never rounded here. Dates are compared point-in-time: a row counts "as of
d" when its date is on or before d (all of day d).

Definitions (the project's documented choices):

- Health colours, from worst to best: red, yellow, lime, green (bounds in
  ``[analysis] health_colors``). An account "moved up" when its colour at
  the as-of date is better than its colour at the previous period's as-of
  date; both must be known.
- Previous colour: from the data at the previous period's as-of date
  (``previous_health_color`` of the quadrant table) where the data holds
  health history; else the previous run's ``quadrants.csv``; else none. A
  missing previous colour is never guessed.
- Target (``[interventions]``): of the active accounts whose previous
  colour was in ``from_colors``, the share now in ``to_colors``, against
  ``target_share``. Accounts that churned since are not active and are not
  in the base (the quadrant table covers active accounts only).
- Interventions count as of d when ``started_at`` is on or before d;
  overdue = status ``open`` with a ``target_date`` before d. The status is
  the one in the export: it may have been set after d.
- Outcome association: among active accounts with the same previous
  colour (colours are never pooled), the share that moved up for accounts with an intervention started
  in the retention window ``(window_start, as_of]`` against accounts
  without one; the difference with a 95% Newcombe interval and an
  Agresti-Caffo test (statsmodels). It is an association: the team picks
  which accounts get an intervention, so this is not the effect of one.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from ..stats import adjust_table, mean_interval, share_difference_interval, share_difference_p

COLORS = ("red", "yellow", "lime", "green")  # worst to best
RANK = {c: i for i, c in enumerate(COLORS)}
NOT_RECORDED = "not recorded"
STATUSES = ("open", "achieved", "missed", "dropped", NOT_RECORDED)

PLAYBOOK_COLUMNS = ["playbook", "status", "interventions", "accounts", "arr"]
TRANSITION_COLUMNS = ["previous_color", "color", "accounts", "arr"]
OWNER_COLUMNS = ["owner", "interventions", "accounts", "open", "overdue", "achieved", "missed", "dropped", "arr"]
OUTCOME_COLUMNS = [
    "previous_color", "with_intervention", "with_moved_up", "with_share", "without_intervention",
    "without_moved_up", "without_share", "difference", "ci_lower", "ci_upper", "p_value", "tested",
]


def _end_of(day: date) -> pd.Timestamp:
    """The first instant after ``day``: a value before it is on or before day."""
    return pd.Timestamp(day) + pd.Timedelta(days=1)


def with_previous_colors(quadrants: pd.DataFrame, previous_run: pd.DataFrame | None = None) -> pd.DataFrame:
    """The quadrant table (active accounts) with ``previous_color`` and
    ``previous_color_source`` (``data``, ``previous run`` or empty).

    The data's colour at the previous as-of date wins; the previous run's
    ``health_color`` fills accounts the data does not colour.
    """
    out = quadrants.copy()
    from_data = out["previous_health_color"].fillna("").astype(str) if "previous_health_color" in out.columns \
        else pd.Series("", index=out.index)
    from_run = pd.Series("", index=out.index)
    if previous_run is not None and len(previous_run) and "health_color" in previous_run.columns:
        colors = previous_run.astype({"account_id": str}).drop_duplicates("account_id").set_index("account_id")
        from_run = out["account_id"].astype(str).map(colors["health_color"]).fillna("").astype(str)
    from_data = from_data.where(from_data.isin(COLORS), "")
    from_run = from_run.where(from_run.isin(COLORS), "")
    out["previous_color"] = from_data.where(from_data != "", from_run)
    out["previous_color_source"] = np.select([from_data != "", from_run != ""], ["data", "previous run"], "")
    out["health_color"] = out["health_color"].fillna("").astype(str)
    return out


def color_target(table: pd.DataFrame, from_colors, to_colors, target_share: float) -> dict:
    """Progress against the colour target over ``table`` (with ``previous_color``).

    Returns ``base_accounts`` / ``base_arr`` (previous colour in
    ``from_colors``), ``moved`` / ``moved_arr`` (of those, now in
    ``to_colors``), ``share`` (moved / base), ``target_share``,
    ``target_accounts`` (accounts the target asks for, rounded up),
    ``on_track`` and ``accounts_needed`` (more accounts to reach it);
    figures are None when the base is empty, with ``reason``.
    """
    base = table[table["previous_color"].isin(list(from_colors))]
    moved = base[base["health_color"].isin(list(to_colors))]
    out = {"from_colors": list(from_colors), "to_colors": list(to_colors), "target_share": float(target_share),
           "base_accounts": int(len(base)), "base_arr": float(base["arr"].sum()),
           "moved": int(len(moved)), "moved_arr": float(moved["arr"].sum())}
    if not len(base):
        return out | {"share": None, "target_accounts": None, "on_track": None, "accounts_needed": None,
                      "reason": f"no active account was {' or '.join(from_colors)} at the previous period's as-of date"}
    target_accounts = int(np.ceil(target_share * len(base) - 1e-9))
    return out | {"share": len(moved) / len(base), "target_accounts": target_accounts,
                  "on_track": len(moved) >= target_accounts, "accounts_needed": max(0, target_accounts - len(moved)),
                  "reason": None}


def transition_matrix(table: pd.DataFrame) -> pd.DataFrame:
    """Accounts and ARR per (previous colour, colour now), every active
    account counted once; an unknown colour is an empty string. Rows in
    colour order, worst first."""
    grouped = (table.groupby(["previous_color", "health_color"], dropna=False)
               .agg(accounts=("account_id", "size"), arr=("arr", "sum")).reset_index()
               .rename(columns={"health_color": "color"}))
    order = {c: i for i, c in enumerate(COLORS + ("",))}
    grouped = grouped.sort_values(["previous_color", "color"], key=lambda s: s.map(order)).reset_index(drop=True)
    grouped["accounts"] = grouped["accounts"].astype(np.int64)
    grouped["arr"] = grouped["arr"].astype(float)
    return grouped[TRANSITION_COLUMNS]


def interventions_as_of(interventions: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Interventions started on or before ``as_of``; empty status and owner
    read ``not recorded``; ``overdue`` = open with a target date before as_of."""
    iv = interventions[pd.to_datetime(interventions["started_at"]) < _end_of(as_of)].copy()
    for column in ("owner", "status", "objective"):
        if column not in iv.columns:
            iv[column] = ""
        iv[column] = iv[column].fillna("").astype(str).str.strip().replace("", NOT_RECORDED)
    if "target_date" not in iv.columns:
        iv["target_date"] = pd.NaT
    iv["target_date"] = pd.to_datetime(iv["target_date"])
    iv["overdue"] = (iv["status"] == "open") & (iv["target_date"] < pd.Timestamp(as_of))
    return iv.reset_index(drop=True)


def _arr_of(ids: pd.Series, arr: pd.Series) -> float:
    return float(arr.reindex(pd.Index(ids.unique())).fillna(0.0).sum())


def by_playbook(iv: pd.DataFrame, arr: pd.Series) -> pd.DataFrame:
    """Per playbook and status: interventions, distinct accounts and their
    ARR at the as-of date (``arr``: account_id -> ARR)."""
    rows = [{"playbook": p, "status": s, "interventions": len(g), "accounts": g["account_id"].nunique(),
             "arr": _arr_of(g["account_id"], arr)}
            for (p, s), g in iv.groupby(["playbook", "status"], sort=True)]
    frame = pd.DataFrame(rows, columns=PLAYBOOK_COLUMNS)
    frame["status"] = pd.Categorical(frame["status"], [s for s in STATUSES])
    frame = frame.sort_values(["playbook", "status"]).reset_index(drop=True)
    frame["status"] = frame["status"].astype(str)
    return frame.astype({"interventions": np.int64, "accounts": np.int64, "arr": float})


def by_owner(iv: pd.DataFrame, arr: pd.Series) -> pd.DataFrame:
    """Per owner (a team or person as recorded): interventions, accounts,
    counts by status, overdue, and the accounts' ARR; most interventions first."""
    rows = []
    for owner, g in iv.groupby("owner", sort=True):
        rows.append({"owner": owner, "interventions": len(g), "accounts": g["account_id"].nunique(),
                     **{s: int((g["status"] == s).sum()) for s in ("open", "achieved", "missed", "dropped")},
                     "overdue": int(g["overdue"].sum()), "arr": _arr_of(g["account_id"], arr)})
    frame = pd.DataFrame(rows, columns=OWNER_COLUMNS)
    return frame.sort_values(["interventions", "owner"], ascending=[False, True]).reset_index(drop=True)


def outcome_association(table: pd.DataFrame, iv: pd.DataFrame, window_start: date, as_of: date,
                        min_accounts: int = 10) -> pd.DataFrame:
    """Share of accounts that moved up in health colour, with against without
    an intervention started in ``(window_start, as_of]``, among active
    accounts of the same previous colour.

    ``table``: active accounts with ``previous_color`` and ``health_color``.
    One row per previous colour that can move up (red, yellow, lime); colours
    are never pooled, because accounts of different colours move at
    different rates and the team does not pick them in equal measure. A row
    is tested when each group has at least ``min_accounts`` accounts:
    ``difference`` = with_share - without_share, a 95% Newcombe interval
    (``confint_proportions_2indep``) and the Agresti-Caffo p-value
    (``test_proportions_2indep``). An association, not an effect.
    """
    started = pd.to_datetime(iv["started_at"])
    in_window = iv[(started > pd.Timestamp(window_start)) & (started < _end_of(as_of))]
    treated = set(in_window["account_id"].astype(str))
    known = table[table["previous_color"].isin(COLORS) & table["health_color"].isin(COLORS)].copy()
    known["moved_up"] = known["health_color"].map(RANK) > known["previous_color"].map(RANK)
    known["treated"] = known["account_id"].astype(str).isin(treated)
    rows = []
    for color in COLORS[:-1]:  # green cannot move up
        g = known[known["previous_color"] == color]
        w, wo = g[g["treated"]], g[~g["treated"]]
        row = {"previous_color": color, "with_intervention": len(w), "with_moved_up": int(w["moved_up"].sum()),
               "without_intervention": len(wo), "without_moved_up": int(wo["moved_up"].sum())}
        row["with_share"] = row["with_moved_up"] / len(w) if len(w) else np.nan
        row["without_share"] = row["without_moved_up"] / len(wo) if len(wo) else np.nan
        row["tested"] = len(w) >= min_accounts and len(wo) >= min_accounts
        row["difference"] = row["ci_lower"] = row["ci_upper"] = row["p_value"] = np.nan
        if row["tested"]:
            args = (row["with_moved_up"], len(w), row["without_moved_up"], len(wo))
            low, high = share_difference_interval(*args)
            row |= {"difference": row["with_share"] - row["without_share"], "ci_lower": low, "ci_upper": high,
                    "p_value": share_difference_p(*args)}
        rows.append(row)
    return pd.DataFrame(rows, columns=OUTCOME_COLUMNS)


def fix_loop(fixes: pd.DataFrame, as_of: date, window_start: date | None = None) -> dict:
    """The loop from complaint to fix as of ``as_of``: fixes raised, shipped
    and confirmed by then, still open, the median days raised -> shipped of
    the shipped ones and the median age in days of the open ones; and the
    fixes raised in ``(window_start, as_of]`` when given."""
    end = _end_of(as_of)
    raised_at = pd.to_datetime(fixes["raised_at"])
    f = fixes[raised_at < end]
    raised_at = pd.to_datetime(f["raised_at"])
    shipped_at = pd.to_datetime(f.get("shipped_at", pd.Series(pd.NaT, index=f.index)))
    confirmed_at = pd.to_datetime(f.get("confirmed_at", pd.Series(pd.NaT, index=f.index)))
    shipped = shipped_at < end
    confirmed = confirmed_at < end
    days = (shipped_at[shipped] - raised_at[shipped]).dt.days
    age = (pd.Timestamp(as_of) - raised_at[~shipped]).dt.days
    out = {"raised": int(len(f)), "shipped": int(shipped.sum()), "confirmed": int(confirmed.sum()),
           "open": int((~shipped).sum()), "accounts": int(f["account_id"].nunique()),
           "median_days_to_ship": float(days.median()) if len(days) else None,
           "median_days_open": float(age.median()) if len(age) else None,
           "shipped_share": float(shipped.mean()) if len(f) else None,
           "confirmed_share_of_shipped": float(confirmed[shipped].mean()) if shipped.any() else None}
    if window_start is not None:
        out["raised_in_window"] = int((raised_at > pd.Timestamp(window_start)).sum())
    return out


# --------------------------------------------------------------------------
# Intervention effect: difference in differences against matched controls.

EFFECT_AFTER_DAYS = 90  # "after" is the first grid day at least this many days after the start
EFFECT_MATCHES = 3  # controls per treated account (nearest, with replacement)
EFFECT_COLUMNS = [
    "playbook", "measure", "treated", "controls", "treated_before", "treated_after", "controls_before",
    "controls_after", "effect", "ci_lower", "ci_upper", "p_value", "q_value", "flagged", "tested",
]
MEASURES = {"health_score": "health score", "usage_score": "usage score"}


def score_grid_days(interventions: pd.DataFrame, as_of: date) -> list[date]:
    """The days scores are taken on for the effect: each month's last day
    from the month before the first intervention to the as-of date."""
    first = pd.to_datetime(interventions["started_at"]).min()
    if pd.isna(first):
        return []
    days = pd.date_range(first - pd.offsets.MonthEnd(1), pd.Timestamp(as_of), freq="ME")
    return [d.date() for d in days]


def intervention_effect(interventions: pd.DataFrame, scores: pd.DataFrame, as_of: date, min_n: int = 10,
                        alpha: float = 0.05, after_days: int = EFFECT_AFTER_DAYS,
                        matches: int = EFFECT_MATCHES) -> pd.DataFrame:
    """Health and usage before and after each playbook, against comparable
    accounts that did not get one (difference in differences with matched
    controls), per playbook and for all playbooks together.

    ``scores`` holds ``account_id``, ``day`` (the days of
    :func:`score_grid_days`), ``health_score``, ``usage_score`` and
    ``active`` (ARR above 0 that day), point-in-time.

    For each account's first intervention of a playbook started on day s:
    *before* is the last grid day before s, *after* the first grid day at
    least ``after_days`` after s (on or before the as-of date; later starts
    are not measured yet). Its controls are the ``matches`` accounts nearest
    in (health, usage) on the before day (Euclidean, on the 0..100 scales;
    with replacement) among those active then, with both scores known on
    both days, and with no intervention of any playbook started from 90 days
    before the before day to the after day. The effect for the account is
    its change minus its controls' mean change; a playbook's effect is the
    mean over its accounts with a 95% t-interval and a one-sample t-test
    (BH over the whole table, the rows for all playbooks together included). Fewer than ``min_n`` treated accounts: shown, not
    tested. An estimate, not proof: the team chooses which accounts get a
    playbook, for reasons the scores may not hold.
    """
    if interventions is None or interventions.empty or scores.empty:
        return pd.DataFrame(columns=EFFECT_COLUMNS)
    grid = np.array(sorted(pd.to_datetime(scores["day"]).unique()), dtype="datetime64[ns]")
    s = scores.assign(day=pd.to_datetime(scores["day"]), account_id=scores["account_id"].astype(str))
    iv = interventions.assign(account_id=interventions["account_id"].astype(str),
                              started_at=pd.to_datetime(interventions["started_at"]))
    iv = iv[iv["started_at"] <= pd.Timestamp(as_of)]
    episodes = iv.sort_values("started_at").drop_duplicates(["account_id", "playbook"])
    before_ix = np.searchsorted(grid, episodes["started_at"].to_numpy("datetime64[ns]"), side="left") - 1
    after_ix = np.searchsorted(grid, (episodes["started_at"] + pd.Timedelta(days=after_days)).to_numpy("datetime64[ns]"),
                               side="left")
    ok = (before_ix >= 0) & (after_ix < len(grid))
    episodes = episodes[ok].assign(before=grid[before_ix[ok]], after=grid[after_ix[ok]])
    days = pd.DatetimeIndex(grid)
    wide = {m: s.pivot(index="account_id", columns="day", values=m).reindex(columns=days).astype(float)
            for m in MEASURES}
    active = s.pivot(index="account_id", columns="day", values="active").reindex(columns=days)
    active = active.astype("boolean").fillna(False).astype(bool)
    use_usage = wide["usage_score"].notna().any().any()
    dims = ["health_score", "usage_score"] if use_usage else ["health_score"]
    accounts = wide["health_score"].index
    position = pd.Series(np.arange(len(accounts)), index=accounts)
    column = {day: j for j, day in enumerate(days)}
    values = {m: wide[m].to_numpy(float) for m in MEASURES}
    is_active = active.reindex(index=accounts, fill_value=False).to_numpy(bool)
    start_row = position.reindex(iv["account_id"]).to_numpy()
    start_row, start_day = start_row[~np.isnan(start_row)].astype(int), iv["started_at"].to_numpy("datetime64[ns]")[
        ~np.isnan(start_row)]
    pools: dict = {}

    def comparable(jb: int, ja: int, b: pd.Timestamp, a: pd.Timestamp):
        """The accounts a treated account's matches come from, for one
        (before, after) pair of grid days (the same for every episode that
        has them): active at ``b``, both scores known on both days, and no
        intervention started from 90 days before ``b`` to ``a``. Computed
        once per pair, so the matching grows with the episodes, not with
        episodes times accounts."""
        known = np.ones(len(accounts), dtype=bool)
        for m in dims:
            known &= ~np.isnan(values[m][:, jb]) & ~np.isnan(values[m][:, ja])
        quiet = np.ones(len(accounts), dtype=bool)
        busy = (start_day > np.datetime64(b - pd.Timedelta(days=90))) & (start_day <= np.datetime64(a))
        quiet[start_row[busy]] = False
        pool = np.flatnonzero(known & quiet & is_active[:, jb])
        return known, pool, np.column_stack([values[m][pool, jb] for m in dims])

    changes = {m: [] for m in MEASURES}
    labels, control_ids = [], []
    for ep in episodes.itertuples():
        b, a = pd.Timestamp(ep.before), pd.Timestamp(ep.after)
        jb, ja = column[b], column[a]
        row = position.get(ep.account_id)
        if row is None or not is_active[row, jb]:
            continue
        if (jb, ja) not in pools:
            pools[(jb, ja)] = comparable(jb, ja, b, a)
        known, pool, there = pools[(jb, ja)]
        if not known[row] or len(pool) < matches:
            continue
        here = np.array([values[m][row, jb] for m in dims])
        distance = np.sqrt(((there - here) ** 2).sum(axis=1))
        # The `matches` nearest, ties in the pool's order (a stable sort),
        # without sorting the whole pool: every account at most as far as
        # the k-th nearest, then those few in stable order.
        kth = np.partition(distance, matches - 1)[matches - 1]
        near = np.flatnonzero(distance <= kth)
        nearest = accounts[pool[near[np.argsort(distance[near], kind="stable")[:matches]]]]
        for m in MEASURES:
            if m == "usage_score" and not use_usage:
                changes[m].append((np.nan,) * 5)
                continue
            t_before, t_after = wide[m].at[ep.account_id, b], wide[m].at[ep.account_id, a]
            c_before, c_after = wide[m].loc[nearest, b].mean(), wide[m].loc[nearest, a].mean()
            changes[m].append((t_before, t_after, c_before, c_after, (t_after - t_before) - (c_after - c_before)))
        labels.append(ep.playbook)
        control_ids.append(set(nearest))
    rows = []
    labels = np.array(labels, dtype=object)
    for playbook in [*sorted(set(labels)), "all playbooks"]:
        pick = np.ones(len(labels), dtype=bool) if playbook == "all playbooks" else labels == playbook
        if playbook == "all playbooks" and len(set(labels)) < 2:
            continue
        for m in MEASURES:
            values = np.array([changes[m][i] for i in np.flatnonzero(pick)], dtype=float).reshape(-1, 5)
            values = values[~np.isnan(values[:, 4])]
            n = len(values)
            row = {"playbook": playbook, "measure": MEASURES[m], "treated": n,
                   "controls": len(set().union(*[control_ids[i] for i in np.flatnonzero(pick)])) if n else 0,
                   "treated_before": np.nan, "treated_after": np.nan, "controls_before": np.nan,
                   "controls_after": np.nan, "effect": np.nan, "ci_lower": np.nan, "ci_upper": np.nan,
                   "p_value": np.nan, "tested": False}
            if n:
                means = values.mean(axis=0)
                row.update(treated_before=means[0], treated_after=means[1], controls_before=means[2],
                           controls_after=means[3], effect=means[4])
            if n >= min_n:  # no spread (every account changed exactly as its matches): the value itself
                low, high, p = mean_interval(values[:, 4])
                row.update(ci_lower=low, ci_upper=high, p_value=p, tested=True)
            rows.append(row)
    table = pd.DataFrame(rows, columns=[c for c in EFFECT_COLUMNS if c not in ("q_value", "flagged")])
    # every row of the table, the pooled ones too, adjusted together
    return adjust_table(table, alpha)[EFFECT_COLUMNS]
