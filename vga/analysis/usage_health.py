"""The Usage-Health view of the accounts (step 7): every active account's
scores and quadrant now and at the previous period's as-of date, the
features Champions use that others do not, product usage month by month and
where workflow runs are abandoned."""

from __future__ import annotations

from datetime import date

import ibis
import numpy as np
import pandas as pd

from ..periods import Period
from ..inputs import Inputs
from ..settings import Settings

from . import quadrant as q
from .coverage import covered_months, table_dates
from .frames import account_names
from .retention import arr_at
from .scores import explain_movement, scores_at, workflow_runs_table
from .usage import abandonment_steps, monthly_usage_frame

QUADRANT_COLUMNS = [
    "account_id", "arr", "usage_score", "health_score", "health_color", "quadrant", "previous_quadrant", "moved",
]
TREND_COLUMNS = ["month", "active_accounts", "events", "median_events_per_session", "median_core_adoption"]


def has_history(inputs: Inputs) -> bool:
    """True when scores can be computed at past dates from the data itself."""
    return inputs.events is not None or inputs.has("health_scores")


def quadrants_now_and_before(inputs: Inputs, period: Period, settings) -> tuple[pd.DataFrame, dict | None]:
    """One row per active account (ARR at as-of > 0): the quadrant output.

    Columns: :data:`QUADRANT_COLUMNS`, then score components, then
    ``account_name`` (empty when redacted by configuration or absent). The
    previous quadrant comes from the data at the previous period's as-of
    date where the data allows (events or health history given, and the
    account then scored), else from the previous run's quadrants.csv, else
    it is empty and ``moved`` is false.

    Also returns the quadrant totals at the previous period's as-of date
    (accounts active then, their ARR then) when the data has history, else None.
    """
    settings = Settings.parse(settings)  # a configuration mapping works too
    cfg = settings.analysis
    accounts, renewals = inputs.table("accounts"), inputs.table("renewals")
    arr = arr_at(accounts, renewals, period.as_of)
    active_ids = arr[arr > 0].index
    now = scores_at(inputs, period.as_of, settings, run_as_of=True)
    now = now[now["account_id"].isin(active_ids)].copy()
    now.insert(1, "arr", now["account_id"].map(arr).astype(float))
    thresholds = cfg.usage_threshold, cfg.health_threshold
    now["quadrant"] = q.assign_quadrant(now["usage_score"], now["health_score"], *thresholds)
    now["health_color"] = q.health_color(now["health_score"], tuple(cfg.health_colors))
    previous = pd.Series(dtype=object)
    previous_totals = None
    if inputs.previous_quadrants is not None and len(inputs.previous_quadrants):
        previous = inputs.previous_quadrants.astype({"account_id": str}).set_index("account_id")["quadrant"].dropna()
    if has_history(inputs):
        before = scores_at(inputs, period.previous_as_of, settings, run_as_of=False)
        arr_before = arr_at(accounts, renewals, period.previous_as_of)
        before = before[before["account_id"].map(arr_before) > 0]
        before_q = pd.Series(
            q.assign_quadrant(before["usage_score"], before["health_score"], *thresholds).to_numpy(),
            index=before["account_id"].to_numpy(),
        )
        previous_totals = q.quadrant_totals(pd.DataFrame({"quadrant": before_q.to_numpy(),
                                                          "arr": before["account_id"].map(arr_before).to_numpy()}))
        from_data = before_q[before_q != q.UNSCORED]
        previous = pd.concat([from_data, previous[~previous.index.isin(from_data.index)]])
        now = now.merge(
            before.drop(columns=["usage_source", "health_source", "health_as_of"], errors="ignore")
            .add_prefix("previous_").rename(columns={"previous_account_id": "account_id"}),
            on="account_id", how="left",
        )
    table = q.add_movement(now, previous)
    if "previous_health_score" in table.columns:
        table["previous_health_color"] = q.health_color(table["previous_health_score"], tuple(cfg.health_colors))
    table = explain_movement(table, settings)
    components = [c for c in table.columns if c not in QUADRANT_COLUMNS]
    table = table[QUADRANT_COLUMNS + components].sort_values("account_id").reset_index(drop=True)
    table["account_name"] = table["account_id"].map(account_names(accounts, cfg)).fillna("")
    return table, previous_totals


