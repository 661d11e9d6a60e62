"""Product usage aggregated from events with Ibis.

One set of Ibis expressions computes every usage signal. DuckDB (embedded,
out of core) runs them by default over a data frame, a Parquet/CSV file or a
folder of Parquet files; the same expressions run on any Ibis backend given a
connection URL in ``[warehouse] url`` (PostgreSQL; for larger estates Ibis
also offers Spark, Trino, BigQuery and Snowflake).

Windows: the 90-day usage window at day d is ``(d - 90 days, d]``, i.e. every
event whose UTC date is after d - 90 days and on or before d.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import ibis
import pandas as pd

ACTIVITY_COLUMNS = [
    "account_id", "events", "active_users", "active_days", "sessions", "events_per_session",
    "features_used", "core_features_used",
]


def connect(config: dict | None = None):
    """An Ibis connection: the configured warehouse URL, else in-memory DuckDB."""
    url = ((config or {}).get("warehouse") or {}).get("url")
    if url:
        return ibis.connect(url)
    con = ibis.duckdb.connect()
    # Event-scale work stays within memory: DuckDB spills to disk past this.
    con.raw_sql("SET preserve_insertion_order = false")
    return con


def as_table(con, events) -> ibis.Table:
    """An Ibis table over ``events``: a data frame, an Ibis table, or a path
    (a Parquet file, a folder of Parquet files, or a CSV file)."""
    if isinstance(events, ibis.Table):
        return events
    if isinstance(events, pd.DataFrame):
        cols = [c for c in ("timestamp", "account_id", "user_id", "session_id", "feature") if c in events.columns]
        return con.create_table("vga_events", events[cols], temp=True, overwrite=True)
    path = str(events)
    if path.endswith(".csv"):
        return con.read_csv(path)
    if not path.endswith(".parquet"):
        path = path.rstrip("/") + "/*.parquet"
    return con.read_parquet(path)


def _bounds(day: date, window_days: int) -> tuple[datetime, datetime]:
    end = datetime.combine(day, datetime.min.time()) + timedelta(days=1)  # exclusive: all of day d
    return end - timedelta(days=window_days), end


def window_activity(events: ibis.Table, day: date, window_days: int = 90, core_features=()) -> ibis.Table:
    """Per account, activity in the window ``(day - window_days, day]``.

    Columns: ``events``, ``active_users``, ``active_days`` (distinct UTC
    dates), ``sessions`` (distinct session_id, or user-day when absent),
    ``events_per_session``, ``features_used`` (breadth) and
    ``core_features_used`` (distinct configured core features).
    """
    start, end = _bounds(day, window_days)
    w = events.filter((events.timestamp >= ibis.timestamp(start)) & (events.timestamp < ibis.timestamp(end)))
    day_key = w.timestamp.date().cast("string")
    if "session_id" in w.columns:
        session = w.session_id.fill_null(w.user_id.concat("|", day_key))
    else:
        session = w.user_id.concat("|", day_key)
    core = list(core_features)
    core_used = (
        w.feature.isin(core).ifelse(w.feature, ibis.null("string")).nunique() if core else ibis.literal(0)
    )
    agg = w.group_by("account_id").aggregate(
        events=w.count(),
        active_users=w.user_id.nunique(),
        active_days=w.timestamp.date().nunique(),
        sessions=session.nunique(),
        features_used=w.feature.nunique(),
        core_features_used=core_used,
    )
    return agg.mutate(events_per_session=agg.events / agg.sessions)[ACTIVITY_COLUMNS]


def activity_frame(con, events, day: date, window_days: int = 90, core_features=()) -> pd.DataFrame:
    """:func:`window_activity` executed into a data frame."""
    table = as_table(con, events)
    return window_activity(table, day, window_days, core_features).to_pandas()
