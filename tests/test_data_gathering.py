"""Step 2: which accounts, and how much ARR, each source covers."""

from __future__ import annotations

from datetime import date

import pandas as pd

from vga.inputs import Inputs
from vga.nodes.data_gathering import account_coverage


def test_coverage_counts_active_accounts_with_a_row_by_the_as_of_date():
    accounts = pd.DataFrame({"account_id": ["a", "b", "c", "d"], "arr": [100.0, 300.0, 600.0, 0.0]})
    tickets = pd.DataFrame({"ticket_id": ["1", "2", "3", "4"], "account_id": ["a", "a", "c", "d"],
                            "opened_at": pd.to_datetime(["2026-01-01", "2026-02-01", "2026-10-15", "2026-01-01"])})
    table = account_coverage(Inputs.from_frames(accounts=accounts, support_tickets=tickets), date(2026, 9, 30))
    row = table.set_index("table").loc["support_tickets"]
    # a counts; c's only ticket is after the as-of date; d pays nothing (not active)
    assert row["accounts_with_data"] == 1 and row["account_share"] == 1 / 3
    assert row["arr_with_data"] == 100.0 and row["arr_share"] == 100.0 / 1000.0


def test_coverage_of_the_sample_matches_a_plain_count(sample_inputs):
    as_of = date(2026, 9, 30)
    table = account_coverage(sample_inputs, as_of).set_index("table")
    from vga.analysis.retention import arr_at

    arr = arr_at(sample_inputs.table("accounts"), sample_inputs.table("renewals"), as_of)
    active = set(arr[arr > 0].index)
    surveys = sample_inputs.table("surveys")
    seen = set(surveys.loc[surveys["responded_at"] < pd.Timestamp("2026-10-01"), "account_id"]) & active
    assert table.loc["surveys", "accounts_with_data"] == len(seen)
    assert table.loc["usage_events", "account_share"] > 0.95  # the sample's events reach nearly every account


def test_a_source_ending_within_the_tolerance_is_said_in_the_coverage_section():
    from vga.present.data_gathering import coverage

    note_text = ("usage_events ends on 2026-09-26, 4 days before the as-of date: within the 7-day tolerance, so "
                 "it counts as reaching it.")
    view = {"data_gathering.json": {"warnings": [], "coverage": {"data_end": "2026-10-31", "data_end_from": "the data",
                                                                 "as_of": "2026-09-30", "notes": [note_text]}}}
    assert note_text in str(coverage(view)) and "vga-warn" not in str(coverage(view))
