"""Run periods: parse ``2026Q3`` / ``2026`` / ``2026-09-30`` into dates.

Definitions (metric definitions, "Period and windows"):

- ``2026Q3`` (or ``2026q3``): as-of 2026-09-30; previous period 2026Q2.
- ``2026``: the annual VGA, as-of 2026-12-31; previous period 2025.
- ``2026-09-30``: an explicit as-of date; the previous period is three
  calendar months earlier, clipped to the month's last day.
- Retention window: ``(as_of - 1 year, as_of]``; ``window_start`` is
  as_of minus one calendar year, 29 February going to 28 February.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from dateutil.relativedelta import relativedelta

from .errors import UsageError

_QUARTER_END = {1: (3, 31), 2: (6, 30), 3: (9, 30), 4: (12, 31)}


@dataclass(frozen=True)
class Period:
    """One run period and the dates derived from it.

    ``label`` is the canonical name used for the run folder (``2026Q3``,
    ``2026`` or ``2026-09-30``).
    """

    label: str
    kind: str  # "quarter", "year" or "date"
    as_of: date
    window_start: date
    previous_label: str
    previous_as_of: date

    def as_dict(self) -> dict:
        return {
            "period": self.label,
            "kind": self.kind,
            "as_of": self.as_of.isoformat(),
            "window_start": self.window_start.isoformat(),
            "previous_period": self.previous_label,
            "previous_as_of": self.previous_as_of.isoformat(),
        }


def one_year_before(day: date) -> date:
    """The same calendar day a year earlier (29 February -> 28 February)."""
    return day - relativedelta(years=1)


def parse_period(text: str) -> Period:
    """Parse a period name; raise :class:`UsageError` when malformed."""
    raw = str(text).strip()
    m = re.fullmatch(r"(\d{4})[qQ]([1-4])", raw)
    if m:
        year, quarter = int(m.group(1)), int(m.group(2))
        as_of = date(year, *_QUARTER_END[quarter])
        prev_year, prev_q = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
        return Period(
            label=f"{year}Q{quarter}",
            kind="quarter",
            as_of=as_of,
            window_start=one_year_before(as_of),
            previous_label=f"{prev_year}Q{prev_q}",
            previous_as_of=date(prev_year, *_QUARTER_END[prev_q]),
        )
    m = re.fullmatch(r"(\d{4})", raw)
    if m:
        year = int(m.group(1))
        as_of = date(year, 12, 31)
        return Period(
            label=str(year),
            kind="year",
            as_of=as_of,
            window_start=one_year_before(as_of),
            previous_label=str(year - 1),
            previous_as_of=date(year - 1, 12, 31),
        )
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", raw)
    if m:
        try:
            as_of = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError as exc:
            raise UsageError(f"period '{raw}' is not a real date ({exc}); use e.g. 2026-09-30") from None
        previous = as_of - relativedelta(months=3)
        return Period(
            label=as_of.isoformat(),
            kind="date",
            as_of=as_of,
            window_start=one_year_before(as_of),
            previous_label=previous.isoformat(),
            previous_as_of=previous,
        )
    raise UsageError(
        f"period '{raw}' is not understood; use a quarter (2026Q3), a year (2026) "
        "or an as-of date (2026-09-30)"
    )
