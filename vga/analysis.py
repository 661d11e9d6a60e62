"""The run's analyses, assembled from the pure modules.

These functions take a loaded :class:`~vga.load.Dataset`, a
:class:`~vga.periods.Period` and the configuration, and return frames and
plain dicts. The notebooks call them; they read no files themselves (a
previous run's quadrants are passed in as a frame).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from . import quadrant as q
from .load import Dataset
from .periods import Period
from .retention import arr_at, cohort_table, retention_summary
from .scores import explain_movement, health_at, health_composite, usage_scores
from .slicing import slice_churn, slicing_dimensions
from .usage import as_table, connect, window_usage, workflow_summary

QUADRANT_COLUMNS = [
    "account_id", "arr", "usage_score", "health_score", "health_color",
    "quadrant", "previous_quadrant", "moved",
]


def warehouse_url(dataset: Dataset) -> str:
    return ((dataset.config.get("warehouse") or {}).get("url") or "").strip()


def has_events(dataset: Dataset) -> bool:
    """Events are given as a file of the data folder or in a warehouse."""
    return dataset.has("usage_events") or bool(warehouse_url(dataset))


def event_table(dataset: Dataset, con):
    """The events as an Ibis table: the warehouse table when configured
    (read where it lives, never exported), else the accepted events."""
    if warehouse_url(dataset):
        return con.table(dataset.config["warehouse"].get("events_table") or "usage_events")
    return as_table(con, dataset.get("usage_events"))


def _local_runs(dataset: Dataset):
    """workflow_runs as an Ibis table on a local DuckDB: a small table from
    the data folder, never written to a warehouse."""
    runs = dataset.get("workflow_runs")
    cols = [c for c in ("account_id", "workflow", "started_at", "completed_at", "last_step") if c in runs.columns]
    return connect(None).create_table("vga_workflow_runs", runs[cols], temp=True, overwrite=True)


def has_history(dataset: Dataset) -> bool:
    """True when scores can be computed at past dates from the data itself."""
    return has_events(dataset) or dataset.has("health_scores")


def scores_at(dataset: Dataset, day: date, *, run_as_of: bool, con=None) -> pd.DataFrame:
    """Usage and health score per account at ``day``, with components.

    ``run_as_of`` allows the point-in-time-less columns ``accounts.usage_score``
    and ``accounts.health_score``, which hold values at the run's as-of date
    only. Adds ``usage_source`` and ``health_source`` naming where each
    score came from (empty when missing).
    """
    accounts = dataset.get("accounts")
    config = dataset.config
    out = pd.DataFrame({"account_id": accounts["account_id"].to_numpy()})
    if has_events(dataset):
        con = con or connect(config)
        events = event_table(dataset, con)
        activity = window_usage(events, day, 90, config["usage"]["core_features"]).to_pandas()
        workflows = workflow_summary(_local_runs(dataset), day).to_pandas() if dataset.has("workflow_runs") else None
        out = out.merge(usage_scores(out["account_id"], activity, workflows, config), on="account_id", how="left")
        out["usage_source"] = "warehouse" if warehouse_url(dataset) else "usage_events"
    elif run_as_of and "usage_score" in accounts.columns:
        out["usage_score"] = accounts["usage_score"].to_numpy()
        out["usage_source"] = np.where(out["usage_score"].notna(), "accounts.usage_score", "")
    else:
        out["usage_score"] = np.nan
        out["usage_source"] = ""
    health = health_at(dataset.get("health_scores"), day)
    out = out.merge(health, on="account_id", how="left")
    out["health_source"] = np.where(out["health_score"].notna(), "health_scores", "")
    if run_as_of and "health_score" in accounts.columns:
        fallback = out["health_score"].isna()
        given = pd.Series(accounts["health_score"].to_numpy(), index=out.index)
        out.loc[fallback, "health_score"] = given[fallback]
        out.loc[fallback & given.notna(), "health_source"] = "accounts.health_score"
    voice = [dataset.get(t) for t in ("surveys", "support_tickets", "touchpoints")]
    if any(v is not None for v in voice) and out["health_score"].isna().any():
        # The documented composite, only where the CS team's score is missing.
        missing = out["health_score"].isna()
        composite = health_composite(*voice, out.loc[missing, "account_id"], day, config).set_index("account_id")
        rows = out.loc[missing, "account_id"]
        for col in composite.columns:
            values = rows.map(composite[col])
            if col not in out.columns:
                out[col] = np.nan if col != "health_signals_used" and col != "health_signals_stale" else ""
            out.loc[missing, col] = values.to_numpy()
        out.loc[missing & out["health_score"].notna(), "health_source"] = "composite"
    out["health_score"] = out["health_score"].astype(float)
    out["usage_score"] = out["usage_score"].astype(float)
    return out


def quadrant_table(
    dataset: Dataset, period: Period, previous_run: pd.DataFrame | None = None, con=None
) -> pd.DataFrame:
    """One row per active account (ARR at as-of > 0): the quadrant output.

    Columns: :data:`QUADRANT_COLUMNS`, then score components. The previous
    quadrant comes from the data at the previous period's as-of date where
    the data allows (events or health history given, and the account then
    scored), else from ``previous_run`` (the previous run's quadrants.csv),
    else it is empty and ``moved`` is false.
    """
    cfg = dataset.config["analysis"]
    accounts = dataset.get("accounts")
    renewals = dataset.get("renewals")
    arr = arr_at(accounts, renewals, period.as_of)
    active_ids = arr[arr > 0].index
    now = scores_at(dataset, period.as_of, run_as_of=True, con=con)
    now = now[now["account_id"].isin(active_ids)].copy()
    now.insert(1, "arr", now["account_id"].map(arr).astype(float))
    now["quadrant"] = q.assign_quadrant(now["usage_score"], now["health_score"], cfg["usage_threshold"], cfg["health_threshold"])
    now["health_color"] = q.health_color(now["health_score"], tuple(cfg["health_colors"]))
    previous = pd.Series(dtype=object)
    if previous_run is not None and len(previous_run):
        previous = previous_run.astype({"account_id": str}).set_index("account_id")["quadrant"].dropna()
    if has_history(dataset):
        before = scores_at(dataset, period.previous_as_of, run_as_of=False, con=con)
        arr_before = arr_at(accounts, renewals, period.previous_as_of)
        before = before[before["account_id"].map(arr_before) > 0]
        before_q = pd.Series(
            q.assign_quadrant(before["usage_score"], before["health_score"], cfg["usage_threshold"], cfg["health_threshold"]).to_numpy(),
            index=before["account_id"].to_numpy(),
        )
        from_data = before_q[before_q != q.UNSCORED]
        previous = pd.concat([from_data, previous[~previous.index.isin(from_data.index)]])
        now = now.merge(
            before.drop(columns=["usage_source", "health_source", "health_as_of"], errors="ignore")
            .add_prefix("previous_").rename(columns={"previous_account_id": "account_id"}),
            on="account_id", how="left",
        )
    table = q.add_movement(now, previous)
    if "previous_health_score" in table.columns:
        table["previous_health_color"] = q.health_color(table["previous_health_score"], tuple(cfg["health_colors"]))
    table = explain_movement(table, dataset.config)
    components = [c for c in table.columns if c not in QUADRANT_COLUMNS]
    return table[QUADRANT_COLUMNS + components].sort_values("account_id").reset_index(drop=True)


def slices(dataset: Dataset, period: Period) -> pd.DataFrame | None:
    """Pattern slicing over the retention cohort; None without renewals."""
    if not dataset.has("renewals"):
        return None
    cfg = dataset.config["analysis"]
    accounts = dataset.get("accounts")
    cohort = cohort_table(accounts, dataset.get("renewals"), period.as_of, period.window_start)
    dims = slicing_dimensions(accounts, cfg["slicing_dimensions"])
    return slice_churn(cohort, accounts, dims, int(cfg["min_accounts"]), float(cfg["alpha"]))


def summary(dataset: Dataset, period: Period, quadrants: pd.DataFrame) -> dict:
    """``results/summary.json`` as a dict (see the metric definitions)."""
    accounts = dataset.get("accounts")
    renewals = dataset.get("renewals")
    arr_now = arr_at(accounts, renewals, period.as_of)
    retention = retention_summary(accounts, renewals, period.as_of, period.window_start)
    reasons = {}
    if retention.get("reason"):
        reasons["retention"] = retention["reason"]
    out = {
        "period": period.label,
        "as_of": period.as_of.isoformat(),
        "window_start": period.window_start.isoformat(),
        "previous_period": period.previous_label,
        "accounts_total": int(len(accounts)),
        "arr_total": float(arr_now.sum()),
        "active_accounts": int((arr_now > 0).sum()),
        **{k: retention[k] for k in ("cohort_accounts", "nrr", "grr", "logo_churn_rate", "arr_churned", "arr_contracted", "arr_expanded")},
        "quadrants": q.quadrant_totals(quadrants),
        "data_quality": dataset.data_quality(),
        "null_reasons": reasons,
    }
    return out


# What each optional table feeds, for the data-gathering step's notes.
TABLE_USES = {
    "renewals": "NRR, GRR, logo churn, ARR movements and pattern slicing",
    "usage_events": "the usage score from events (else accounts.usage_score)",
    "health_scores": "the health score and its history (else accounts.health_score)",
    "users": "resolving events that carry no account_id",
    "workflow_runs": "workflow completion in the usage score",
    "support_tickets": "the voice of the customer and the health composite",
    "surveys": "NPS/CSAT in the voice of the customer",
    "touchpoints": "CSM contact and sentiment",
    "onboarding": "onboarding milestones in the churn analysis",
    "training": "training completion",
    "interviews": "qualitative evidence",
    "interventions": "intervention tracking",
    "product_fixes": "the complaint-to-fix loop",
}


def sources_table(dataset: Dataset) -> pd.DataFrame:
    """Per table given: the source and rows read / accepted / quarantined / blanked."""
    rows = []
    for name, t in dataset.tables.items():
        source = t.source.replace(str(dataset.data_dir), "").lstrip("/\\") or t.source
        rows.append({"table": name, "source": source, **t.quality})
    return pd.DataFrame(rows)


def missing_tables(dataset: Dataset) -> pd.DataFrame:
    """Optional tables not given, and what the report cannot show without them."""
    rows = [{"table": name, "needed for": use} for name, use in TABLE_USES.items() if not dataset.has(name)]
    return pd.DataFrame(rows, columns=["table", "needed for"])


def identity_resolution(dataset: Dataset) -> dict | None:
    """How events were tied to accounts: counts by route and the unresolved."""
    if not dataset.has("usage_events"):
        return None
    notes = dataset.tables["usage_events"].notes
    routes = notes.get("resolved_by", {})
    resolved = sum(routes.values())
    total = resolved + notes.get("unresolved", 0)
    return {
        "events_with_account_id": routes.get("given", 0),
        "resolved_through_users": routes.get("users", 0),
        "resolved_through_email_domain": routes.get("domain", 0),
        "unresolved_quarantined": notes.get("unresolved", 0),
        "resolution_rate": (resolved / total) if total else None,
    }


def account_names(dataset: Dataset) -> pd.Series:
    """account_id -> name to show; empty when redacted by configuration or absent."""
    accounts = dataset.get("accounts")
    if dataset.config["analysis"].get("redact_account_names") or "account_name" not in accounts.columns:
        return pd.Series("", index=accounts["account_id"].to_numpy())
    return pd.Series(accounts["account_name"].fillna("").to_numpy(), index=accounts["account_id"].to_numpy())


def _before(day: date) -> pd.Timestamp:
    """The first instant after ``day``: rows dated earlier are "on or before day"."""
    return pd.Timestamp(day) + pd.Timedelta(days=1)


def usage_by_month(dataset: Dataset, as_of: date, con=None) -> pd.DataFrame | None:
    """Per account and month, the usage measures (:func:`vga.usage.monthly_usage`)
    from events on or before ``as_of`` (point-in-time); None without events."""
    if not has_events(dataset):
        return None
    import ibis

    from .usage import monthly_usage

    con = con or connect(dataset.config)
    events = event_table(dataset, con)
    events = events.filter(events.timestamp < ibis.timestamp(_before(as_of).to_pydatetime()))
    monthly = monthly_usage(events, dataset.config["usage"]["core_features"]).to_pandas()
    monthly["month"] = pd.to_datetime(monthly["month"])
    return monthly


def workflow_abandonment(dataset: Dataset, as_of: date) -> pd.DataFrame | None:
    """Where abandoned workflow runs stop: workflow, last step, runs, share;
    runs started on or before ``as_of``, abandoned if not completed by then."""
    if not dataset.has("workflow_runs"):
        return None
    from .usage import abandonment_steps

    import ibis

    runs = _local_runs(dataset)
    cutoff = ibis.timestamp(_before(as_of).to_pydatetime())
    runs = runs.filter(runs.started_at < cutoff).mutate(  # not yet completed as of then: abandoned or open
        completed_at=(runs.completed_at < cutoff).ifelse(runs.completed_at, ibis.null("timestamp")))
    steps = abandonment_steps(runs).to_pandas()
    steps["share"] = steps["abandoned_runs"] / steps.groupby("workflow")["abandoned_runs"].transform("sum")
    return steps.sort_values(["workflow", "abandoned_runs"], ascending=[True, False]).reset_index(drop=True)


def score_sources(quadrants: pd.DataFrame) -> pd.DataFrame:
    """How many active accounts took each score from each source."""
    rows = []
    for kind in ("usage", "health"):
        col = f"{kind}_source"
        if col in quadrants.columns:
            counts = quadrants[col].replace("", "missing").value_counts()
            rows += [{"score": kind, "source": src, "accounts": int(n)} for src, n in counts.items()]
    return pd.DataFrame(rows, columns=["score", "source", "accounts"])
