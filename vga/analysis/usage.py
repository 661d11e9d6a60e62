"""Product usage aggregated from events with Ibis.

One set of Ibis expressions computes every usage signal. DuckDB (embedded,
out of core, spilling to disk) runs them by default over a data frame, a
Parquet or CSV file, or a folder of Parquet files; the same expressions run
on any backend Ibis supports, given a connection URL in ``[warehouse] url``:
PostgreSQL (tested in CI against a real server), and for larger estates
Spark, Trino, BigQuery or Snowflake.

How it stays fast: events are first collapsed to one row per account, day,
user and session, carrying the event count and bitmasks of the features
used (stage 1); the account-level measures are then counted over that much
smaller table (stage 2). When a data set has more distinct features than a
64-bit mask holds, stage 1 keeps the feature as a key instead; both routes
give identical figures (tested).

Measures, per account and period (a calendar month, or a window):

``events``              events in the period
``active_users``        distinct users
``active_days``         distinct UTC dates with an event
``sessions``            distinct ``session_id`` (user and day where it is empty)
``events_per_session``  events / sessions (session depth)
``features_used``       distinct features (breadth)
``core_features_used``  distinct configured core features
``core_adoption``       core_features_used / core features configured

Windows: the window of ``window_days`` at day d is ``(d - window_days, d]``,
every event whose UTC date is after d - window_days and on or before d.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import reduce

import ibis
import numpy as np
import pandas as pd

from ..engine import distinct_features, keep, once, upload  # noqa: F401 (distinct_features: used and re-exported)

MEASURES = [
    "events", "active_users", "active_days", "sessions", "events_per_session",
    "features_used", "core_features_used", "core_adoption",
]
#: Feature masks are signed 64-bit integers: bits 0..61 are used.
MASK_BITS = 62


@ibis.udf.scalar.builtin(name="bit_count")
def _bit_count(value: int) -> int:
    """DuckDB's own count of set bits."""


def _popcount(mask, bits: int):
    """Number of set bits among the lowest ``bits`` bits: DuckDB's
    ``bit_count``, else portable SQL (a sum of shifted bits)."""
    if bits == 0:
        return ibis.literal(0, type="int64")
    if _backend_name(mask) == "duckdb":
        return _bit_count(mask & ((1 << bits) - 1)).cast("int64")
    return reduce(lambda a, b: a + b, [((mask >> i) & 1) for i in range(bits)])


#: Backends whose Ibis compiler has no bitwise-or aggregate: stage 1 keeps
#: the feature as a key there (the same figures, more rows).
NO_BIT_OR = {"pyspark"}


def _backend_name(table: ibis.Table) -> str:
    try:
        return table._find_backend().name
    except Exception:  # an unbound table (tests, memtables): DuckDB runs it
        return "duckdb"


def _bits(names: list[str]) -> dict[str, int]:
    return {name: 1 << i for i, name in enumerate(names)}


def _bits_table(features: list[str]) -> ibis.Table:
    """Each feature's bit (``feature``, ``feature_bit``), a small table to join events to."""
    frame = pd.DataFrame({"feature": list(features), "feature_bit": list(_bits(features).values())})
    return ibis.memtable(frame.astype({"feature": object, "feature_bit": "int64"}),
                         schema={"feature": "string", "feature_bit": "int64"})


def masks_apply(events: ibis.Table, features: list[str]) -> bool:
    """Whether ``features`` fit a feature mask on the events' backend."""
    return len(features) <= MASK_BITS and _backend_name(events) not in NO_BIT_OR


