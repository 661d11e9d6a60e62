"""The rules that let any company's data run and read true, one by one:
coverage with a tolerance, snapshots, counts that are no data rather than 0,
one population per word, configuration values checked against the data,
plausibility warnings, and numerical edge cases kept off the console."""

from __future__ import annotations

import warnings
from datetime import date

import numpy as np
import pandas as pd
import pytest

from vga.analysis.coverage import assess
from vga.errors import UsageError

from .helpers import write_csv


def _sources(**tables) -> pd.DataFrame:
    return pd.DataFrame([{"table": t, "rows_accepted": 10, "first_date": first, "last_date": last}
                         for t, (first, last) in tables.items()])


def test_a_source_ending_within_the_tolerance_reaches_the_date():
    as_of = date(2026, 6, 30)  # events end the day before the quarter end, a Sunday export
    c = assess(_sources(usage_events=("2025-01-01", "2026-06-29"), renewals=("2024-01-01", "2026-05-02")), as_of)
    assert c.covers_as_of and c.reaches("usage_events", as_of) and c.stale == (("renewals", date(2026, 5, 2)),)
    assert c.notes() == ["usage_events ends on 2026-06-29, 1 day before the as-of date: within the 7-day "
                         "tolerance, so it counts as reaching it."]
    # Past the tolerance: stale, not reaching, and said; a configured tolerance moves the line.
    late = assess(_sources(usage_events=("2025-01-01", "2026-06-20"), renewals=("2024-01-01", "2026-06-30")), as_of)
    assert not late.reaches("usage_events", as_of) and late.reaches("usage_events", date(2026, 6, 27))
    assert any(w.startswith("usage_events ends on 2026-06-20, 10 days before") for w in late.warnings())
    assert assess(late_sources := _sources(usage_events=("2025-01-01", "2026-06-20")), as_of,
                  {"coverage_tolerance_days": 10}).reaches("usage_events", as_of)
    assert not assess(late_sources, as_of, {"coverage_tolerance_days": 10}).reaches("usage_events", date(2024, 12, 31))
    # The whole period: a day's gap at the data's end is no gap; a month is.
    assert assess(_sources(renewals=("2024-01-01", "2026-06-26")), as_of).covers_as_of
    assert not assess(_sources(renewals=("2024-01-01", "2026-05-31")), as_of).covers_as_of
    assert not c.snapshot and assess(_sources(renewals=("2026-06-30", "2026-06-30")), as_of).snapshot


def test_a_table_of_no_rows_reaches_no_day():
    sources = pd.DataFrame([{"table": "support_tickets", "rows_accepted": 0, "first_date": None, "last_date": None}])
    assert not assess(sources, date(2026, 6, 30)).reaches("support_tickets", date(2026, 6, 1))


def test_tickets_before_the_export_began_are_no_data_not_zero():
    from vga.inputs import Inputs
    from vga.analysis.scores import health_composite_pairs, ticket_counts

    accounts = pd.DataFrame({"account_id": ["a", "b"], "arr": [10.0, 10.0]})
    tickets = pd.DataFrame({"ticket_id": ["t1"], "account_id": ["a"], "opened_at": pd.to_datetime(["2026-03-10"])})
    inputs = Inputs.from_frames(accounts=accounts, support_tickets=tickets)
    inputs.sources.loc[inputs.sources["table"] == "support_tickets", ["first_date", "last_date"]] = [
        pd.Timestamp("2026-01-01"), pd.Timestamp("2026-06-30")]
    pairs = pd.DataFrame({"account_id": ["a", "b", "b"], "day": pd.to_datetime(["2026-04-01", "2026-04-01", "2025-11-01"])})
    counts = ticket_counts(inputs, pairs, {"analysis": {}})
    assert counts.iloc[0] == 1 and counts.iloc[1] == 0 and np.isnan(counts.iloc[2])
    from vga.config import load_config

    composite = health_composite_pairs(None, tickets, None, pairs.assign(pair=range(3)), load_config(),
                                       tickets_known=[True, True, False])
    assert list(composite["health_support"].iloc[:2]) == [90.0, 100.0] and np.isnan(composite["health_score"].iloc[2])


def test_survival_follows_only_accounts_that_paid():
    from vga.analysis.survival import left_out_reasons, survival_subjects

    accounts = pd.DataFrame({"account_id": ["paid", "never", "late", "trial"], "arr": [0.0, 0.0, 10.0, 0.0],
                             "contract_start": pd.to_datetime(["2024-01-01", "2024-01-01", "2027-01-01", "2024-01-01"])})
    # "trial" goes from no ARR to no ARR: not a churn. "paid" left after paying.
    renewals = pd.DataFrame({"account_id": ["paid", "trial"], "renewal_date": pd.to_datetime(["2025-01-01", "2025-01-01"]),
                             "arr_before": [10.0, 0.0], "arr_after": [0.0, 0.0]})
    subjects, left_out = survival_subjects(accounts, renewals, date(2026, 6, 30))
    assert list(subjects["account_id"]) == ["paid"] and bool(subjects["churned"].iloc[0])
    assert left_out == ["late", "never", "trial"]
    assert left_out_reasons(accounts, renewals, date(2026, 6, 30)).tolist() == [
        "", "never paid", "contract_start after the as-of date", "never paid"]


