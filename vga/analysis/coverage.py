"""What dates the data covers, and which figures it therefore supports.

Each dated table says how far it runs by the first and latest dates of its
``occurred`` column (:mod:`vga.contract`): ``renewal_date`` for renewals,
``timestamp`` for events, and so on. The data's end is the latest of those
dates among the activity logs (events, workflow runs, tickets, surveys,
health scores, touchpoints, renewals: tables recorded as things happen;
onboarding plans, training, interviews, interventions and fixes may hold
planned dates), or the ``[analysis] data_end`` a user sets when an export is
known to run further than its last row.

**Tolerance.** Real exports end a day or a weekend early: a B2B product logs
nothing on a Sunday quarter end. A source *reaches* a day d when its first
date is on or before d and its latest date is no more than the tolerance
(``[analysis] coverage_tolerance_days``, default :data:`TOLERANCE_DAYS`)
before d. A figure as of d is computed from the sources that reach d; a
source that does not is *stale* at d: its figures as of d are missing (a
score is empty, not 0), and the console and the report's first screen say
so. Figures as of the as-of date at all (NRR, churn, quadrants...) need the
data's end to reach it: a d past the data's end by more than the tolerance
would count the months without data as months where nothing happened (no
churn, no usage), so such figures are null with the reason, never numbers.

**Snapshots.** An export whose activity logs all fall on one date (a CRM
snapshot: one row per customer, every renewal decision on the snapshot's
date, scores only in ``accounts``), or that has no dated table at all,
holds no history: figures as of its date are computed, but the analyses
that look back from a decision (its signals 30 to 90 days before, early
warnings, the renewal model) have nothing to look at. That is said once, at
the top of the report, and each such analysis names what it needs.

Accounts and users carry no dates: a folder of only those has unknown
coverage, which is stated and not checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from ..contract import TABLES

#: Days a source may end before a date and still count as reaching it (default).
TOLERANCE_DAYS = 7


@dataclass(frozen=True)
class Coverage:
    """The data's dates and what they mean for one as-of date."""

    data_end: date | None  # None: no dated table, coverage unknown
    data_end_from: str  # "the data" (latest date found) or "configuration"
    as_of: date
    stale: tuple[tuple[str, date], ...]  # (activity log, latest date) of sources ending past the tolerance
    tolerance_days: int = TOLERANCE_DAYS
    #: every dated table given: (table, first date, latest date)
    dates: tuple[tuple[str, date | None, date | None], ...] = ()
    #: the activity logs hold at most one date: no history to look back on
    snapshot: bool = False
    snapshot_date: date | None = None

    @property
    def covers_as_of(self) -> bool:
        """False only when the data is known to end before the as-of date by
        more than the tolerance."""
        return self.data_end is None or self.as_of <= self.data_end + timedelta(days=self.tolerance_days)

    @property
    def reason(self) -> str | None:
        """Why figures as of the as-of date are null, or None when they are not."""
        if self.covers_as_of:
            return None
        return (f"the data ends on {self.data_end.isoformat()}, {(self.as_of - self.data_end).days} days before the "
                f"as-of date {self.as_of.isoformat()} (more than the {self.tolerance_days}-day tolerance); figures as "
                "of that date would count the missing days as days without churn or usage. "
                f"Run a period ending on or before {self.data_end.isoformat()} (for example --period "
                f"{self.data_end.isoformat()}), or add the missing data")

    def reach(self, table: str) -> tuple[date | None, date | None] | None:
        """The days ``table`` holds data for: (its first date, its latest
        date plus the tolerance), either None where unknown; None when the
        table is not dated or not given."""
        for name, first, last in self.dates:
            if name == table:
                return first, None if last is None else last + timedelta(days=self.tolerance_days)
        return None

    def reaches(self, table: str, day: date) -> bool:
        """Whether ``table`` holds data for ``day``: given, begun on or
        before it, and ending no more than the tolerance before it. A table
        given without dates (unknown coverage) reaches every day."""
        return bool(self.reaches_days(table, pd.Series([pd.Timestamp(day)])).iloc[0])

    def reaches_days(self, table: str, days: pd.Series) -> pd.Series:
        """:meth:`reaches` for each of ``days`` (dates or timestamps), aligned with them."""
        span = self.reach(table)
        if span is None:
            return pd.Series(False, index=days.index)
        first, last = span
        days = pd.to_datetime(days).dt.normalize()
        ok = pd.Series(True, index=days.index)
        if first is not None:
            ok &= days >= pd.Timestamp(first)
        if last is not None:
            ok &= days <= pd.Timestamp(last)
        return ok

    def gap_days(self, table: str) -> int | None:
        """Days from ``table``'s latest date to the as-of date (0 or less:
        it reaches the as-of date itself); None when unknown."""
        for name, _, last in self.dates:
            if name == table and last is not None:
                return (self.as_of - last).days
        return None

    def warnings(self) -> list[str]:
        """Sentences for the console and the report's first screen."""
        out = []
        if self.reason:
            out.append(f"Figures as of {self.as_of.isoformat()} are not reported: {self.reason}.")
        if self.snapshot and self.covers_as_of:
            when = (f"every dated row is on {self.snapshot_date.isoformat()}" if self.snapshot_date
                    else "no table carries dates, so how far the data runs is unknown and was not checked")
            out.append(f"The data is a snapshot ({when}): figures as of {self.as_of.isoformat()} are reported, "
                       "but nothing can be said about how accounts looked before their renewal decisions, or how "
                       "figures changed since an earlier date. That needs dated history: renewals on their own "
                       "dates, and health scores, product events or tickets over time.")
        for table, last in self.stale:
            if self.covers_as_of:
                out.append(f"{table} ends on {last.isoformat()}, {(self.as_of - last).days} days before the as-of "
                           f"date (more than the {self.tolerance_days}-day tolerance): figures from it as of "
                           f"{self.as_of.isoformat()} are not computed (scores from it are missing, not 0).")
        if self.data_end is None and not self.snapshot:
            out.append("No activity log with dates (events, tickets, scores, renewals...) was given, so how far the "
                       "data runs is unknown and was not checked.")
        return out

    def notes(self) -> list[str]:
        """Sources that end before the as-of date within the tolerance: computed, and said."""
        out = []
        for table, _, last in self.dates:
            if last is None or not TABLES[table].logs_activity:
                continue
            gap = (self.as_of - last).days
            if 0 < gap <= self.tolerance_days:
                out.append(f"{table} ends on {last.isoformat()}, {gap} day{'s' if gap != 1 else ''} before the as-of "
                           f"date: within the {self.tolerance_days}-day tolerance, so it counts as reaching it.")
        return out

    def as_dict(self) -> dict:
        return {
            "data_end": None if self.data_end is None else self.data_end.isoformat(),
            "data_end_from": self.data_end_from,
            "as_of": self.as_of.isoformat(),
            "covers_as_of": self.covers_as_of,
            "reason": self.reason,
            "tolerance_days": self.tolerance_days,
            "stale_sources": [{"table": t, "last_date": d.isoformat()} for t, d in self.stale],
            "snapshot": self.snapshot,
            "snapshot_date": None if self.snapshot_date is None else self.snapshot_date.isoformat(),
            "notes": self.notes(),
        }