def collapse(events: ibis.Table, features: list[str]) -> tuple[ibis.Table, bool]:
    """Stage 1: one row per account, day, user and session id.

    Keys are the raw columns (no per-event string building); an empty
    ``session_id`` stays empty here and becomes the user-day session in
    stage 2, over far fewer rows. Returns the table and whether a feature
    bitmask was used (else the feature is a key of the rows).
    """
    t = events
    keys = {"account_id": t.account_id, "day": t.timestamp.date(), "user_id": t.user_id}
    keys["session_id"] = t.session_id if "session_id" in t.columns else ibis.null("string")
    use_masks = masks_apply(t, features)
    if use_masks:
        # Each feature's bit from a small table joined by hash: far cheaper per
        # event than a CASE over the names (a third less time at 50M events).
        # The list holds every feature of the events, so no event is lost.
        t = t.join(_bits_table(features), "feature")
        keys = {"account_id": t.account_id, "day": t.timestamp.date(), "user_id": t.user_id}
        keys["session_id"] = t.session_id if "session_id" in t.columns else ibis.null("string")
        return t.group_by(**keys).aggregate(events=t.count(), feature_mask=t.feature_bit.bit_or()), True
    keys["feature"] = t.feature
    return t.group_by(**keys).aggregate(events=t.count()), False


def collapsed(events: ibis.Table, features: list[str]) -> tuple[ibis.Table, bool]:
    """:func:`collapse`, on a warehouse computed once per run and kept there
    (every monthly and point-in-time measure reads it; collapsing the events
    again was most of each query's time on PostgreSQL). DuckDB collapses
    within each query, out of core, as before."""
    if _backend_name(events) == "duckdb":
        return collapse(events, features)

    def build():
        stage1, masks = collapse(events, features)
        return keep(stage1), masks

    return once(events, ("collapsed", tuple(features)), build)


def account_days(events: ibis.Table, features: list[str]) -> ibis.Table | None:
    """On a warehouse, per account and UTC day (``day``, a date):
    ``events``, the count, and ``feature_mask``, the bits (in the order of
    ``features``, every feature of the events) of the features used that
    day; derived once per run from the kept collapsed events and kept (every
    per-day question of a run reads it: feature use in a window, top
    features, the early-warning backtest's daily events).

    None on DuckDB, which answers those questions from the events within
    each query (measured at 50,000 accounts: a per-day table aggregated
    afresh by each query held 1.1 GB more of the run's memory than
    aggregating only the asked features), and where masks do not apply
    (:func:`masks_apply`)."""
    if _backend_name(events) == "duckdb" or not masks_apply(events, features):
        return None

    def build():
        stage1, _ = collapsed(events, features)
        by_day = stage1.group_by(account_id=stage1.account_id, day=stage1.day)
        return keep(by_day.aggregate(events=stage1.events.sum(), feature_mask=stage1.feature_mask.bit_or()))

    return once(events, ("account_days", tuple(features)), build)


def _measures(stage1: ibis.Table, by_month: bool, features: list[str], core: list[str], use_masks: bool) -> ibis.Table:
    """Stage 2: the account-level measures over the collapsed rows."""
    s = stage1
    keys = ["account_id"]
    if by_month:
        s = s.mutate(month=s.day.truncate("M"))
        keys.append("month")
    # One session per session_id, else one per user and day (built only here,
    # over the collapsed rows).
    session = s.session_id.fill_null(s.user_id.concat("|", s.day.cast("string")))
    aggs = {"events": s.events.sum()}
    # Distinct users and sessions. DuckDB keeps a distinct aggregate's sets in
    # memory, which fails past its limit at a billion events; there each is
    # counted from the distinct rows instead (plain aggregates spill to disk).
    split = _backend_name(s) == "duckdb"
    if split:
        distinct_counts = [
            s.select(*keys, "user_id").distinct().group_by(keys).aggregate(active_users=lambda t: t.count()),
            s.select(*keys, session_key=session).distinct().group_by(keys).aggregate(sessions=lambda t: t.count()),
        ]
    else:
        aggs.update(active_users=s.user_id.nunique(), sessions=session.nunique())
    day_mask = by_month and _backend_name(s) not in NO_BIT_OR
    if day_mask:
        # A month has at most 31 days: count them with a day bitmask, exact and
        # much cheaper than a distinct count.
        # (a CASE, not a shift: PostgreSQL has no integer << bigint)
        if _backend_name(s) == "duckdb":
            aggs["day_mask"] = (ibis.literal(1, type="int64") << (s.day.day().cast("int64") - 1)).bit_or()
        else:
            day_bits = {d: 1 << (d - 1) for d in range(1, 32)}
            aggs["day_mask"] = s.day.day().substitute(day_bits, else_=0).cast("int64").bit_or()
    else:
        aggs["active_days"] = s.day.nunique()
    core = [c for c in core]
    if use_masks:
        aggs["feature_mask"] = s.feature_mask.bit_or()
        out = s.group_by(keys).aggregate(**aggs)
        core_bits = sum(bit for name, bit in _bits(features).items() if name in core)
        out = out.mutate(
            features_used=_popcount(out.feature_mask, len(features)),
            core_features_used=_popcount(out.feature_mask & core_bits, len(features)),
        ).drop("feature_mask")
    else:
        aggs["features_used"] = s.feature.nunique()
        aggs["core_features_used"] = (
            s.feature.isin(core).ifelse(s.feature, ibis.null("string")).nunique() if core else ibis.literal(0).max()
        )
        out = s.group_by(keys).aggregate(**aggs)
    if day_mask:
        out = out.mutate(active_days=_popcount(out.day_mask, 31)).drop("day_mask")
    if split:
        for counts in distinct_counts:
            out = out.join(counts, keys)
    adoption = (out.core_features_used.cast("float64") / len(core)) if core else ibis.null("float64")
    return out.mutate(
        events_per_session=out.events.cast("float64") / out.sessions,
        core_adoption=adoption,
    )