def _after(day: date):
    """The first instant after ``day``: rows dated earlier are "on or before day"."""
    return ibis.timestamp((pd.Timestamp(day) + pd.Timedelta(days=1)).to_pydatetime())


def usage_trend(inputs: Inputs, as_of: date, core_features) -> pd.DataFrame | None:
    """Per calendar month wholly covered by the events and on or before
    ``as_of``: accounts with any use, events, and the median session depth
    and core adoption over accounts with use. None without events."""
    if inputs.events is None:
        return None
    if inputs.monthly_usage is not None:  # whole months, kept by the incremental store
        monthly = inputs.monthly_usage.copy()
    else:
        monthly = monthly_usage_frame(inputs.events.table(), core_features, on_or_before=as_of)
    monthly["month"] = pd.to_datetime(monthly["month"])
    first, last = table_dates(inputs.sources, "usage_events")
    monthly = monthly[covered_months(monthly["month"], first, last, as_of)]
    trend = monthly.groupby("month").agg(
        active_accounts=("account_id", "nunique"), events=("events", "sum"),
        median_events_per_session=("events_per_session", "median"), median_core_adoption=("core_adoption", "median"),
    ).reset_index()
    trend["events"] = trend["events"].astype(np.int64)
    return trend[TREND_COLUMNS].sort_values("month").reset_index(drop=True)


def workflow_abandonment(runs: pd.DataFrame | None, as_of: date) -> pd.DataFrame | None:
    """Where abandoned workflow runs stop: workflow, last step, runs, share;
    runs started on or before ``as_of``, abandoned if not completed by then."""
    if runs is None:
        return None
    table = workflow_runs_table(runs)
    cutoff = _after(as_of)
    table = table.filter(table.started_at < cutoff).mutate(  # not yet completed as of then: abandoned or open
        completed_at=(table.completed_at < cutoff).ifelse(table.completed_at, ibis.null("timestamp")))
    steps = abandonment_steps(table).to_pandas()
    steps["share"] = steps["abandoned_runs"] / steps.groupby("workflow")["abandoned_runs"].transform("sum")
    return steps.sort_values(["workflow", "abandoned_runs"], ascending=[True, False]).reset_index(drop=True)


def champion_features(inputs: Inputs, quadrants: pd.DataFrame, as_of: date, alpha: float,
                      max_features: int = 30) -> tuple[pd.DataFrame | None, str | None]:
    """Features Champions use that other active accounts do not: per
    feature, the share of Champions and of the other scored active accounts
    that used it in the 90 days to ``as_of``, the difference with its 95%
    interval, Fisher's p and BH q (:mod:`vga.analysis.compare`). Returns (the
    table, None), or (None, why) without events, Champions or other scored
    accounts."""
    from ..analysis.compare import compare_table
    from ..analysis.usage import pair_feature_use, top_features

    if inputs.events is None:
        return None, ("no usage events were given: which features Champions use needs usage_events "
                      "(one row per product event)")
    scored = quadrants[quadrants["quadrant"] != q.UNSCORED].reset_index(drop=True)
    champions_n = int((scored["quadrant"] == q.CHAMPIONS).sum())
    if champions_n == 0 or champions_n == len(scored):
        return None, (f"{len(scored):,} of {len(quadrants):,} active accounts have both scores and "
                      f"{champions_n:,} of them are Champions: the comparison needs Champions and other scored "
                      "accounts")
    events = inputs.events.table()
    features = top_features(events, max_features, on_or_before=as_of)
    pairs = pd.DataFrame({"pair": np.arange(len(scored)), "account_id": scored["account_id"], "day": pd.Timestamp(as_of)})
    # All events: each pair's window ends on as_of, so later events never count
    # (and a warehouse reuses the per-day table it keeps for all events).
    used = pair_feature_use(events, pairs, features).set_index("pair").reindex(pairs["pair"]).fillna(False).astype(bool)
    champions = (scored["quadrant"] == q.CHAMPIONS).to_numpy()
    rows = [(f, used[f][champions].reset_index(drop=True), used[f][~champions].reset_index(drop=True)) for f in features]
    table = compare_table(rows, alpha=alpha).rename(columns={"measure": "feature", "first_n": "champions",
                                                             "first_value": "champions_share", "second_n": "others",
                                                             "second_value": "others_share"})
    return table.drop(columns="kind").sort_values("difference", ascending=False).reset_index(drop=True), None
