"""Voice of the customer: NPS, CSAT, support load, open backlog, escalations
and interview themes, point-in-time.

Every function takes accepted frames (as :class:`vga.inputs.Inputs` holds
them: timestamps naive UTC) and plain dates, and returns frames, dicts or
plain values. Rates are fractions (0.42), never rounded; NPS is on its own
scale of -100..100. "On or before day d" includes all of day d; a window
``(start, end]`` holds the rows dated after ``start`` and on or before
``end``. Nothing dated after the as-of date is used for a figure as of it.

Definitions:

- NPS: survey responses of kind ``nps`` (0..10). Promoters score 9-10,
  passives 7-8, detractors 0-6; NPS = 100 x (promoters - detractors) /
  responses. Every response counts (an account answering twice counts
  twice), as NPS is usually reported.
- CSAT: the 1..5 ratings of surveys of kind ``csat`` together with the
  ``csat`` of support tickets; its mean (1..5) and the share satisfied
  (4 or 5). A ticket's rating is dated by its ``closed_at`` (customers rate
  a ticket when it is closed), or its ``opened_at`` when it has none.
  Onboarding and offboarding surveys (also 1..5) are reported apart: they
  ask about one moment, not the relationship.
- Level: over the retention window ``(window_start, as_of]``; the previous
  level over the previous period's window, and the change between them.
  Trend: per calendar quarter of the data up to the as-of date, only
  quarters with responses, with their count.
- Support load: tickets opened in the window per account-month, where
  account-months count, for each of the 12 monthly dates ``as_of``,
  ``as_of - 1 month``, ... ``as_of - 11 months``, the accounts with ARR
  above 0 on that date. Broken down by ``category`` and ``priority``.
- Open backlog at d: tickets opened on or before d and not closed by then
  (``closed_at`` empty, or after d). Age: whole days from the day opened to
  d.
- Escalations: tickets opened in the window whose ``escalated`` flag is
  true. The contract gives no escalation date, so a ticket escalated after
  the as-of date counts as escalated: the flag is as exported.
- ARR behind a voice (themes, escalated accounts): see :func:`voice_arr`.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from dateutil.relativedelta import relativedelta

from ..periods import Period
from ..periods import one_year_before
from .quadrant import QUADRANTS
from .retention import arr_at, arr_for_pairs
from .themes import THEME_COLUMNS, themes_by_arr

#: Interview sources heard from customers who left, against every other kind of evidence.
CHURN_SOURCES = ("churn_interview",)
SOURCE_GROUPS = {"churn": "churn interviews", "other": "win/loss, advisory board, call recordings, observation, other"}
TREND_MEASURES = ("nps", "csat", "csat_satisfied", "touchpoints_negative")
TREND_COLUMNS = ["quarter", "quarter_end", "measure", "responses", "value"]
SUPPORT_COLUMNS = ["dimension", "value", "tickets", "share", "per_account_month", "escalated"]
THEMES_COLUMNS = ["source_group"] + THEME_COLUMNS
QUADRANT_COLUMNS = ["quadrant", "accounts", "accounts_responding", "responses", "nps", "promoter_share",
                    "detractor_share", "csat_responses", "csat"]
NOT_GIVEN = "(not given)"


# --------------------------------------------------------------------------
# Dates


def _end_of(day: date) -> pd.Timestamp:
    """The first instant after ``day``: a row before it is on or before ``day``."""
    return pd.Timestamp(day).normalize() + pd.Timedelta(days=1)


def _naive(values: pd.Series) -> pd.Series:
    values = pd.to_datetime(values)
    return values.dt.tz_convert("UTC").dt.tz_localize(None) if values.dt.tz is not None else values


def until(frame: pd.DataFrame | None, column: str, day: date) -> pd.DataFrame | None:
    """Rows of ``frame`` dated on or before ``day`` (all of that day)."""
    if frame is None:
        return None
    return frame[_naive(frame[column]) < _end_of(day)]


def within(frame: pd.DataFrame | None, column: str, start: date, end: date) -> pd.DataFrame | None:
    """Rows of ``frame`` dated in ``(start, end]``."""
    if frame is None:
        return None
    at = _naive(frame[column])
    return frame[(at >= _end_of(start)) & (at < _end_of(end))]


def previous_window(period: Period) -> tuple[date, date]:
    """The previous period's retention window ``(start, end]``."""
    return one_year_before(period.previous_as_of), period.previous_as_of


# --------------------------------------------------------------------------
# NPS and CSAT