def test_the_cohort_says_whom_it_leaves_out_and_the_populations_line_up():
    from vga.analysis.populations import churn_populations
    from vga.analysis.retention import cohort_exclusions, retention_summary

    accounts = pd.DataFrame({"account_id": list("abcdef"), "arr": [10.0, 0, 0, 0, 10, 0],
                             "contract_start": pd.to_datetime(["2020-01-01", "2020-01-01", "2020-01-01", None,
                                                               "2026-01-01", None])})
    renewals = pd.DataFrame({"account_id": ["b", "c", "c", "d"],
                             "renewal_date": pd.to_datetime(["2026-03-01", "2024-06-01", "2026-02-01", "2025-12-01"]),
                             "arr_before": [10.0, 10.0, 0.0, 0.0], "arr_after": [0.0, 0.0, 20.0, 5.0]})
    as_of, start = date(2026, 6, 30), date(2025, 6, 30)
    # a and b were paying at the start (b left since); c had left before and came back; d started
    # paying in the window without a contract_start; e started in the window; f never paid.
    assert cohort_exclusions(accounts, renewals, as_of, start) == {
        "started after the window start": 1, "no ARR at the window start, paying only later": 1,
        "had already left before the window start": 1, "never paid": 1}
    retention = retention_summary(accounts, renewals, as_of, start) | {"cohort_churned": 1,
                                                                        "cohort_excluded": {"never paid": 1}}
    table = churn_populations(retention, start.isoformat(), as_of.isoformat(), {"reason": "none"},
                              {"reason": None, "subjects": 3, "events": 2, "as_of": as_of.isoformat(),
                               "left_out_by_reason": {"never paid": 1}})
    assert list(table["population"]) == ["retention cohort", "survival subjects"]
    assert table.iloc[0][["counted", "churned"]].tolist() == [2, 1] and table.iloc[0]["left_out"] == "1 never paid"


def test_configured_names_are_checked_against_the_data(tmp_path):
    from vga.config import load_config
    from vga.load import load_folder

    write_csv(tmp_path, "accounts", ["account_id", "arr", "age_group"], [["a", "10", "young"], ["b", "5", "old"]])
    (tmp_path / "vga.toml").write_text('[analysis]\nslicing_dimensions = ["age_grp"]\n')
    with pytest.raises(UsageError, match=r"slicing_dimensions names 'age_grp', which is not a column of accounts "
                                         r"\(did you mean 'age_group'\?\)"):
        load_folder(tmp_path, load_config(tmp_path / "vga.toml"))
    (tmp_path / "vga.toml").write_text('[analysis]\nslicing_dimensions = ["age_group"]\n'
                                       '[usage]\ncore_features = ["dashbords"]\n')
    (tmp_path / "usage_events").mkdir()
    pd.DataFrame({"timestamp": ["2026-01-01T10:00:00"], "feature": ["dashboards"], "user_id": ["u"],
                  "account_id": ["a"]}).to_parquet(tmp_path / "usage_events" / "e.parquet")
    with pytest.raises(UsageError, match=r"core_features names 'dashbords'.*did you mean 'dashboards'"):
        load_folder(tmp_path, load_config(tmp_path / "vga.toml"))
    (tmp_path / "vga.toml").write_text('[analysis]\nslicing_dimensions = ["age_group"]\n'
                                       '[usage]\ncore_features = ["dashboards"]\n')
    assert "age_group" in load_folder(tmp_path, load_config(tmp_path / "vga.toml")).tables["accounts"].accepted


def test_plausibility_warnings_name_what_to_check():
    from vga.analysis.plausibility import plausibility_warnings

    accounts = pd.DataFrame({"account_id": list("abcdefghijkl"), "tier": ["gold"] * 12, "segment": ["x", "y"] * 6})
    quadrants = pd.DataFrame({"quadrant": ["Champions"] * 4 + ["Unscored"] * 8})
    out = plausibility_warnings({"nrr": 4.793}, quadrants, accounts, ["segment", "tier"], min_accounts=3)
    assert out[0].startswith("Net revenue retention is 479.3%, above 200%")
    assert out[1].startswith("8 of 12 active accounts (67%) are Unscored")
    assert out[2].startswith("All 4 scored active accounts are Champions")
    assert out[3].startswith("The slicing dimension tier has one value ('gold')") and len(out) == 4
    healthy = pd.DataFrame({"quadrant": ["Champions", "Churn Risk"] * 6})
    assert plausibility_warnings({"nrr": 1.05}, healthy, accounts, ["segment"], min_accounts=3) == []
    assert plausibility_warnings({}, None, accounts.iloc[:0], [], 3)[0].startswith("No account was accepted")


def test_a_logistic_on_separated_data_is_no_model_and_warns_nobody():
    from vga.analysis.models import fit_logit

    x = np.r_[np.linspace(-40, -1, 30), np.linspace(1, 40, 30)]
    data = pd.DataFrame({"x": x, "y": (x > 0).astype(float)})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow in exp would raise here
        result, _, reason = fit_logit(data, "y", ["x"])
    assert result is None and "separat" in reason


def test_library_warnings_stay_off_the_console_unless_debug(monkeypatch, capsys):
    from vga import cli

    def noisy(args):
        warnings.warn("overflow encountered in exp", RuntimeWarning)
        return 0

    monkeypatch.setattr(cli, "cmd_validate", noisy)
    assert cli.main(["validate", "--data", "."]) == 0
    assert "overflow" not in capsys.readouterr().err
    assert cli.main(["--debug", "validate", "--data", "."]) == 0
    assert "overflow encountered in exp" in capsys.readouterr().err
