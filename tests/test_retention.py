"""Retention metrics against hand-worked cases and properties."""

from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vga.analysis.retention import arr_at, cohort_table, derived_outcome, retention_summary

AS_OF, START = date(2026, 9, 30), date(2025, 9, 30)


def accounts(rows):
    df = pd.DataFrame(rows, columns=["account_id", "arr", "contract_start"])
    df["contract_start"] = pd.to_datetime(df["contract_start"])
    return df


def renewals(rows):
    df = pd.DataFrame(rows, columns=["account_id", "renewal_date", "arr_before", "arr_after"])
    df["renewal_date"] = pd.to_datetime(df["renewal_date"])
    df["source_row"] = np.arange(1, len(df) + 1)
    return df


def test_arr_at_follows_each_rule():
    acc = accounts([
        ("a", 999, None),          # rows before and after d: latest on or before d wins
        ("b", 999, None),          # only a later row: its arr_before
        ("c", 500, None),          # no rows: accounts.arr
        ("d", 800, "2026-01-01"),  # contract starts after d: 0
        ("e", 999, None),          # same-date rows apply in source-row order
    ])
    ren = renewals([
        ("a", "2025-06-30", 100, 120),
        ("a", "2025-09-30", 120, 150),  # on d itself: counts ("on or before")
        ("a", "2026-03-01", 150, 0),
        ("b", "2026-02-01", 70, 90),
        ("e", "2025-09-01", 10, 20),
        ("e", "2025-09-01", 20, 35),
    ])
    got = arr_at(acc, ren, START)
    assert got.to_dict() == {"a": 150.0, "b": 70.0, "c": 500.0, "d": 0.0, "e": 35.0}


def test_retention_summary_hand_computed():
    # cohort: a (100 -> 0 churned), b (200 -> 150 contracted), c (100 -> 130 expanded),
    # d (50 -> 50 flat). e started inside the window: not in the cohort.
    acc = accounts([
        ("a", 0, "2020-01-01"), ("b", 150, None), ("c", 130, "2025-09-30"),
        ("d", 50, None), ("e", 70, "2026-01-15"),
    ])
    ren = renewals([
        ("a", "2026-03-01", 100, 0),
        ("b", "2026-05-01", 200, 150),
        ("c", "2026-01-01", 100, 130),
    ])
    s = retention_summary(acc, ren, AS_OF, START)
    assert s["cohort_accounts"] == 4
    denominator = 100 + 200 + 100 + 50
    assert s["nrr"] == pytest.approx((0 + 150 + 130 + 50) / denominator, rel=1e-15)
    assert s["grr"] == pytest.approx((0 + 150 + 100 + 50) / denominator, rel=1e-15)
    assert s["logo_churn_rate"] == 0.25
    assert (s["arr_churned"], s["arr_contracted"], s["arr_expanded"]) == (100.0, 50.0, 30.0)


def test_churn_then_return_counts_only_the_ends():
    acc = accounts([("a", 100, None)])
    ren = renewals([("a", "2026-01-01", 100, 0), ("a", "2026-06-01", 0, 80)])
    s = retention_summary(acc, ren, AS_OF, START)
    assert s["logo_churn_rate"] == 0 and s["arr_contracted"] == 20 and s["arr_churned"] == 0


def test_nulls_without_renewals_or_cohort():
    acc = accounts([("a", 100, "2026-01-01")])
    no_table = retention_summary(acc, None, AS_OF, START)
    assert no_table["nrr"] is None and "renewals" in no_table["reason"]
    empty = retention_summary(acc, renewals([]), AS_OF, START)
    assert empty["cohort_accounts"] == 0 and empty["grr"] is None and empty["reason"]


def test_derived_outcome():
    ren = renewals([("a", "2026-01-01", 100, 0), ("a", "2026-01-01", 100, 120),
                    ("a", "2026-01-01", 100, 80), ("a", "2026-01-01", 100, 100)])
    assert list(derived_outcome(ren)) == ["churned", "expanded", "downgraded", "renewed"]


money = st.integers(min_value=0, max_value=10**6)


@st.composite
def books(draw):
    n = draw(st.integers(1, 12))
    acc_rows, ren_rows = [], []
    for i in range(n):
        acc_rows.append((f"a{i}", draw(money), None))
        for _ in range(draw(st.integers(0, 4))):
            day = date(2025, 1, 1) + pd.Timedelta(days=draw(st.integers(0, 700)))
            ren_rows.append((f"a{i}", day, draw(money), draw(money)))
    return accounts(acc_rows), renewals(ren_rows)


@settings(max_examples=150, deadline=None)
@given(books())
def test_retention_properties(book):
    acc, ren = book
    s = retention_summary(acc, ren, AS_OF, START)
    cohort = cohort_table(acc, ren, AS_OF, START)
    if s["cohort_accounts"] == 0:
        assert s["nrr"] is None
        return
    assert 0 <= s["grr"] <= 1 + 1e-12
    assert s["grr"] <= s["nrr"] + 1e-12
    churned = int(cohort["churned"].sum())
    retained = int((~cohort["churned"]).sum())
    assert churned + retained == s["cohort_accounts"]
    assert s["logo_churn_rate"] == churned / s["cohort_accounts"]
    start_total = cohort["arr_start"].sum()
    # ARR bridge: start - churned - contracted + expanded = end
    assert start_total - s["arr_churned"] - s["arr_contracted"] + s["arr_expanded"] == pytest.approx(
        cohort["arr_end"].sum(), rel=1e-9, abs=1e-6
    )
    assert s["nrr"] == pytest.approx(cohort["arr_end"].sum() / start_total, rel=1e-12)