def nps_responses(surveys: pd.DataFrame | None) -> pd.DataFrame:
    """NPS responses: ``account_id``, ``at`` (timestamp), ``score`` (0..10)."""
    if surveys is None:
        return pd.DataFrame({"account_id": pd.Series(dtype=object), "at": pd.Series(dtype="datetime64[ns]"),
                             "score": pd.Series(dtype=float)})
    rows = surveys[surveys["kind"] == "nps"]
    return pd.DataFrame({"account_id": rows["account_id"].to_numpy(), "at": _naive(rows["responded_at"]).to_numpy(),
                         "score": rows["score"].astype(float).to_numpy()})


def csat_responses(surveys: pd.DataFrame | None, tickets: pd.DataFrame | None) -> pd.DataFrame:
    """CSAT ratings (1..5): ``account_id``, ``at``, ``score``, ``origin``
    (``survey`` for surveys of kind csat, ``ticket`` for ticket ratings
    dated by ``closed_at``, else ``opened_at``)."""
    empty = pd.DataFrame({"account_id": pd.Series(dtype=object), "at": pd.Series(dtype="datetime64[ns]"),
                          "score": pd.Series(dtype=float), "origin": pd.Series(dtype=object)})
    parts = []
    if surveys is not None:
        rows = surveys[surveys["kind"] == "csat"]
        parts.append(pd.DataFrame({"account_id": rows["account_id"].to_numpy(),
                                   "at": _naive(rows["responded_at"]).to_numpy(),
                                   "score": rows["score"].astype(float).to_numpy(), "origin": "survey"}))
    if tickets is not None and "csat" in tickets.columns:
        rows = tickets[tickets["csat"].notna()]
        opened = _naive(rows["opened_at"])
        closed = _naive(rows["closed_at"]) if "closed_at" in rows.columns else pd.Series(pd.NaT, index=rows.index)
        parts.append(pd.DataFrame({"account_id": rows["account_id"].to_numpy(),
                                   "at": closed.fillna(opened).to_numpy(),
                                   "score": rows["csat"].astype(float).to_numpy(), "origin": "ticket"}))
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else empty


def nps_of(scores: pd.Series) -> dict:
    """NPS of 0..10 scores: responses, promoters, passives, detractors, their
    shares, and ``nps`` (-100..100; None without responses)."""
    s = pd.Series(scores, dtype=float).dropna()
    n = int(len(s))
    promoters, detractors = int((s >= 9).sum()), int((s <= 6).sum())
    return {
        "responses": n, "promoters": promoters, "passives": n - promoters - detractors, "detractors": detractors,
        "promoter_share": promoters / n if n else None, "detractor_share": detractors / n if n else None,
        "nps": 100.0 * (promoters - detractors) / n if n else None,
    }


def csat_of(ratings: pd.DataFrame) -> dict:
    """CSAT of 1..5 ratings (``score``, ``origin``): responses by origin, the
    mean and the share satisfied (4 or 5); None without ratings."""
    s = ratings["score"].astype(float)
    n = int(len(s))
    return {
        "responses": n,
        "survey_responses": int((ratings["origin"] == "survey").sum()),
        "ticket_responses": int((ratings["origin"] == "ticket").sum()),
        "mean": float(s.mean()) if n else None,
        "satisfied_share": float((s >= 4).mean()) if n else None,
    }


def _change(now, before):
    return None if now is None or before is None else now - before


def score_levels(surveys, tickets, period: Period) -> tuple[dict, dict, dict]:
    """NPS, CSAT and the other surveys' levels over the window, with the
    previous window's level and the change (NPS in points, CSAT mean in
    points of 1..5, satisfied share as a fraction)."""
    prev = previous_window(period)
    nps = nps_responses(surveys)
    now = nps_of(within(nps, "at", period.window_start, period.as_of)["score"])
    before = nps_of(within(nps, "at", *prev)["score"])
    nps_level = {**now, "previous": before, "change": _change(now["nps"], before["nps"])}
    ratings = csat_responses(surveys, tickets)
    now_c = csat_of(within(ratings, "at", period.window_start, period.as_of))
    before_c = csat_of(within(ratings, "at", *prev))
    sources = [name for name, n in (("surveys of kind csat", now_c["survey_responses"]),
                                    ("support ticket ratings", now_c["ticket_responses"])) if n]
    csat_level = {**now_c, "sources": sources, "previous": before_c,
                  "change_mean": _change(now_c["mean"], before_c["mean"]),
                  "change_satisfied_share": _change(now_c["satisfied_share"], before_c["satisfied_share"])}
    other = {}
    if surveys is not None:
        recent = within(surveys, "responded_at", period.window_start, period.as_of)
        for kind in ("onboarding", "offboarding"):
            s = recent.loc[recent["kind"] == kind, "score"].astype(float)
            other[kind] = {"responses": int(len(s)), "mean": float(s.mean()) if len(s) else None}
    return nps_level, csat_level, other


