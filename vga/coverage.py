"""What dates the data covers, and which figures it therefore supports.

Each dated table says how far it runs by the latest date of its ``occurred``
column (:mod:`vga.contract`): ``renewal_date`` for renewals, ``timestamp``
for events, and so on. The data's end is the latest of those dates among
the activity logs (events, workflow runs, tickets, surveys, health scores,
touchpoints, renewals: tables recorded as things happen; onboarding plans,
training, interviews, interventions and fixes may hold planned dates), or the
``[analysis] data_end`` a user sets when an export is known to run further
than its last row. A figure "as of d" for a d past the data's end would
count the months without data as months where nothing happened (no churn,
no usage), so such figures are null with the reason, never numbers.

A source whose latest date is more than :data:`FRESHNESS_DAYS` before the
as-of date is flagged as stale: its figures still count, with a warning.
Accounts and users carry no dates: a folder of only those has unknown
coverage, which is stated and not checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from .contract import TABLES

FRESHNESS_DAYS = 10


@dataclass(frozen=True)
class Coverage:
    """The data's end and what it means for one as-of date."""

    data_end: date | None  # None: no dated table, coverage unknown
    data_end_from: str  # "the data" (latest date found) or "configuration"
    as_of: date
    stale: tuple[tuple[str, date], ...]  # (table, latest date) of sources ending early

    @property
    def covers_as_of(self) -> bool:
        """False only when the data is known to end before the as-of date."""
        return self.data_end is None or self.as_of <= self.data_end

    @property
    def reason(self) -> str | None:
        """Why figures as of the as-of date are null, or None when they are not."""
        if self.covers_as_of:
            return None
        return (f"the data ends on {self.data_end.isoformat()}, before the as-of date {self.as_of.isoformat()}; "
                "figures as of that date would count the missing months as months without churn or usage. "
                f"Run a period ending on or before {self.data_end.isoformat()} (for example --period "
                f"{self.data_end.isoformat()}), or add the missing data")

    def warnings(self) -> list[str]:
        """Sentences for the CLI and the report's first screen."""
        out = []
        if self.reason:
            out.append(f"Figures as of {self.as_of.isoformat()} are not reported: {self.reason}.")
        for table, last in self.stale:
            if self.covers_as_of:
                out.append(f"{table} ends on {last.isoformat()}, {(self.as_of - last).days} days before the as-of "
                           f"date: figures from it may miss recent changes.")
        if self.data_end is None:
            out.append("No activity log with dates (events, tickets, scores, renewals...) was given, so how far the "
                       "data runs is unknown and was not checked.")
        return out

    def as_dict(self) -> dict:
        return {
            "data_end": None if self.data_end is None else self.data_end.isoformat(),
            "data_end_from": self.data_end_from,
            "as_of": self.as_of.isoformat(),
            "covers_as_of": self.covers_as_of,
            "reason": self.reason,
            "stale_sources": [{"table": t, "last_date": d.isoformat()} for t, d in self.stale],
        }


def _day(value) -> date | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)) or value == "":
        return None
    return pd.Timestamp(value).date()


def assess(sources: pd.DataFrame, as_of: date, configured_end: str = "") -> Coverage:
    """Coverage for ``as_of`` from the per-table dates of ``sources``
    (:meth:`vga.inputs.Inputs.sources`) and the configured data end."""
    lasts = {r["table"]: _day(r["last_date"]) for _, r in sources.iterrows()} if len(sources) else {}
    lasts = {t: d for t, d in lasts.items() if d is not None and TABLES[t].logs_activity}
    if configured_end:
        end, origin = date.fromisoformat(str(configured_end)), "configuration"
    elif lasts:
        end, origin = max(lasts.values()), "the data"
    else:
        end, origin = None, "unknown"
    stale = tuple(sorted((t, d) for t, d in lasts.items() if (as_of - d).days > FRESHNESS_DAYS))
    return Coverage(end, origin, as_of, stale)


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
