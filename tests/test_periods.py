from datetime import date

import pytest

from vga.errors import UsageError
from vga.periods import parse_period


@pytest.mark.parametrize(
    "text, label, as_of, window_start, prev_label, prev_as_of",
    [
        ("2026Q3", "2026Q3", date(2026, 9, 30), date(2025, 9, 30), "2026Q2", date(2026, 6, 30)),
        ("2026q1", "2026Q1", date(2026, 3, 31), date(2025, 3, 31), "2025Q4", date(2025, 12, 31)),
        ("2026", "2026", date(2026, 12, 31), date(2025, 12, 31), "2025", date(2025, 12, 31)),
        ("2024-02-29", "2024-02-29", date(2024, 2, 29), date(2023, 2, 28), "2023-11-29", date(2023, 11, 29)),
        ("2026-05-31", "2026-05-31", date(2026, 5, 31), date(2025, 5, 31), "2026-02-28", date(2026, 2, 28)),
    ],
)
def test_periods(text, label, as_of, window_start, prev_label, prev_as_of):
    p = parse_period(text)
    assert (p.label, p.as_of, p.window_start, p.previous_label, p.previous_as_of) == (
        label, as_of, window_start, prev_label, prev_as_of,
    )


@pytest.mark.parametrize("bad", ["2026Q5", "Q3-2026", "2026-13-01", "2026-02-30", "", "26Q3"])
def test_malformed_period_is_a_usage_error(bad):
    with pytest.raises(UsageError, match="period"):
        parse_period(bad)