def quarter_trend(surveys, tickets, touchpoints, as_of: date) -> pd.DataFrame:
    """Per calendar quarter up to ``as_of`` (only quarters with responses):
    ``nps``, ``csat`` (mean 1..5), ``csat_satisfied`` (share 4-5) and
    ``touchpoints_negative`` (share of touchpoints with a recorded sentiment
    that were negative). ``quarter_end`` is the quarter's last day, or the
    as-of date for the quarter it falls in (a part quarter)."""
    rows = []

    def add(frame, measure, value_of):
        if frame is None or frame.empty:
            return
        quarters = pd.PeriodIndex(frame["at"], freq="Q")
        for quarter, part in frame.groupby(quarters):
            rows.append({"quarter": str(quarter), "measure": measure, "responses": int(len(part)),
                         "value": value_of(part)})

    add(until(nps_responses(surveys), "at", as_of), "nps", lambda p: nps_of(p["score"])["nps"])
    ratings = until(csat_responses(surveys, tickets), "at", as_of)
    add(ratings, "csat", lambda p: float(p["score"].mean()))
    add(ratings, "csat_satisfied", lambda p: float((p["score"] >= 4).mean()))
    if touchpoints is not None and "sentiment" in touchpoints.columns:
        tp = until(touchpoints, "occurred_at", as_of)
        tp = tp[tp["sentiment"].notna()]
        add(pd.DataFrame({"at": _naive(tp["occurred_at"]), "negative": tp["sentiment"] == "negative"}),
            "touchpoints_negative", lambda p: float(p["negative"].mean()))
    if not rows:
        return pd.DataFrame({"quarter": pd.Series(dtype=object), "quarter_end": pd.Series(dtype="datetime64[ns]"),
                             "measure": pd.Series(dtype=object), "responses": pd.Series(dtype=np.int64),
                             "value": pd.Series(dtype=float)})
    trend = pd.DataFrame(rows)
    ends = pd.PeriodIndex(trend["quarter"], freq="Q").end_time.normalize()
    trend["quarter_end"] = np.minimum(ends, pd.Timestamp(as_of))
    trend["responses"] = trend["responses"].astype(np.int64)
    trend["value"] = trend["value"].astype(float)
    order = {m: i for i, m in enumerate(TREND_MEASURES)}
    trend = trend.sort_values(["quarter", "measure"], key=lambda c: c.map(order) if c.name == "measure" else c)
    return trend[TREND_COLUMNS].reset_index(drop=True)


def touchpoint_level(touchpoints: pd.DataFrame | None, period: Period) -> dict:
    """Touchpoints held in the window, by recorded sentiment, and the share
    negative among those with one (previous window's share and the change)."""

    def level(rows):
        counts = rows["sentiment"].value_counts() if "sentiment" in rows.columns else pd.Series(dtype=int)
        rated = int(counts.sum())
        return {"touchpoints": int(len(rows)),
                **{s: int(counts.get(s, 0)) for s in ("positive", "neutral", "negative")}, "with_sentiment": rated,
                "negative_share": counts.get("negative", 0) / rated if rated else None}

    now = level(within(touchpoints, "occurred_at", period.window_start, period.as_of))
    before = level(within(touchpoints, "occurred_at", *previous_window(period)))
    return {**now, "previous_negative_share": before["negative_share"],
            "change_negative_share": _change(now["negative_share"], before["negative_share"])}