def _window_bounds(day: date, window_days: int) -> tuple[datetime, datetime]:
    end = datetime.combine(day, datetime.min.time()) + timedelta(days=1)  # exclusive: all of day d
    return end - timedelta(days=window_days), end


def monthly_usage(events: ibis.Table, core_features=(), features: list[str] | None = None, *,
                  months=None, on_or_before: date | None = None) -> ibis.Table:
    """Per account and calendar month (``month`` = its first day): the
    measures. Only the events of ``months`` (first days) and on or before
    ``on_or_before`` (UTC dates) when given: a warehouse reads them from the
    collapsed events it keeps, DuckDB filters the events as it reads them."""
    core = list(core_features)
    features = distinct_features(events) if features is None else features
    if _backend_name(events) == "duckdb":
        stage1, masks = collapse(_dated(events, "timestamp", months, on_or_before), features)
    else:
        stage1, masks = collapsed(events, features)
        stage1 = _dated(stage1, "day", months, on_or_before)
    out = _measures(stage1, True, features, core, masks)
    return out.mutate(month=out.month.cast("date"))[["account_id", "month", *MEASURES]]


def _dated(table: ibis.Table, column: str, months=None, on_or_before: date | None = None) -> ibis.Table:
    """``table``'s rows whose ``column`` (a timestamp, or a UTC date) falls
    in one of ``months`` (first days) and on or before ``on_or_before``."""
    value = table[column]
    literal = ibis.date if value.type().is_date() else (lambda d: ibis.timestamp(pd.Timestamp(d).to_pydatetime()))
    if months is not None:
        starts = sorted({pd.Timestamp(m).to_period("M").start_time for m in months})
        inside = [(value >= literal(m)) & (value < literal(m + pd.offsets.MonthBegin(1))) for m in starts]
        table = table.filter(reduce(lambda a, b: a | b, inside) if inside else ibis.literal(False))
    if on_or_before is not None:
        table = table.filter(table[column] < literal(pd.Timestamp(on_or_before) + pd.Timedelta(days=1)))
    return table


#: Events one monthly aggregation reads at most; beyond, months go in slices.
EVENTS_PER_QUERY = 200_000_000


