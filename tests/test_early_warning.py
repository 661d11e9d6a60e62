"""Early warnings: the day arithmetic against brute force, each signal on a
hand-built account, the planted usage decline found with its lead time,
and the backtest's counts against the per-decision firings."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from vga.analysis import early_warning as ew
from vga.config import DEFAULTS

SETTINGS = ew.settings_with_defaults(DEFAULTS["early_warning"])


def _decisions(rows):
    return pd.DataFrame(rows, columns=["account_id", "decision_date", "outcome"]).assign(
        decision_date=lambda f: pd.to_datetime(f["decision_date"]))


def test_windows_count_exactly_the_days_they_say():
    rng = np.random.default_rng(3)
    decisions = _decisions([(f"a{i % 5}", pd.Timestamp("2026-01-01") + pd.Timedelta(days=int(d)), "renewed")
                            for i, d in enumerate(rng.integers(0, 300, 12))])
    grid = ew.DayGrid(decisions)
    days = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 700, 4000), unit="D")
    events = pd.DataFrame({"account_id": rng.choice([f"a{i}" for i in range(6)], 4000), "day": days})
    c = grid.counts(events["account_id"], events["day"])
    recent, earlier = grid.window(c, 30), grid.window(c, 90, end_offset=30)
    for i, j in [(0, 0), (3, 17), (7, 179), (11, 90)]:
        t = decisions.loc[i, "decision_date"] - pd.Timedelta(days=int(grid.leads[j]))
        mine = events[events["account_id"] == decisions.loc[i, "account_id"]]
        assert recent[i, j] == ((mine["day"] > t - pd.Timedelta(days=30)) & (mine["day"] <= t)).sum()
        assert earlier[i, j] == ((mine["day"] > t - pd.Timedelta(days=120)) & (mine["day"] <= t - pd.Timedelta(days=30))).sum()


def test_held_for_needs_every_day_of_the_run():
    # columns are leads 1.. (newest day first); True on leads 2..5 only
    condition = np.array([[False, True, True, True, True, False, False]])
    assert ew.held_for(condition, 3).tolist() == [[False, True, True, False, False]]
    assert ew.first_firing(ew.held_for(condition, 3)).tolist() == [3.0]  # lead 3: leads 3, 4, 5 all held
    assert ew.held_for(condition, 5).tolist() == [[False, False, False]]


def test_each_signal_on_one_account():
    decision = pd.Timestamp("2026-06-30")
    decisions = _decisions([("a", decision, "churned"), ("b", decision, "renewed")])
    grid = ew.DayGrid(decisions)
    # a: 2 events a day for a year, then 0 from 60 days before the decision; b: steady
    days = pd.date_range("2025-06-01", decision - pd.Timedelta(days=1))
    daily = pd.concat([pd.DataFrame({"account_id": "a", "day": days, "events": np.where(days < decision - pd.Timedelta(days=60), 2, 0)}),
                       pd.DataFrame({"account_id": "b", "day": days, "events": 2})])
    fired, evaluable = ew.usage_drop(grid, daily, date(2025, 6, 1), date(2026, 6, 29), SETTINGS)
    lead = ew.first_firing(fired)
    # 30-day events fall below half the earlier average once 16 of the 30 days are silent (45 days before),
    # and must stay so for 14 days (45 down to 32): first firing 32 days before the decision
    assert lead[0] == 32 and np.isnan(lead[1]) and evaluable.all()
    # an NPS detractor 100 days before, a promoter 50 days before
    surveys = pd.DataFrame({"account_id": ["a", "b"], "kind": "nps", "score": [3, 9],
                            "responded_at": [decision - pd.Timedelta(days=100), decision - pd.Timedelta(days=50)]})
    fired, _ = ew.nps_detractor(grid, surveys)
    assert ew.first_firing(fired)[0] == 100 and np.isnan(ew.first_firing(fired)[1])
    # three tickets in a week 20 days before, none before
    tickets = pd.DataFrame({"account_id": "a", "opened_at": [decision - pd.Timedelta(days=d) for d in (26, 23, 20)]})
    fired, _ = ew.ticket_spike(grid, tickets, date(2025, 1, 1), date(2026, 6, 29), SETTINGS)
    assert ew.first_firing(fired)[0] == 20
    # health: 80 until 40 days before, then 30 (red, a 50-point drop); b steady at 60
    health = np.full(grid.days.shape + (3,), np.nan)
    when = grid.days[:, :, None] - np.array([0, 30, 90])[None, None, :]
    switch = grid.index_of((decision - pd.Timedelta(days=40)).date())
    health[0] = np.where(when[0] >= switch, 30.0, 80.0)
    health[1] = 60.0
    out = ew.health_signals(grid, health, 50.0, 50.0, SETTINGS)
    assert ew.first_firing(out["health_red"][0])[0] == 40  # red now, not red 30 days earlier: days 40..11
    assert ew.first_firing(out["health_drop"][0])[0] == 40
    assert ew.first_firing(out["health_below_threshold"][0]).tolist()[0] == 40
    assert np.isnan(ew.first_firing(out["health_below_threshold"][0])[1])


def test_backtest_counts_follow_the_firings(sample_outputs):
    table = sample_outputs["early_warning.csv"].set_index("signal")
    per = sample_outputs["early_warning_decisions.csv"]
    churned, retained = per["outcome"] == "churned", per["outcome"].isin(["renewed", "expanded"])
    assert list(sample_outputs["early_warning.csv"].columns[:11]) == [
        "signal", "definition", "churned_decisions", "fired_before_churn", "recall", "lead_days_median",
        "lead_days_min", "lead_days_max", "retained_decisions", "fired_before_retained", "false_alarm_rate"]
    assert set(table.index) >= {"usage_drop", "health_red", "health_drop", "nps_detractor", "ticket_spike",
                                "health_below_threshold"}
    for signal, row in table.iterrows():
        leads = per.loc[churned, signal].dropna()
        assert row["churned_decisions"] == churned.sum() and row["fired_before_churn"] == len(leads)
        assert row["recall"] == pytest.approx(len(leads) / churned.sum())
        assert row["lead_days_median"] == pytest.approx(leads.median())
        assert (row["lead_days_min"], row["lead_days_max"]) == (leads.min(), leads.max())
        assert leads.between(1, 180).all()
        assert row["fired_before_retained"] == per.loc[retained, signal].notna().sum()
        assert row["false_alarm_rate"] == pytest.approx(row["fired_before_retained"] / retained.sum())
        assert row["recall_ci_lower"] <= row["recall"] <= row["recall_ci_upper"]


def test_the_planted_usage_decline_warns_months_ahead(sample_outputs, truth):
    """The sample's usage falls from four months before churn (to 15% at the
    end). A drop of half that has lasted two weeks shows once the decline is
    well under way: we expect a median lead of one to four months, never
    more than the planted decline except by chance, and far fewer firings
    before renewals than before churn."""
    months = truth["planted"]["usage_decline"]["months_before_churn"]
    usage = sample_outputs["early_warning.csv"].set_index("signal").loc["usage_drop"]
    assert 30 <= usage["lead_days_median"] <= months * 30.5
    assert usage["flagged"] and usage["recall"] > 1.8 * usage["false_alarm_rate"]
    per = sample_outputs["early_warning_decisions.csv"]
    leads = per.loc[per["outcome"] == "churned", "usage_drop"].dropna()
    assert (leads <= months * 30.5).mean() > 0.75  # most warnings come inside the planted decline


def test_the_health_score_is_judged_like_any_signal(sample_outputs):
    row = sample_outputs["early_warning.csv"].set_index("signal").loc["health_below_threshold"]
    # In the sample, low health goes with churn (through the quadrants): the score is worth watching.
    assert row["tested"] and row["flagged"] and row["recall"] > row["false_alarm_rate"]
    assert "health threshold (50)" in row["definition"]


def test_a_signal_without_its_table_is_not_checked():
    decisions = _decisions([("a", "2026-06-30", "churned")] * 12 + [("b", "2026-06-30", "renewed")] * 12)
    grid = ew.DayGrid(decisions)
    fired = {"nps_detractor": ew.nps_detractor(grid, None),
             "ticket_spike": ew.ticket_spike(grid, None, None, None, SETTINGS)}
    table, _ = ew.backtest(decisions, fired, {"nps_detractor": "x", "ticket_spike": "y"})
    assert table["recall"].isna().all() and table["false_alarm_rate"].isna().all() and not table["tested"].any()
    assert (table["churned_evaluable"] == 0).all()


def test_health_on_the_grid_is_the_same_scored_in_parts():
    """Scored in parts of a few decisions (an account's decisions may fall in two
    parts), every cell equals the whole grid scored at once, and each cell is
    the score of its (account, day) pair."""
    rng = np.random.default_rng(5)
    decisions = _decisions([(f"a{i % 7}", pd.Timestamp("2026-01-01") + pd.Timedelta(days=int(d)), "renewed")
                            for i, d in enumerate(rng.integers(0, 400, 20))])
    grid = ew.DayGrid(decisions)
    calls = []

    def score(pairs):  # a score that depends on the account and the day only
        calls.append(len(pairs))
        day = pd.to_datetime(pairs["day"])
        return (pairs["account_id"].str[1:].astype(int) * 1000 + day.dt.dayofyear + day.dt.year % 7).to_numpy(float)

    whole = ew.health_on_grid(grid, score)
    assert len(calls) == 1
    parts = ew.health_on_grid(grid, score, pairs_per_part=3 * 180 * 3)
    assert len(calls) > 5 and np.array_equal(whole, parts)
    for i, j, k in [(0, 0, 0), (5, 100, 1), (19, 179, 2)]:
        day = decisions.loc[i, "decision_date"] - pd.Timedelta(days=int(grid.leads[j]) + [0, 30, 90][k])
        assert whole[i, j, k] == score(pd.DataFrame({"account_id": [decisions.loc[i, "account_id"]], "day": [day]}))[0]