def by_quadrant(surveys, tickets, quadrants: pd.DataFrame, period: Period) -> pd.DataFrame:
    """NPS and CSAT over the window for each quadrant of the active accounts
    (``quadrants``: account_id, quadrant at the as-of date). Responses of
    accounts no longer active are left out: they have no quadrant."""
    nps = within(nps_responses(surveys), "at", period.window_start, period.as_of)
    ratings = within(csat_responses(surveys, tickets), "at", period.window_start, period.as_of)
    rows = []
    for quadrant, members in quadrants.groupby("quadrant", sort=False):
        mine = nps[nps["account_id"].isin(members["account_id"])]
        rated = ratings[ratings["account_id"].isin(members["account_id"])]
        level = nps_of(mine["score"])
        rows.append({"quadrant": quadrant, "accounts": int(len(members)),
                     "accounts_responding": int(mine["account_id"].nunique()), "responses": level["responses"],
                     "nps": level["nps"], "promoter_share": level["promoter_share"],
                     "detractor_share": level["detractor_share"], "csat_responses": int(len(rated)),
                     "csat": float(rated["score"].mean()) if len(rated) else None})
    out = pd.DataFrame(rows, columns=QUADRANT_COLUMNS)
    for col in ("nps", "promoter_share", "detractor_share", "csat"):
        out[col] = out[col].astype(float)
    rank = {q: i for i, q in enumerate(QUADRANTS)}
    return out.sort_values("quadrant", key=lambda q: q.map(rank).fillna(len(rank))).reset_index(drop=True)


# --------------------------------------------------------------------------
# Support


def account_months(accounts: pd.DataFrame, renewals: pd.DataFrame | None, as_of: date) -> int:
    """Accounts with ARR above 0 on each of the 12 monthly dates ending on
    ``as_of`` (``as_of``, ``as_of - 1 month``, ...), summed."""
    ids = accounts.drop_duplicates("account_id")["account_id"].to_numpy()
    days = [pd.Timestamp(as_of - relativedelta(months=k)) for k in range(12)]
    pairs = pd.DataFrame({"account_id": np.tile(ids, len(days)), "day": np.repeat(days, len(ids))})
    return int((arr_for_pairs(accounts, renewals, pairs) > 0).sum())  # one pass for the 12 dates


def support_load(tickets: pd.DataFrame, months: int, start: date, end: date) -> tuple[dict, pd.DataFrame]:
    """Tickets opened in ``(start, end]``: the overall load per account-month
    (``months``: :func:`account_months` at ``end``) and one row per category
    and per priority (:data:`SUPPORT_COLUMNS`); an empty value is
    ``(not given)``."""
    opened = within(tickets, "opened_at", start, end)
    n = int(len(opened))
    flags = (opened["escalated"] if "escalated" in opened.columns
             else pd.Series(pd.NA, index=opened.index, dtype="boolean"))
    level = {"tickets": n, "account_months": months, "accounts_with_tickets": int(opened["account_id"].nunique()),
             "tickets_per_account_month": n / months if months else None}
    rows = []
    for dimension in ("category", "priority"):
        if dimension not in opened.columns:
            continue
        values = opened[dimension].fillna(NOT_GIVEN).astype(str).replace("", NOT_GIVEN)
        for value, part in opened.groupby(values):
            rows.append({"dimension": dimension, "value": value, "tickets": int(len(part)),
                         "share": len(part) / n, "per_account_month": len(part) / months if months else np.nan,
                         "escalated": int(flags.loc[part.index].fillna(False).astype(bool).sum())})
    table = pd.DataFrame(rows, columns=SUPPORT_COLUMNS)
    table = table.astype({"tickets": np.int64, "escalated": np.int64, "share": float, "per_account_month": float})
    table = table.sort_values(["dimension", "tickets", "value"], ascending=[True, False, True])
    return level, table.reset_index(drop=True)


def open_tickets(tickets: pd.DataFrame, day: date) -> pd.DataFrame:
    """The tickets open at ``day``: opened on or before it and not closed by then."""
    opened = until(tickets, "opened_at", day)
    closed = _naive(opened["closed_at"]) if "closed_at" in opened.columns else pd.Series(pd.NaT, index=opened.index)
    return opened[closed.isna() | (closed >= _end_of(day))]


def open_backlog(tickets: pd.DataFrame, day: date) -> dict:
    """Tickets open at ``day``: count, accounts, median age and the share
    older than 30 days (ages in whole days), by priority."""
    still = open_tickets(tickets, day)
    age = (pd.Timestamp(day).normalize() - _naive(still["opened_at"]).dt.normalize()).dt.days
    n = int(len(still))
    priority = (still["priority"].fillna(NOT_GIVEN).value_counts() if "priority" in still.columns
                else pd.Series(dtype=int))
    return {
        "open_tickets": n, "accounts": int(still["account_id"].nunique()),
        "median_age_days": float(age.median()) if n else None,
        "older_than_30_days": int((age > 30).sum()),
        "share_older_than_30_days": float((age > 30).mean()) if n else None,
        "by_priority": {str(k): int(v) for k, v in priority.items()},
    }