def monthly_usage_frame(events: ibis.Table, core_features=(), features: list[str] | None = None,
                        events_per_query: int = EVENTS_PER_QUERY, *, months=None,
                        on_or_before: date | None = None) -> pd.DataFrame:
    """:func:`monthly_usage` as a data frame (``months`` and ``on_or_before``
    as there). Up to ``events_per_query`` events it is one query; beyond,
    calendar months are aggregated a slice at a time (months are
    independent), so that DuckDB's memory stays bounded however long the
    history: a billion events in 3 GB. The same rows either way."""
    features = distinct_features(events) if features is None else features
    columns = ["account_id", "month", *MEASURES]
    scoped = _dated(events, "timestamp", months, on_or_before)
    span = scoped.aggregate(n=scoped.count(), first=scoped.timestamp.min(),
                            last=scoped.timestamp.max()).to_pandas().iloc[0]
    if not span["n"]:
        return pd.DataFrame(columns=columns)
    if span["n"] <= events_per_query:
        return monthly_usage(events, core_features, features, months=months, on_or_before=on_or_before).to_pandas()[columns]
    starts = pd.date_range(pd.Timestamp(span["first"]).to_period("M").start_time,
                           pd.Timestamp(span["last"]).to_period("M").start_time, freq="MS")
    if months is not None:
        starts = starts[starts.isin({pd.Timestamp(m).to_period("M").start_time for m in months})]
    per_slice = max(1, int(len(starts) * events_per_query // int(span["n"])))
    parts = []
    for i in range(0, len(starts), per_slice):
        part = monthly_usage(events, core_features, features, months=starts[i:i + per_slice], on_or_before=on_or_before)
        parts.append(part.to_pandas())
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)


def window_usage(
    events: ibis.Table, day: date, window_days: int = 90, core_features=(), features: list[str] | None = None
) -> ibis.Table:
    """Per account, the measures over the window ``(day - window_days, day]``
    (of ``features`` only when given; every feature by default)."""
    core = list(core_features)
    features = distinct_features(events) if features is None else features
    if _backend_name(events) != "duckdb" and list(features) == distinct_features(events):  # kept, by day
        stage1, masks = collapsed(events, features)
        stage1 = stage1.filter((stage1.day > ibis.date(day - timedelta(days=window_days))) & (stage1.day <= ibis.date(day)))
    else:
        start, end = _window_bounds(day, window_days)
        w = events.filter((events.timestamp >= ibis.timestamp(start)) & (events.timestamp < ibis.timestamp(end)))
        stage1, masks = collapse(w, features)
    return _measures(stage1, False, features, core, masks)[["account_id", *MEASURES]]


def _pairs_table(events: ibis.Table, pairs: pd.DataFrame) -> ibis.Table:
    """(account, day) pairs as a table beside the events, to join them to
    (uploaded once per call: one query joins every pair)."""
    # An explicit schema: with no pairs, a frame's columns would be typed
    # null, and a date column of nulls cannot take part in date arithmetic.
    return upload(events, pd.DataFrame({"pair": pairs["pair"].astype("int64").to_numpy(),
                                        "pair_account": pairs["account_id"].astype(str).to_numpy(dtype=object),
                                        "at_day": pd.to_datetime(pairs["day"]).dt.date.to_numpy()}),
                  {"pair": "int64", "pair_account": "string", "at_day": "date"})


def top_features(events: ibis.Table, n: int = 30, on_or_before: date | None = None) -> list[str]:
    """The ``n`` features used by the most accounts (ties by name), sorted
    by name; from events on or before ``on_or_before`` (a UTC date) when given."""
    if _backend_name(events) != "duckdb":
        features = distinct_features(events)
        days = account_days(events, features)
        if days is not None:  # the kept per-day table, not the events again
            return once(events, ("top_features", n, on_or_before),
                        lambda: _top_by_masks(days, features, n, on_or_before))
    if on_or_before is not None:
        events = events.filter(events.timestamp < ibis.timestamp(_window_bounds(on_or_before, 1)[1]))
    # The distinct (feature, account) rows, then counted: a hash aggregate
    # everywhere, where a distinct count sorts on PostgreSQL (4x the time).
    pairs = events.filter(events.account_id.notnull()).select("feature", "account_id").distinct()
    counts = once(events, ("accounts_per_feature", on_or_before),
                  lambda: pairs.group_by("feature").aggregate(accounts=pairs.count()).to_pandas())
    return _most_used(counts, n)


def _most_used(counts: pd.DataFrame, n: int) -> list[str]:
    """The ``n`` features of most ``accounts`` (``feature``, ``accounts``), ties by name, sorted by name."""
    return sorted(counts.sort_values(["accounts", "feature"], ascending=[False, True])["feature"].head(n))


def _top_by_masks(days: ibis.Table, features: list[str], n: int, on_or_before: date | None) -> list[str]:
    """:func:`top_features` from :func:`account_days`: each account's
    features as one mask, the accounts counted per bit."""
    if on_or_before is not None:
        days = days.filter(days.day <= ibis.date(on_or_before))
    days = days.filter(days.account_id.notnull())
    masks = days.group_by("account_id").aggregate(mask=days.feature_mask.bit_or()).to_pandas()["mask"]
    masks = masks.to_numpy(dtype=np.int64)
    bits = _bits(features)
    counts = pd.DataFrame({"feature": list(bits), "accounts": [int(((masks & bit) != 0).sum()) for bit in bits.values()]})
    return _most_used(counts[counts["accounts"] > 0], n)


def pair_usage(
    events: ibis.Table, pairs: pd.DataFrame, window_days: int = 90, core_features=(), features: list[str] | None = None
) -> pd.DataFrame:
    """The measures of :func:`window_usage` for many (account, day) pairs at once.

    ``pairs`` has ``pair`` (a unique integer), ``account_id`` and ``day``
    (dates). Returns one row per pair with events in its window, keyed by
    ``pair``, with the same figures :func:`window_usage` gives for that
    account at that day (tested): the events are collapsed once, then each
    collapsed row is joined to the pairs whose window holds its day.
    """
    core = list(core_features)
    features = distinct_features(events) if features is None else features
    stage1, masks = collapsed(events, features)
    p = _pairs_table(events, pairs)
    joined = stage1.join(p, [stage1.account_id == p.pair_account, stage1.day <= p.at_day,
                             stage1.day > p.at_day - ibis.interval(days=window_days)])
    # The pair is the key of the measures (an integer: cheaper to group by than its text).
    columns = {"account_id": joined.pair, "day": joined.day, "user_id": joined.user_id,
               "session_id": joined.session_id, "events": joined.events}
    columns.update({"feature_mask": joined.feature_mask} if masks else {"feature": joined.feature})
    out = _measures(joined.select(**columns), False, features, core, masks)[["account_id", *MEASURES]].to_pandas()
    return out.rename(columns={"account_id": "pair"}).astype({"pair": "int64"})


def pair_feature_use(events: ibis.Table, pairs: pd.DataFrame, features, window_days: int = 90) -> pd.DataFrame:
    """For each (account, day) pair and each of ``features``: whether the
    account used it in the window ``(day - window_days, day]``. Columns
    ``pair`` and one boolean column per feature; pairs that used none of
    them are absent."""
    features = list(features)
    every = distinct_features(events) if _backend_name(events) != "duckdb" else []
    days = account_days(events, every) if every else None
    p = _pairs_table(events, pairs)
    if days is not None:
        # Each pair's features as one mask (a row per pair comes back, not one per pair and feature).
        joined = days.join(p, [days.account_id == p.pair_account, days.day <= p.at_day,
                               days.day > p.at_day - ibis.interval(days=window_days)])
        got = joined.group_by("pair").aggregate(mask=joined.feature_mask.bit_or()).to_pandas()
        masks, bits = got["mask"].to_numpy(dtype=np.int64), _bits(every)
        columns = {f: (masks & bits[f]) != 0 if f in bits else np.zeros(len(got), dtype=bool) for f in features}
        out = pd.DataFrame({"pair": got["pair"].to_numpy(dtype=np.int64), **columns})
        return out[out[features].any(axis=1)].reset_index(drop=True) if features else out.iloc[:0]
    e = _feature_days(events, features)
    joined = e.join(p, [e.account_id == p.pair_account, e.event_day <= p.at_day,
                        e.event_day > p.at_day - ibis.interval(days=window_days)])
    used = joined.group_by(["pair", "feature"]).aggregate(n=joined.n.sum()).to_pandas()
    wide = used.assign(used=used["n"] > 0).pivot_table(index="pair", columns="feature", values="used", aggfunc="any")
    wide = wide.reindex(columns=features).fillna(False).astype(bool)
    return wide.reset_index()


def _feature_days(events: ibis.Table, features: list[str]) -> ibis.Table:
    """Per account, UTC day (``event_day``) and each of ``features``: ``n``,
    the events. On a warehouse the table of every feature is computed once
    per run and kept there, and each call takes its features from it."""
    def build(e):
        e = e.mutate(event_day=e.timestamp.date())
        return e.group_by(["account_id", "event_day", "feature"]).aggregate(n=e.count())

    if _backend_name(events) == "duckdb":
        return build(events.filter(events.feature.isin(features)))
    days = once(events, "feature_days", lambda: keep(build(events)))
    return days.filter(days.feature.isin(features))


def daily_events(events: ibis.Table, start: date | None = None, end: date | None = None) -> ibis.Table:
    """Per account and UTC day (``day``, a date): ``events``, the count.
    Only days from ``start`` to ``end`` (both included) when given: one
    scan, a row per account and active day (what the early-warning
    backtest needs, far smaller than the events). A warehouse reads the
    per-day table it keeps (:func:`account_days`)."""
    days = account_days(events, distinct_features(events)) if _backend_name(events) != "duckdb" else None
    if days is not None:  # the kept per-day table
        if start is not None:
            days = days.filter(days.day >= ibis.date(start))
        if end is not None:
            days = days.filter(days.day <= ibis.date(end))
        return days.select("account_id", "day", "events")
    e = events
    if start is not None:
        e = e.filter(e.timestamp >= ibis.timestamp(datetime.combine(start, datetime.min.time())))
    if end is not None:
        e = e.filter(e.timestamp < ibis.timestamp(datetime.combine(end, datetime.min.time()) + timedelta(days=1)))
    return e.group_by(account_id=e.account_id, day=e.timestamp.date()).aggregate(events=e.count())


def first_value(events: ibis.Table, value_events=()) -> ibis.Table:
    """Per account, the first timestamp of any configured value event."""
    value = list(value_events)
    hits = events.filter(events.feature.isin(value)) if value else events.filter(ibis.literal(False))
    return hits.group_by("account_id").aggregate(first_value_at=hits.timestamp.min())


def time_to_first_value(
    first: pd.DataFrame, accounts: pd.DataFrame, as_of: date
) -> pd.DataFrame:
    """Days from ``contract_start`` to the first value event, as known at ``as_of``.

    Accounts with no value event on or before ``as_of`` (or none after their
    contract start) have no figure (NaN); so do accounts without a start.
    """
    out = accounts[["account_id"]].copy()
    starts = pd.to_datetime(accounts.get("contract_start")) if "contract_start" in accounts.columns else pd.Series(pd.NaT, index=accounts.index)
    first = first[pd.to_datetime(first["first_value_at"]) < pd.Timestamp(as_of) + pd.Timedelta(days=1)]
    hit = out.merge(first, on="account_id", how="left")["first_value_at"]
    days = (pd.to_datetime(hit).to_numpy() - starts.to_numpy()) / pd.Timedelta(days=1)
    out["days_to_first_value"] = pd.Series(days, index=out.index).where(lambda d: d >= 0)
    return out


def workflow_summary(runs: ibis.Table, day: date | None = None, window_days: int = 90) -> ibis.Table:
    """Per account: runs started, completed and the completion rate, over the
    window at ``day`` (all runs when ``day`` is None)."""
    r = runs
    if day is not None:
        start, end = _window_bounds(day, window_days)
        r = r.filter((r.started_at >= ibis.timestamp(start)) & (r.started_at < ibis.timestamp(end)))
        done = r.completed_at.notnull() & (r.completed_at < ibis.timestamp(end))
    else:
        done = r.completed_at.notnull()
    out = r.group_by("account_id").aggregate(runs_started=r.count(), runs_completed=done.cast("int64").sum())
    return out.mutate(completion_rate=out.runs_completed.cast("float64") / out.runs_started)


def abandonment_steps(runs: ibis.Table) -> ibis.Table:
    """Where abandoned runs stop: per workflow and last step, the count."""
    abandoned = runs.filter(runs.completed_at.isnull())
    step = abandoned.last_step.fill_null("(not recorded)") if "last_step" in abandoned.columns else ibis.literal("(not recorded)")
    return abandoned.group_by([abandoned.workflow, step.name("last_step")]).aggregate(abandoned_runs=abandoned.count())
