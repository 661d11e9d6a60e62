"""Usage and health scores (0..100) with their components kept.

Usage score at day d (when ``usage_events`` is given), over the 90-day
window ``(d - 90 days, d]``, is 100 x the weighted mean of the available
components, each on 0..1:

- ``core_adoption``: distinct configured core features used / core features
  configured (not available when none are configured);
- ``active_days``: distinct active days / ``target_active_days`` (default
  20), capped at 1;
- ``session_depth``: events per session / ``target_events_per_session``
  (default 8), capped at 1;
- ``workflow_completion``: completed / started workflow runs in the window
  (not available without ``workflow_runs`` or without runs in the window).

Weights default to equal (``[usage] weights``); the weight of a component
that is not available is spread over the others. An account with no events
in the window has usage 0 (every component 0), not a missing score.

Health score at day d: the latest ``health_scores.score`` with ``as_of <= d``;
else, at the run's as-of date only, ``accounts.health_score``.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from ..inputs import Inputs
from ..settings import Settings
from .windows import latest_values, still_open, window_totals

USAGE_COMPONENTS = ("core_adoption", "active_days", "session_depth", "workflow_completion")


def usage_scores(
    account_ids: pd.Series,
    activity: pd.DataFrame,
    workflows: pd.DataFrame | None,
    config: Settings,
) -> pd.DataFrame:
    """Usage score and components per account (see the module docstring).

    ``activity`` is :func:`vga.analysis.usage.window_usage` output; ``workflows``
    is :func:`vga.analysis.usage.workflow_summary` output (``runs_started``,
    ``runs_completed`` per account) or None.
    """
    config = Settings.parse(config)  # a configuration mapping works too
    usage = config.usage
    core = list(usage.core_features)
    weights = {k: float(v) for k, v in usage.weights.items()}
    out = pd.DataFrame({"account_id": pd.Series(account_ids, dtype=object).drop_duplicates().to_numpy()})
    a = out.merge(activity, on="account_id", how="left")
    has_events = a["events"].fillna(0) > 0
    comp = pd.DataFrame(index=a.index)
    comp["core_adoption"] = (a["core_features_used"].fillna(0) / len(core)).clip(upper=1) if core else np.nan
    comp["active_days"] = (a["active_days"].fillna(0) / float(usage.target_active_days)).clip(upper=1)
    comp["session_depth"] = (a["events_per_session"].fillna(0) / float(usage.target_events_per_session)).clip(upper=1)
    if workflows is not None and len(workflows):
        wf = out.merge(workflows, on="account_id", how="left")
        rate = wf["runs_completed"] / wf["runs_started"]
        comp["workflow_completion"] = rate.where(wf["runs_started"].fillna(0) > 0)
    else:
        comp["workflow_completion"] = np.nan
    # No events in the window: zero usage on every component.
    comp.loc[~has_events, :] = 0.0
    w = pd.Series({c: weights.get(c, 0.0) for c in USAGE_COMPONENTS})
    available = comp.notna()
    weight_used = available.mul(w, axis=1)
    total = weight_used.sum(axis=1)
    score = (comp.fillna(0).mul(w, axis=1).sum(axis=1) / total.where(total > 0)) * 100
    out["usage_score"] = score.fillna(0.0).to_numpy()
    for c in USAGE_COMPONENTS:
        out[f"usage_{c}"] = comp[c].to_numpy()
    out["usage_events"] = a["events"].fillna(0).astype(int).to_numpy()
    return out


def health_at(health_scores: pd.DataFrame | None, day: date) -> pd.DataFrame:
    """Latest ``health_scores`` row per account with ``as_of <= day``.

    Columns: ``account_id``, ``health_score``, ``health_as_of`` and each
    ``component_<name>`` renamed ``health_<name>``.
    """
    if health_scores is None or health_scores.empty:
        return pd.DataFrame(columns=["account_id", "health_score", "health_as_of"])
    h = health_scores[health_scores["as_of"] <= pd.Timestamp(day)]
    order = ["account_id", "as_of"] + (["source_row"] if "source_row" in h.columns else [])
    latest = h.sort_values(order, kind="stable").groupby("account_id", sort=False).tail(1)
    comps = [c for c in latest.columns if c.startswith("component_")]
    out = latest[["account_id", "score", "as_of", *comps]].rename(
        columns={"score": "health_score", "as_of": "health_as_of", **{c: "health_" + c[len("component_"):] for c in comps}}
    )
    return out.reset_index(drop=True)


HEALTH_SIGNALS = ("nps", "csat", "support", "touchpoints")


def health_composite(
    surveys: pd.DataFrame | None,
    tickets: pd.DataFrame | None,
    touchpoints: pd.DataFrame | None,
    account_ids: pd.Series,
    day: date,
    config: Settings,
    tickets_known: bool = True,
) -> pd.DataFrame:
    """The documented health composite at ``day`` (0..100), with its parts.

    Used for accounts with neither a ``health_scores`` row nor (at the run's
    as-of date) ``accounts.health_score``. Each signal uses only rows dated
    on or before ``day`` and within its maximum age (``[health]
    max_age_days``); a signal with no such rows is *stale or absent*: not
    available, and its weight is spread over the others.

    - ``nps``: mean NPS score (0..10) of responses within 365 days, x 10.
    - ``csat``: mean CSAT (survey kind ``csat`` and ticket ``csat``, 1..5)
      within 180 days, mapped 1 -> 0 and 5 -> 100.
    - ``support``: 100 minus 10 per ticket opened within 90 days, minus 15
      more per escalated and 10 more per high or urgent one, floored at 0.
      Available whenever the ``support_tickets`` table reaches the day
      (``tickets_known``; :mod:`vga.analysis.coverage`): there, no tickets is a good
      sign, not a missing one; before the tickets begin or past their end,
      it is no data.
    - ``touchpoints``: 50 + 50 x (positive - negative) / touchpoints with a
      sentiment within 120 days.

    Columns: ``account_id``, ``health_score``, ``health_<signal>`` for each
    signal, ``health_signals_used`` and ``health_signals_stale`` (names
    separated by ``;``).
    """
    config = Settings.parse(config)  # a configuration mapping works too
    ids = pd.Series(account_ids, dtype=object).drop_duplicates().to_numpy()
    pairs = pd.DataFrame({"pair": np.arange(len(ids)), "account_id": ids, "day": pd.Timestamp(day)})
    out = health_composite_pairs(surveys, tickets, touchpoints, pairs, config,
                                 tickets_known=np.full(len(pairs), bool(tickets_known)))
    return out.drop(columns=["pair", "day"])


def _mean(totals: pd.DataFrame | None, name: str) -> np.ndarray | None:
    """``sum / n`` of a :func:`vga.analysis.windows.window_totals` value; NaN where n is 0."""
    if totals is None:
        return None
    n = totals[f"{name}_n"].to_numpy()
    return np.divide(totals[f"{name}_sum"].to_numpy(), n, out=np.full(len(n), np.nan), where=n > 0)


def health_composite_pairs(surveys, tickets, touchpoints, pairs: pd.DataFrame, config: Settings,
                           tickets_known=None, detail: bool = True) -> pd.DataFrame:
    """:func:`health_composite` for many (account, day) pairs at once:
    ``pairs`` has ``pair`` (unique), ``account_id`` and ``day``; the result
    has one row per pair with the same columns plus ``pair`` and ``day``.
    ``tickets_known`` (position-aligned booleans; default all true): where
    the tickets reach the pair's day, so that no tickets means none. Each
    signal's window is searched, not joined (:mod:`vga.analysis.windows`):
    the work grows with rows + pairs, not with their product. Without
    ``detail``: ``pair``, ``account_id``, ``day`` and ``health_score`` only
    (a backtest's millions of pairs need no per-pair lists of signals)."""
    config = Settings.parse(config)  # a configuration mapping works too
    ages = config.health.max_age_days
    weights = {k: float(v) for k, v in config.health.weights.items()}
    pairs = pairs.assign(day=pd.to_datetime(pairs["day"]).dt.normalize())
    parts = pd.DataFrame(index=pd.Index(pairs["pair"].to_numpy(), name="pair"))
    if surveys is not None and not surveys.empty:
        score = surveys["score"].to_numpy(dtype=float)
        nps = window_totals(surveys, "responded_at", pairs, ages["nps"], {"score": score},
                            rows=(surveys["kind"] == "nps").to_numpy())
        parts["nps"] = _mean(nps, "score") * 10
    csat_sum, csat_n = np.zeros(len(pairs)), np.zeros(len(pairs), dtype=np.int64)
    csat_given = False
    if surveys is not None and not surveys.empty:
        csat_given = True
        got = window_totals(surveys, "responded_at", pairs, ages["csat"], {"score": surveys["score"].to_numpy(dtype=float)},
                            rows=(surveys["kind"] == "csat").to_numpy())
        csat_sum, csat_n = csat_sum + got["score_sum"].to_numpy(), csat_n + got["score_n"].to_numpy()
    if tickets is not None and not tickets.empty and "csat" in tickets.columns:
        csat_given = True
        got = window_totals(tickets, "opened_at", pairs, ages["csat"], {"csat": tickets["csat"].to_numpy(dtype=float)})
        csat_sum, csat_n = csat_sum + got["csat_sum"].to_numpy(), csat_n + got["csat_n"].to_numpy()
    if csat_given:
        mean = np.divide(csat_sum, csat_n, out=np.full(len(pairs), np.nan), where=csat_n > 0)
        parts["csat"] = (mean - 1) / 4 * 100
    if tickets is not None and not tickets.empty:
        # Without the optional columns, no ticket counts as escalated or severe.
        none = pd.Series(False, index=tickets.index)
        escalated = tickets["escalated"].fillna(False).astype(bool) if "escalated" in tickets.columns else none
        severe = tickets["priority"].isin(["high", "urgent"]) if "priority" in tickets.columns else none
        penalty = (10 + 15 * escalated.astype(int) + 10 * severe.astype(int)).to_numpy(dtype=float)
        got = window_totals(tickets, "opened_at", pairs, ages["support"], {"penalty": penalty})
        parts["support"] = np.clip(100 - got["penalty_sum"].to_numpy(), 0, None)
        if tickets_known is not None:
            parts.loc[~np.asarray(tickets_known, dtype=bool), "support"] = np.nan
    if touchpoints is not None and not touchpoints.empty and "sentiment" in touchpoints.columns:
        balance = touchpoints["sentiment"].map({"positive": 1, "neutral": 0, "negative": -1}).to_numpy(dtype=float)
        got = window_totals(touchpoints, "occurred_at", pairs, ages["touchpoints"], {"balance": balance})
        parts["touchpoints"] = 50 + 50 * _mean(got, "balance")
    for signal in HEALTH_SIGNALS:
        if signal not in parts.columns:
            parts[signal] = np.nan
    parts = parts[list(HEALTH_SIGNALS)]
    w = pd.Series({k: weights.get(k, 0.0) for k in HEALTH_SIGNALS})
    available = parts.notna() & (w > 0)
    total = available.mul(w, axis=1).sum(axis=1)
    score = parts.fillna(0).mul(w, axis=1).sum(axis=1) / total.where(total > 0)
    out = pairs[["pair", "account_id", "day"]].set_index("pair")
    out["health_score"] = score
    if not detail:
        return out.reset_index()
    for signal in HEALTH_SIGNALS:
        out[f"health_{signal}"] = parts[signal]
    names = np.array(HEALTH_SIGNALS)
    used = available.to_numpy()
    out["health_signals_used"] = [";".join(names[row]) for row in used]
    out["health_signals_stale"] = [";".join(names[~row]) for row in used]
    return out.reset_index()


def explain_movement(table: pd.DataFrame, config: Settings, top: int = 3) -> pd.DataFrame:
    """Why did each account's quadrant or health colour change?

    ``table`` holds current columns (``usage_score``, ``usage_<component>``,
    ``health_score``, ``health_<part>``) and the same with a ``previous_``
    prefix. Adds ``usage_change`` and ``health_change`` (score points),
    ``delta_usage_<component>`` (points of usage score each component
    contributed: weight share x change x 100), ``delta_health_<part>``
    (change of each visible health part, 0..100 points) and ``explanation``,
    a sentence naming the largest movers, for rows whose quadrant or health
    colour changed (empty elsewhere).
    """
    config = Settings.parse(config)  # a configuration mapping works too
    out = table.copy()
    if "previous_usage_score" not in out.columns and "previous_health_score" not in out.columns:
        out["explanation"] = np.where(out.get("moved", False), "previous quadrant from the previous run; parts unknown", "")
        return out
    weights = {k: float(v) for k, v in config.usage.weights.items()}
    total_weight = sum(weights.get(c, 0.0) for c in USAGE_COMPONENTS) or 1.0
    out["usage_change"] = out["usage_score"] - out.get("previous_usage_score", np.nan)
    out["health_change"] = out["health_score"] - out.get("previous_health_score", np.nan)
    usage_deltas = {}
    for c in USAGE_COMPONENTS:
        now, before = f"usage_{c}", f"previous_usage_{c}"
        if now in out.columns and before in out.columns:
            usage_deltas[c] = (out[now] - out[before]) * weights.get(c, 0.0) / total_weight * 100
            out[f"delta_usage_{c}"] = usage_deltas[c]
    health_parts = [c[len("health_"):] for c in out.columns
                    if c.startswith("health_") and c not in ("health_score", "health_color", "health_as_of", "health_source")
                    and f"previous_{c}" in out.columns and pd.api.types.is_numeric_dtype(out[c])]
    health_deltas = {}
    for part in health_parts:
        health_deltas[part] = out[f"health_{part}"] - out[f"previous_health_{part}"]
        out[f"delta_health_{part}"] = health_deltas[part]
    changed = out.get("moved", pd.Series(False, index=out.index)).astype(bool)
    if "previous_health_color" in out.columns:
        changed |= (out["previous_health_color"].fillna("") != "") & (out["previous_health_color"] != out["health_color"])

    def sentence(i) -> str:
        bits = []
        if out.at[i, "moved"] if "moved" in out.columns else False:
            bits.append(f"{out.at[i, 'previous_quadrant']} -> {out.at[i, 'quadrant']}")
        elif "previous_health_color" in out.columns and out.at[i, "previous_health_color"] != out.at[i, "health_color"]:
            bits.append(f"health colour {out.at[i, 'previous_health_color'] or 'none'} -> {out.at[i, 'health_color'] or 'none'}")
        for label, change, deltas in (("usage", out.at[i, "usage_change"], usage_deltas),
                                      ("health", out.at[i, "health_change"], health_deltas)):
            if pd.isna(change) or abs(change) < 0.05:
                continue
            movers = sorted(((abs(d[i]), name, d[i]) for name, d in deltas.items() if pd.notna(d[i]) and abs(d[i]) >= 0.05), reverse=True)
            # Components in words ("active days", not active_days): the sentence is read in the report.
            detail = ", ".join(f"{name.replace('_', ' ')} {value:+.1f}" for _, name, value in movers[:top])
            bits.append(f"{label} {change:+.1f}" + (f" ({detail})" if detail else ""))
        return "; ".join(bits)

    out["explanation"] = ""
    idx = out.index[changed]
    out.loc[idx, "explanation"] = [sentence(i) for i in idx]
    return out


def workflow_runs_table(runs: pd.DataFrame):
    """workflow_runs as an Ibis table on a local DuckDB: a small table,
    never written to a warehouse."""
    from ..engine import connect

    import ibis

    types = {"account_id": "string", "workflow": "string", "started_at": "timestamp", "completed_at": "timestamp",
             "last_step": "string"}
    cols = [c for c in types if c in runs.columns]
    frame = runs[cols].copy()
    for c in cols:  # typed by the contract, not by the values: an all-empty column is never null-typed
        if types[c] == "timestamp":
            frame[c] = pd.to_datetime(frame[c], utc=True).dt.tz_localize(None).astype("datetime64[us]")
        else:
            frame[c] = frame[c].astype(object)
    con = connect(None)
    con.create_table("vga_workflow_runs", schema=ibis.schema({c: types[c] for c in cols}), temp=True, overwrite=True)
    con.insert("vga_workflow_runs", frame)
    return con.table("vga_workflow_runs")


def scores_at(inputs: Inputs, day: date, settings: Settings, *, run_as_of: bool) -> pd.DataFrame:
    """Usage and health score per account at ``day``, with components.

    ``inputs`` is a :class:`vga.inputs.Inputs`; ``settings`` holds the
    ``usage`` and ``health`` configuration sections. ``run_as_of`` allows
    the point-in-time-less columns ``accounts.usage_score`` and
    ``accounts.health_score``, which hold values at the run's as-of date
    only. Adds ``usage_source`` and ``health_source`` naming where each
    score came from (empty when missing). From events, the usage score at a
    ``day`` outside the dates the events cover is missing, not 0: no events
    there means no data, not no use.
    """
    settings = Settings.parse(settings)  # a configuration mapping works too
    from .coverage import assess
    from .usage import window_usage

    accounts = inputs.table("accounts")
    coverage = assess(inputs.sources, day, settings.analysis)
    out = pd.DataFrame({"account_id": accounts["account_id"].to_numpy()})
    if inputs.events is not None:
        if coverage.reaches("usage_events", day):
            activity = window_usage(inputs.events.table(), day, 90, settings.usage.core_features).to_pandas()
            runs = inputs.table("workflow_runs", needs=("completed_at",))
            workflows = workflow_summary_frame(runs, day) if runs is not None else None
            out = out.merge(usage_scores(out["account_id"], activity, workflows, settings), on="account_id", how="left")
            out["usage_source"] = "warehouse" if inputs.events.where == "warehouse" else "usage_events"
        else:
            out["usage_score"] = np.nan
            out["usage_source"] = ""
    elif run_as_of and "usage_score" in accounts.columns:
        out["usage_score"] = accounts["usage_score"].to_numpy()
        out["usage_source"] = np.where(out["usage_score"].notna(), "accounts.usage_score", "")
    else:
        out["usage_score"] = np.nan
        out["usage_source"] = ""
    out = out.merge(health_at(inputs.table("health_scores"), day), on="account_id", how="left")
    out["health_source"] = np.where(out["health_score"].notna(), "health_scores", "")
    if run_as_of and "health_score" in accounts.columns:
        fallback = out["health_score"].isna()
        given = pd.Series(accounts["health_score"].to_numpy(), index=out.index)
        out.loc[fallback, "health_score"] = given[fallback]
        out.loc[fallback & given.notna(), "health_source"] = "accounts.health_score"
    voice = [inputs.table(t) for t in ("surveys", "support_tickets", "touchpoints")]
    if any(v is not None for v in voice) and out["health_score"].isna().any():
        # The documented composite, only where the CS team's score is missing.
        missing = out["health_score"].isna()
        composite = health_composite(*voice, out.loc[missing, "account_id"], day, settings,
                                     tickets_known=coverage.reaches("support_tickets", day)).set_index("account_id")
        rows = out.loc[missing, "account_id"]
        for col in composite.columns:
            values = rows.map(composite[col])
            if col not in out.columns:
                out[col] = np.nan if col not in ("health_signals_used", "health_signals_stale") else ""
            out.loc[missing, col] = values.to_numpy()
        out.loc[missing & out["health_score"].notna(), "health_source"] = "composite"
    out["health_score"] = out["health_score"].astype(float)
    out["usage_score"] = out["usage_score"].astype(float)
    return out


def workflow_summary_frame(runs: pd.DataFrame, day: date) -> pd.DataFrame:
    """Per account, workflow runs started and completed in the 90-day window at ``day``."""
    from .usage import workflow_summary

    return workflow_summary(workflow_runs_table(runs), day).to_pandas()


def health_for_pairs(health_scores: pd.DataFrame | None, pairs: pd.DataFrame) -> pd.Series:
    """:func:`health_at`'s score for many (account, day) pairs: the latest
    ``health_scores`` row with ``as_of <= day`` (same-date rows in source-row
    order), indexed by ``pair``; NaN where there is none."""
    order = health_scores["source_row"].to_numpy() if health_scores is not None and "source_row" in health_scores.columns \
        else None
    values = latest_values(health_scores, "as_of", "score", pairs, order=order)
    return pd.Series(values, index=pd.Index(pairs["pair"].to_numpy(), name="pair"), dtype=float)


def scores_for_pairs(inputs: Inputs, pairs: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """Usage and health score for many (account, day) pairs, point-in-time.

    ``pairs``: ``account_id`` and ``day``. Each pair gets the scores that
    :func:`scores_at` gives that account at that day with ``run_as_of``
    false (tested): nothing dated after the day is used, the
    ``accounts.*_score`` columns (valid at the run's as-of date only) are
    not, and a score that cannot be computed is NaN, not 0. Returns
    ``pairs`` with ``usage_score`` and ``health_score`` added.
    """
    settings = Settings.parse(settings)  # a configuration mapping works too
    from .coverage import assess
    from .usage import pair_usage

    out = pairs[["account_id", "day"]].reset_index(drop=True).copy()
    out["day"] = pd.to_datetime(out["day"]).dt.normalize()
    out["pair"] = np.arange(len(out))
    out["usage_score"] = np.nan
    if inputs.events is not None and len(out):
        coverage = assess(inputs.sources, out["day"].max().date(), settings.analysis)
        inside = out[coverage.reaches_days("usage_events", out["day"])]
        if len(inside):
            activity = pair_usage(inputs.events.table(), inside, 90, settings.usage.core_features)
            activity = activity.assign(account_id=activity["pair"].astype(str)).drop(columns="pair")
            runs = inputs.table("workflow_runs", needs=("completed_at",))
            workflows = _workflows_for_pairs(runs, inside) if runs is not None else None
            keys = inside["pair"].astype(str)
            scored = usage_scores(keys, activity, workflows, settings)
            out.loc[inside.index, "usage_score"] = scored.set_index("account_id")["usage_score"].reindex(keys).to_numpy()
    out["health_score"] = health_scores_for_pairs(inputs, out, settings).to_numpy()
    return out.drop(columns="pair")


def health_scores_for_pairs(inputs: Inputs, pairs: pd.DataFrame, settings: Settings) -> pd.Series:
    """The health score of :func:`scores_for_pairs` alone, position-aligned
    with ``pairs`` (``account_id``, ``day``): the latest ``health_scores``
    row on or before the day, else the documented composite; NaN where
    neither can be computed."""
    settings = Settings.parse(settings)  # a configuration mapping works too
    out = pairs[["account_id", "day"]].reset_index(drop=True).copy()
    out["day"] = pd.to_datetime(out["day"]).dt.normalize()
    out["pair"] = np.arange(len(out))
    out["health_score"] = health_for_pairs(inputs.table("health_scores"), out).reindex(out["pair"]).to_numpy()
    voice = [inputs.table(t) for t in ("surveys", "support_tickets", "touchpoints")]
    missing = out["health_score"].isna()
    if any(v is not None for v in voice) and missing.any():
        known = tickets_reach(inputs, out.loc[missing, "day"], settings).to_numpy()
        composite = health_composite_pairs(*voice, out[missing], settings,
                                           tickets_known=known, detail=False).set_index("pair")["health_score"]
        out.loc[missing, "health_score"] = out.loc[missing, "pair"].map(composite).to_numpy()
    return pd.Series(out["health_score"].to_numpy(float), index=pairs.index)


def _workflows_for_pairs(runs: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """:func:`vga.analysis.usage.workflow_summary` at each pair's day (keyed by the pair, as text):
    runs started in the 90 days to the day, and of them those completed by the day's end."""
    completed = runs["completed_at"]
    got = window_totals(runs, "started_at", pairs, 90, {"done": completed.notna().to_numpy(dtype=float)})
    if got is None:
        return pd.DataFrame(columns=["account_id", "runs_started", "runs_completed", "completion_rate"])
    started, done = got["rows"].to_numpy(), got["done_sum"].to_numpy()
    # A run completed after the pair's day's end was not completed at that day.
    done = done - still_open(runs[completed.notna()], "started_at", "completed_at", pairs, 90)
    out = pd.DataFrame({"pair": pairs["pair"].to_numpy(), "runs_started": started.astype(np.int64),
                        "runs_completed": np.rint(done).astype(np.int64)})
    out = out[out["runs_started"] > 0].sort_values("pair", kind="stable")
    out = out.assign(account_id=out["pair"].astype(str)).drop(columns="pair")[["account_id", "runs_started", "runs_completed"]]
    out["completion_rate"] = out["runs_completed"] / out["runs_started"]
    return out.reset_index(drop=True)


def tickets_reach(inputs: Inputs, days: pd.Series, settings: Settings) -> pd.Series:
    """Whether the ``support_tickets`` table reaches each of ``days``
    (:meth:`vga.analysis.coverage.Coverage.reaches_days`), aligned with ``days``."""
    settings = Settings.parse(settings)  # a configuration mapping works too
    from .coverage import assess

    if inputs.table("support_tickets") is None or not len(days):
        return pd.Series(False, index=days.index)
    day = pd.to_datetime(days).max().date()
    return assess(inputs.sources, day, settings.analysis).reaches_days("support_tickets", days)


def tickets_for_pairs(tickets: pd.DataFrame | None, pairs: pd.DataFrame, window_days: int = 90,
                      known=None) -> pd.Series:
    """Support tickets opened in ``(day - window_days, day]`` for each pair
    (position-aligned with ``pairs``); NaN for every pair without a
    ``support_tickets`` table (no table is no data, not no tickets), and
    where ``known`` (position-aligned booleans, default all true) is false:
    a day the tickets do not reach."""
    if tickets is None:
        return pd.Series(np.nan, index=pairs.index)
    got = window_totals(tickets, "opened_at", pairs, window_days)
    values = got["rows"].to_numpy(dtype=float) if got is not None else np.zeros(len(pairs))
    if known is not None:
        values[~np.asarray(known, dtype=bool)] = np.nan
    return pd.Series(values, index=pairs.index)


def ticket_counts(inputs: Inputs, pairs: pd.DataFrame, settings: Settings, tickets: pd.DataFrame | None = None,
                  window_days: int = 90) -> pd.Series:
    """:func:`tickets_for_pairs` over the run's tickets (or ``tickets``, a
    part of them), empty where the tickets do not reach the pair's day."""
    settings = Settings.parse(settings)  # a configuration mapping works too
    table = inputs.table("support_tickets") if tickets is None else tickets
    known = tickets_reach(inputs, pd.Series(pd.to_datetime(pairs["day"]).to_numpy()), settings).to_numpy()
    return tickets_for_pairs(table, pairs, window_days, known=known)