def _day(value) -> date | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)) or value == "":
        return None
    return pd.Timestamp(value).date()


def assess(sources: pd.DataFrame, as_of: date, analysis: dict | None = None) -> Coverage:
    """Coverage for ``as_of`` from the per-table dates of ``sources``
    (:meth:`vga.inputs.Inputs.sources`) and the ``[analysis]`` section
    (``data_end``, ``coverage_tolerance_days``)."""
    analysis = analysis or {}
    configured_end = analysis.get("data_end", "")
    tolerance = int(analysis.get("coverage_tolerance_days", TOLERANCE_DAYS))
    # A dated table with no accepted rows holds no data for any day.
    rows = [] if not len(sources) else [
        (r["table"], _day(r.get("first_date")), _day(r.get("last_date"))) for _, r in sources.iterrows()
        if r["table"] in TABLES and TABLES[r["table"]].occurred and int(r.get("rows_accepted", 1) or 0) > 0]
    dates = tuple(rows)
    lasts = {t: last for t, _, last in rows if last is not None and TABLES[t].logs_activity}
    firsts = {t: first for t, first, _ in rows if first is not None and TABLES[t].logs_activity}
    if configured_end:
        end, origin = date.fromisoformat(str(configured_end)), "configuration"
    elif lasts:
        end, origin = max(lasts.values()), "the data"
    else:
        end, origin = None, "unknown"
    stale = tuple(sorted((t, d) for t, d in lasts.items() if (as_of - d).days > tolerance))
    days = set(lasts.values()) | set(firsts.values())
    snapshot = len(days) <= 1
    return Coverage(end, origin, as_of, stale, tolerance, dates, snapshot, next(iter(days)) if len(days) == 1 else None)


def table_dates(sources: pd.DataFrame, table: str) -> tuple[date | None, date | None]:
    """(first, last) date of ``table`` in ``sources``; (None, None) when unknown."""
    if not len(sources) or table not in set(sources["table"]):
        return None, None
    row = sources[sources["table"] == table].iloc[0]
    return _day(row.get("first_date")), _day(row.get("last_date"))


def covered_months(months: pd.Series, first: date | None, last: date | None, as_of: date) -> pd.Series:
    """True for calendar months (their first day) wholly inside
    ``[first, min(last, as_of)]``: a partly covered month would read as a dip."""
    months = pd.to_datetime(months)
    ends = months + pd.offsets.MonthEnd(0)
    ok = ends <= pd.Timestamp(as_of)
    if last is not None:
        ok &= ends <= pd.Timestamp(last)
    if first is not None:
        ok &= months >= pd.Timestamp(first)
    return ok