def escalations(tickets: pd.DataFrame, arr: pd.Series, period: Period) -> dict | None:
    """Escalated tickets opened in the window: count, share of the tickets
    whose flag is given, distinct accounts and their ARR (``arr``:
    :func:`voice_arr`); None when no ticket carries the flag."""
    if "escalated" not in tickets.columns or tickets["escalated"].isna().all():
        return None

    def level(start, end):
        opened = within(tickets, "opened_at", start, end)
        flagged = opened[opened["escalated"].notna()]
        hit = flagged[flagged["escalated"].astype(bool)]
        ids = hit["account_id"].unique()
        return {"escalated": int(len(hit)), "tickets_flagged": int(len(flagged)),
                "share_of_tickets": len(hit) / len(flagged) if len(flagged) else None,
                "accounts": int(len(ids)), "arr": float(arr.reindex(ids).fillna(0.0).sum())}

    now = level(period.window_start, period.as_of)
    before = level(*previous_window(period))
    return {**now, "previous_share_of_tickets": before["share_of_tickets"],
            "change_share_of_tickets": _change(now["share_of_tickets"], before["share_of_tickets"])}


# --------------------------------------------------------------------------
# ARR and themes


def voice_arr(accounts: pd.DataFrame, renewals: pd.DataFrame | None, as_of: date) -> pd.Series:
    """The ARR behind each account's voice, as of ``as_of`` (account_id -> amount).

    An active account weighs its ARR at the as-of date
    (:func:`vga.analysis.retention.arr_at`). An account at 0 then that churned on or
    before the as-of date weighs the ARR it had just before it left: the
    ``arr_before`` of its latest ``renewals`` row with ``arr_after`` = 0 on or
    before the as-of date (what its voice cost). Without renewals an account
    weighs ``accounts.arr``, which is 0 for one that left.
    """
    arr = arr_at(accounts, renewals, as_of)
    if renewals is None or not len(renewals):
        return arr
    r = renewals.copy()
    r["_order"] = r["source_row"] if "source_row" in r.columns else np.arange(len(r))
    r = r[(r["arr_after"] == 0) & (r["arr_before"] > 0) & (pd.to_datetime(r["renewal_date"]) < _end_of(as_of))]
    lost = r.sort_values(["account_id", "renewal_date", "_order"], kind="stable").groupby("account_id").tail(1)
    lost = lost.set_index("account_id")["arr_before"].astype(float)
    gone = arr.index[(arr == 0) & arr.index.isin(lost.index)]
    arr.loc[gone] = lost.reindex(gone).to_numpy()
    return arr


def source_group(source: pd.Series) -> pd.Series:
    """``churn`` for churn interviews, ``other`` for every other kind of evidence."""
    return pd.Series(np.where(source.isin(CHURN_SOURCES), "churn", "other"), index=source.index)


def themes_table(interviews: pd.DataFrame, arr: pd.Series, period: Period) -> pd.DataFrame:
    """Themes of interviews held in the window, weighted by ARR
    (:func:`vga.analysis.themes.themes_by_arr`), one block per source group
    (:data:`THEMES_COLUMNS`; ``arr_share`` is of the ARR of the accounts
    heard in that group)."""
    held = within(interviews, "held_at", period.window_start, period.as_of).reset_index(drop=True)
    groups = source_group(held["source"])
    parts = []
    for group in SOURCE_GROUPS:
        rows = held[groups == group]
        table = themes_by_arr(rows, arr)
        if len(table):
            parts.append(table.assign(source_group=group))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object if c in ("source_group", "theme") else float)
                             for c in THEMES_COLUMNS}).astype({"accounts": np.int64, "mentions": np.int64})
    out = pd.concat(parts, ignore_index=True)[THEMES_COLUMNS]
    return out.astype({"accounts": np.int64, "mentions": np.int64, "arr": float, "arr_share": float})


def interview_counts(interviews: pd.DataFrame, period: Period) -> dict:
    """Interviews held in the window and the accounts heard, per source group."""
    held = within(interviews, "held_at", period.window_start, period.as_of)
    groups = source_group(held["source"])
    return {g: {"interviews": int((groups == g).sum()), "accounts": int(held.loc[groups == g, "account_id"].nunique()),
                "with_themes": int(held.loc[groups == g, "themes"].fillna("").str.strip().ne("").sum())
                if "themes" in held.columns else 0}
            for g in SOURCE_GROUPS}
