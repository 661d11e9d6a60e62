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

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

USAGE_COMPONENTS = ("core_adoption", "active_days", "session_depth", "workflow_completion")


def workflow_completion(workflow_runs: pd.DataFrame | None, day: date, window_days: int = 90) -> pd.DataFrame:
    """Per account: runs started in the window and how many completed by ``day``."""
    if workflow_runs is None or workflow_runs.empty:
        return pd.DataFrame(columns=["account_id", "runs_started", "runs_completed"])
    end = pd.Timestamp(day) + pd.Timedelta(days=1)
    start = end - pd.Timedelta(days=window_days)
    w = workflow_runs[(workflow_runs["started_at"] >= start) & (workflow_runs["started_at"] < end)]
    completed = w["completed_at"].notna() & (w["completed_at"] < end)
    out = w.assign(done=completed).groupby("account_id").agg(runs_started=("done", "size"), runs_completed=("done", "sum"))
    return out.reset_index()


def usage_scores(
    account_ids: pd.Series,
    activity: pd.DataFrame,
    workflows: pd.DataFrame | None,
    config: dict,
) -> pd.DataFrame:
    """Usage score and components per account (see the module docstring).

    ``activity`` is :func:`vga.usage.activity_frame` output; ``workflows``
    is :func:`workflow_completion` output or None.
    """
    settings = config["usage"]
    core = list(settings.get("core_features") or [])
    weights = {k: float(v) for k, v in settings["weights"].items()}
    out = pd.DataFrame({"account_id": pd.Series(account_ids, dtype=object).drop_duplicates().to_numpy()})
    a = out.merge(activity, on="account_id", how="left")
    has_events = a["events"].fillna(0) > 0
    comp = pd.DataFrame(index=a.index)
    comp["core_adoption"] = (a["core_features_used"].fillna(0) / len(core)).clip(upper=1) if core else np.nan
    comp["active_days"] = (a["active_days"].fillna(0) / float(settings["target_active_days"])).clip(upper=1)
    comp["session_depth"] = (a["events_per_session"].fillna(0) / float(settings["target_events_per_session"])).clip(upper=1)
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
