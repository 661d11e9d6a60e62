"""The next four quarters' forecast and its backtest: hand-made books with
figures worked out by hand, the gate that shows nothing for a weak model,
and the sample run's files recomputed from the files they come from."""

from __future__ import annotations

import itertools
import math
import re
from datetime import date

import numpy as np
import pandas as pd
import pytest

from vga.analysis import forecast as fc
from vga.run.pipeline import read

AS_OF = date(2026, 9, 30)
GOOD = {"auc": 0.80, "brier": 0.10, "brier_base_rate": 0.15, "reason": None}


def book(rows) -> pd.DataFrame:
    """(account_id, arr, p, next decision date or None, colour) per row."""
    frame = pd.DataFrame(rows, columns=["account_id", "arr", "renewal_probability", "next_decision_date",
                                        "health_color"])
    frame["next_decision_date"] = pd.to_datetime(frame["next_decision_date"])
    return frame.astype({"arr": float, "renewal_probability": float})


# --------------------------------------------------------------------------
# Quarters

def test_quarters_after_a_month_end_are_calendar_quarters():
    q = fc.quarter_bounds(AS_OF)
    assert q["quarter"].tolist() == [1, 2, 3, 4]
    starts = [d.date().isoformat() for d in q["quarter_start"]]
    assert starts == ["2026-10-01", "2027-01-01", "2027-04-01", "2027-07-01"]
    assert [d.date().isoformat() for d in q["quarter_end"]] == ["2026-12-31", "2027-03-31", "2027-06-30", "2027-09-30"]
    # from a month end that is not a quarter end, and from 29 February: still month ends
    assert fc.quarter_bounds(date(2024, 2, 29))["quarter_end"].iloc[-1].date() == date(2025, 2, 28)
    assert fc.quarter_bounds(date(2025, 11, 30))["quarter_end"].iloc[0].date() == date(2026, 2, 28)


def test_quarters_after_another_day_keep_the_day_of_the_month():
    q = fc.quarter_bounds(date(2026, 8, 15))
    starts = [d.date().isoformat() for d in q["quarter_start"]]
    assert starts == ["2026-08-16", "2026-11-16", "2027-02-16", "2027-05-16"]
    assert q["quarter_end"].iloc[-1].date() == date(2027, 8, 15)
    assert fc.quarter_bounds(date(2026, 1, 30))["quarter_end"].iloc[0].date() == date(2026, 4, 30)


def test_a_decision_belongs_to_the_quarter_that_holds_its_day():
    bounds = fc.quarter_bounds(AS_OF)
    days = pd.Series(pd.to_datetime(["2026-09-30", "2026-10-01", "2026-12-31", "2027-01-01", "2027-09-30",
                                     "2027-10-01", None, "2025-01-01"]))
    assert fc.due_quarter(days, bounds).tolist() == [0, 1, 1, 2, 4, 0, 0, 0]


# --------------------------------------------------------------------------
# The quarter table, by hand

def test_two_accounts_at_even_odds_by_hand():
    table, facts = fc.forecast(book([("a", 100, 0.5, "2026-11-01", "lime"), ("b", 300, 0.5, "2026-12-31", "red")]),
                               AS_OF, GOOD)
    first = table.iloc[0]
    assert first["accounts_due"] == 2 and first["arr_due"] == 400
    assert first["expected_loss"] == pytest.approx(200)  # 100 x 0.5 + 300 x 0.5
    assert first["loss_sd"] == pytest.approx(math.sqrt(100**2 * 0.25 + 300**2 * 0.25))  # 158.11
    # lost: 0, 100, 300 or 400, a quarter each: the 95% interval is all of it
    assert (first["loss_low"], first["loss_high"]) == (0.0, 400.0)
    assert first["expected_churned_accounts"] == pytest.approx(1.0)
    assert first["red_yellow_accounts_due"] == 1 and first["red_yellow_arr_due"] == 300
    assert first["red_yellow_expected_loss"] == pytest.approx(150)
    assert table.loc[1:, ["accounts_due", "arr_due", "expected_loss", "loss_high"]].to_numpy().sum() == 0
    assert facts["shown"] and facts["reason"] is None
    assert facts["expected_grr"] == pytest.approx(0.5)  # 1 - 200 / 400


def test_expected_grr_counts_every_active_account_and_churn_only():
    rows = [("a", 100, 0.5, "2026-11-01", "red"), ("b", 300, 0.5, "2027-02-01", "yellow"),
            ("c", 600, 0.9, None, "green"),  # active, no date: in the denominator, in no quarter
            ("d", 50, 0.2, "2027-11-01", "red"),  # after the fourth quarter
            ("e", 50, 0.2, "2026-06-30", "red")]  # a date already past
    table, facts = fc.forecast(book(rows), AS_OF, GOOD)
    assert table["accounts_due"].tolist() == [1, 1, 0, 0]
    assert facts["active_arr"] == 1100 and facts["due_arr"] == 400
    assert (facts["undated_accounts"], facts["undated_arr"]) == (1, 600)
    assert (facts["later_accounts"], facts["later_arr"]) == (1, 50)
    assert (facts["past_date_accounts"], facts["past_date_arr"]) == (1, 50)
    assert facts["expected_loss"] == pytest.approx(200)
    assert facts["expected_grr"] == pytest.approx(1 - 200 / 1100)
    # over the year the loss is 0, 100, 300 or 400, a quarter each
    assert (facts["loss_low"], facts["loss_high"]) == (0.0, 400.0)
    assert facts["grr_low"] == pytest.approx(1 - 400 / 1100) and facts["grr_high"] == pytest.approx(1.0)
    assert (table.loc[1, "loss_low"], table.loc[1, "loss_high"]) == (0.0, 300.0)


def test_the_simulated_interval_is_the_exact_distributions():
    arr, churn = np.array([100.0, 200.0, 400.0]), np.array([0.1, 0.2, 0.3])
    outcomes = {}
    for lost in itertools.product([0, 1], repeat=3):
        chance = np.prod([c if x else 1 - c for x, c in zip(lost, churn)])
        amount = float(np.dot(lost, arr))
        outcomes[amount] = outcomes.get(amount, 0.0) + chance
    amounts = sorted(outcomes)
    cdf = np.cumsum([outcomes[a] for a in amounts])
    exact = (amounts[int(np.argmax(cdf >= 0.025))], amounts[int(np.argmax(cdf >= 0.975))])
    assert exact == (0.0, 600.0)  # P(0) = 0.504; P(<= 500) = 0.940, P(<= 600) = 0.994
    rows = [(f"a{i}", a, 1 - c, "2027-05-01", "") for i, (a, c) in enumerate(zip(arr, churn))]
    table, _ = fc.forecast(book(rows), AS_OF, GOOD)
    assert (table.loc[2, "loss_low"], table.loc[2, "loss_high"]) == exact
    draws = fc.simulate_losses(arr, churn, np.zeros(3, dtype=int), 1)[:, 0]
    mean = float(np.dot(arr, churn))  # 150
    assert abs(draws.mean() - mean) < 4 * table.loc[2, "loss_sd"] / math.sqrt(len(draws))


def test_the_forecast_is_the_same_whatever_the_order_of_the_accounts():
    rng = np.random.default_rng(5)
    rows = [(f"x{i:03d}", float(rng.integers(1, 100) * 1000), float(rng.uniform(0.5, 0.99)),
             (pd.Timestamp("2026-10-01") + pd.Timedelta(days=int(rng.integers(0, 365)))).date().isoformat(), "lime")
            for i in range(300)]
    one, _ = fc.forecast(book(rows), AS_OF, GOOD)
    two, _ = fc.forecast(book(rows[::-1]), AS_OF, GOOD)
    pd.testing.assert_frame_equal(one, two)
    assert (one["loss_low"] <= one["expected_loss"]).all() and (one["expected_loss"] <= one["loss_high"]).all()


# --------------------------------------------------------------------------
# The success plan

def test_the_success_plan_by_hand():
    rows = [("a", 100, 0.5, "2026-11-01", "red"), ("b", 300, 0.5, "2027-02-01", "yellow"),
            ("c", 600, 0.9, None, "green"), ("d", 200, 0.7, "2027-05-01", "lime"),
            ("e", 999, 0.1, None, "yellow")]  # not due in the year: moving it changes nothing in the year
    _, facts = fc.forecast(book(rows), AS_OF, GOOD, share=0.2)
    plan = facts["success_plan"]
    assert plan["target_mean_probability"] == pytest.approx(0.8)  # mean of 0.9 and 0.7, due or not
    assert (plan["base_accounts"], plan["base_arr"]) == (2, 400)
    assert plan["base_expected_loss"] == pytest.approx(200)
    # 20% of 400 of ARR whose renewal chance goes from 0.5 to 0.8: 0.2 x (100 x 0.3 + 300 x 0.3)
    assert plan["value"] == pytest.approx(24)
    assert plan["moved_arr"] == pytest.approx(80)
    assert plan["expected_loss_after"] == pytest.approx(facts["expected_loss"] - 24)
    assert plan["expected_grr_after"] == pytest.approx(1 - (facts["expected_loss"] - 24) / 2199)
    half = fc.forecast(book(rows), AS_OF, GOOD, share=0.5)[1]["success_plan"]
    assert half["value"] == pytest.approx(60)


def test_a_success_plan_toward_colours_that_renew_no_better_is_worth_less_than_nothing():
    rows = [("a", 100, 0.9, "2026-11-01", "red"), ("b", 100, 0.6, None, "green")]
    plan = fc.forecast(book(rows), AS_OF, GOOD)[1]["success_plan"]
    assert plan["value"] == pytest.approx(0.2 * 100 * (0.6 - 0.9))


def test_a_success_plan_without_accounts_to_move_says_why():
    plan = fc.forecast(book([("a", 100, 0.9, "2026-11-01", "green")]), AS_OF, GOOD)[1]["success_plan"]
    assert plan["value"] is None and "red or yellow" in plan["reason"]
    plan = fc.forecast(book([("a", 100, 0.9, "2026-11-01", "red")]), AS_OF, GOOD)[1]["success_plan"]
    assert plan["value"] is None and "lime or green" in plan["reason"]


# --------------------------------------------------------------------------
# The gate: a weak model forecasts nothing

ROWS = [("a", 100, 0.5, "2026-11-01", "red"), ("b", 300, 0.8, "2027-02-01", "lime")]


@pytest.mark.parametrize("validation, words", [
    ({"auc": 0.58, "brier": 0.10, "brier_base_rate": 0.15}, "little better than chance (AUC 0.58"),
    ({"auc": 0.6499, "brier": 0.10, "brier_base_rate": 0.15}, "AUC 0.6499"),
    ({"auc": 0.80, "brier": 0.15, "brier_base_rate": 0.15}, "no closer to what happened than the base rate"),
    ({"auc": None, "brier": None, "brier_base_rate": None, "reason": "all on one date"}, "all on one date"),
    (None, "could not be checked"),
])
def test_a_weak_model_shows_nothing_and_says_why(validation, words):
    table, facts = fc.forecast(book(ROWS), AS_OF, validation)
    assert not facts["shown"] and words in facts["reason"]
    assert table[fc.MODEL_COLUMNS].isna().all().all()
    for key in ("expected_loss", "loss_low", "loss_high", "expected_grr", "grr_low", "grr_high"):
        assert facts[key] is None, key
    assert facts["success_plan"]["value"] is None and facts["success_plan"]["reason"] == facts["reason"]
    # what is up for renewal needs no model: still there
    assert table["arr_due"].tolist() == [100.0, 300.0, 0.0, 0.0]


def test_both_weaknesses_are_named_and_the_threshold_itself_passes():
    _, facts = fc.forecast(book(ROWS), AS_OF, {"auc": 0.55, "brier": 0.2, "brier_base_rate": 0.15})
    assert "AUC 0.55" in facts["reason"] and "Brier score 0.2000 against 0.1500" in facts["reason"]
    _, facts = fc.forecast(book(ROWS), AS_OF, {"auc": 0.65, "brier": 0.149, "brier_base_rate": 0.15})
    assert facts["shown"] and facts["expected_loss"] == pytest.approx(100 * 0.5 + 300 * 0.2)


def test_no_probabilities_no_forecast():
    rows = [("a", 100, np.nan, "2026-11-01", "red")]
    table, facts = fc.forecast(book(rows), AS_OF, GOOD)
    assert not facts["shown"] and "no active account has a renewal probability" in facts["reason"]
    assert table["unscored_accounts_due"].tolist() == [1, 0, 0, 0] and table["expected_loss"].isna().all()


def test_the_node_without_decisions_writes_no_table_and_says_why():
    from vga.config import DEFAULTS
    from vga.nodes import forecast as node
    from vga.periods import parse_period
    from vga.run import pipeline

    class Inputs:
        events = None
        sources = pd.DataFrame()

        def table(self, name):
            return pd.DataFrame({"account_id": ["a"], "arr": [1.0]}) if name == "accounts" else None

    why = "no renewals table was given"
    out = node.compute(pipeline.context(Inputs(), parse_period("2026Q3"), DEFAULTS), {
        "model_validation.json": {"auc": None, "brier": None, "brier_base_rate": None, "reason": why},
        "renewal_scores.csv": None, "renewal_model.json": {}, "quadrants.csv": None, "quadrant_view.json": {},
        "decisions.csv": pd.DataFrame(), "churned_customers.json": {"reason": why}})
    assert out["forecast.csv"] is None and out["forecast_backtest.csv"] is None
    facts = out["forecast.json"]
    assert not facts["shown"] and why in facts["reason"] and facts["backtest"]["reason"] == why
    assert facts["active_arr"] is None and facts["expected_grr"] is None  # no book: nothing reads as zero


# --------------------------------------------------------------------------
# The backtest

def test_each_account_is_due_at_its_first_decision_after_the_day():
    decisions = pd.DataFrame({"account_id": ["a", "a", "b", "b", "c"],
                              "decision_date": pd.to_datetime(["2025-09-30", "2026-03-01", "2025-12-01", "2026-06-01",
                                                               "2025-01-01"]),
                              "outcome": ["churned", "renewed", "renewed", "churned", "churned"],
                              "arr_before": [10.0, 20.0, 30.0, 40.0, 50.0]})
    first = fc.next_decisions(decisions, date(2025, 9, 30)).set_index("account_id")
    assert sorted(first.index) == ["a", "b"]  # a decision on the day itself is already known; c none after
    assert first.loc["a", "outcome"] == "renewed" and first.loc["b", "next_decision_date"] == pd.Timestamp("2025-12-01")


def test_the_backtest_compares_with_what_the_decisions_were():
    then = date(2025, 9, 30)
    rows = book([("a", 100, 0.5, "2025-11-01", "red"), ("b", 300, 0.5, "2025-12-01", "lime"),
                 ("c", 200, 0.9, "2026-02-01", "green"), ("d", 400, 0.99, "2026-08-01", "green"),
                 ("e", 50, 0.9, None, "lime")])
    rows["outcome"] = ["churned", "churned", "renewed", "churned", None]
    rows["arr_before"] = [110.0, 300.0, 200.0, 400.0, np.nan]  # a grew before its decision: what was lost counts
    table, facts = fc.backtest_table(rows, then, {"auc": 0.6, "brier": 0.1, "brier_base_rate": 0.15})
    assert list(table.columns) == fc.BACKTEST_COLUMNS
    assert table["actual_accounts_churned"].tolist() == [2, 0, 0, 1]
    assert table["actual_loss"].tolist() == [410.0, 0.0, 0.0, 400.0]
    assert table["within_interval"].tolist() == [False, True, True, False]  # 410 > 400; 400 above 0..0 (p 0.01)
    assert table.loc[0, "expected_loss"] == pytest.approx(200)  # kept although the gate would have stopped it
    assert not facts["shown"] and "AUC 0.60" in facts["reason"]
    assert facts["actual_loss"] == 810 and facts["actual_grr"] == pytest.approx(1 - 810 / 1050)
    assert facts["quarters_within_interval"] == 2


# --------------------------------------------------------------------------
# The sample run: the files against the files they come from

@pytest.fixture(scope="module")
def results(sample_run):
    return sample_run / "results"


@pytest.mark.slow
def test_the_sample_gate_follows_the_models_validation(results):
    import json

    facts = json.loads((results / "forecast.json").read_text())
    validation = json.loads((results / "model_validation.json").read_text())
    for key in ("auc", "brier", "brier_base_rate"):
        assert facts["gate"][key] == validation[key]
    fair = validation["auc"] >= 0.65 and validation["brier"] < validation["brier_base_rate"]
    assert facts["shown"] is fair
    table = read(results, "forecast.csv")
    if fair:
        assert table["expected_loss"].notna().all() and facts["expected_grr"] is not None
    else:  # nothing to find: a weak model shows no figure, and says why with its AUC
        assert table[fc.MODEL_COLUMNS].isna().all().all() and facts["expected_grr"] is None
        assert f"{validation['auc']:.2f}" in facts["reason"] or "Brier" in facts["reason"]
        assert facts["success_plan"]["value"] is None


def _by_calendar_quarter(frame: pd.DataFrame, date_column: str, value: pd.Series) -> pd.Series:
    quarter = pd.to_datetime(frame[date_column]).dt.to_period("Q")
    return value.groupby(quarter).sum()


@pytest.mark.slow  # reads the sample's whole run
def test_the_sample_forecast_adds_up_to_the_renewal_scores(results):
    """ARR up for renewal (and, with a model forced through the gate, the
    expected loss) per calendar quarter, recomputed with pandas from
    renewal_scores.csv and quadrants.csv."""
    scores = read(results, "renewal_scores.csv")
    quadrants = read(results, "quadrants.csv").set_index("account_id")
    table = read(results, "forecast.csv")
    assert [str(d.date()) for d in table["quarter_start"]] == ["2026-10-01", "2027-01-01", "2027-04-01", "2027-07-01"]
    scores["arr"] = scores["account_id"].map(quadrants["arr"])
    scores["color"] = scores["account_id"].map(quadrants["health_color"]).fillna("")
    inside = scores[(scores["next_decision_date"] > "2026-09-30") & (scores["next_decision_date"] <= "2027-09-30")]
    periods = [pd.Period(f"{y}Q{q}") for y, q in ((2026, 4), (2027, 1), (2027, 2), (2027, 3))]
    arr_due = _by_calendar_quarter(inside, "next_decision_date", inside["arr"]).reindex(periods, fill_value=0)
    count = _by_calendar_quarter(inside, "next_decision_date", inside["arr"] * 0 + 1).reindex(periods, fill_value=0)
    assert np.allclose(table["arr_due"], arr_due.to_numpy()) and table["accounts_due"].tolist() == count.tolist()
    risky = inside[inside["color"].isin(["red", "yellow"])]
    assert np.allclose(table["red_yellow_arr_due"],
                       _by_calendar_quarter(risky, "next_decision_date", risky["arr"]).reindex(periods, fill_value=0))
    # The same scores through a model the gate lets pass: the expected loss is sum ARR x (1 - p).
    book_ = scores.rename(columns={"color": "health_color"})[["account_id", "arr", "renewal_probability",
                                                             "next_decision_date", "health_color"]]
    forced, facts = fc.forecast(book_, AS_OF, GOOD)
    loss = _by_calendar_quarter(inside, "next_decision_date", inside["arr"] * (1 - inside["renewal_probability"]))
    assert np.allclose(forced["expected_loss"], loss.reindex(periods, fill_value=0).to_numpy())
    assert ((forced["loss_low"] < forced["expected_loss"]) & (forced["expected_loss"] < forced["loss_high"])).all()
    assert facts["expected_grr"] == pytest.approx(1 - loss.sum() / scores["arr"].sum())


@pytest.mark.slow  # reads the sample's whole run
def test_the_sample_backtest_matches_the_decisions_that_followed(results):
    """The backtest's population is the retention cohort (ARR above 0 a
    year before the as-of date); what it lost is recomputed from
    decisions.csv: each cohort account's first decision after that day."""
    import json

    backtest = read(results, "forecast_backtest.csv")
    facts = json.loads((results / "forecast.json").read_text())["backtest"]
    if backtest is None:
        assert facts["reason"]
        pytest.skip(f"no backtest on this sample: {facts['reason']}")
    cohort = read(results, "cohort.csv").set_index("account_id")
    decisions = read(results, "decisions.csv")
    after = decisions[decisions["decision_date"] > "2025-09-30"].sort_values("decision_date", kind="stable")
    first = after.drop_duplicates("account_id")
    first = first[first["account_id"].isin(cohort.index)]
    churned = first[first["outcome"] == "churned"]
    periods = [pd.Period(f"{y}Q{q}") for y, q in ((2025, 4), (2026, 1), (2026, 2), (2026, 3))]
    lost = _by_calendar_quarter(churned, "decision_date", churned["arr_before"]).reindex(periods, fill_value=0)
    assert np.allclose(backtest["actual_loss"], lost.to_numpy())
    counts = _by_calendar_quarter(churned, "decision_date", churned["arr_before"] * 0 + 1)
    assert backtest["actual_accounts_churned"].tolist() == counts.reindex(periods, fill_value=0).tolist()
    arr_due = _by_calendar_quarter(first, "decision_date", first["account_id"].map(cohort["arr_start"]))
    assert np.allclose(backtest["arr_due"], arr_due.reindex(periods, fill_value=0).to_numpy())
    assert facts["active_accounts"] == len(cohort) and facts["active_arr"] == pytest.approx(cohort["arr_start"].sum())
    actual = backtest["actual_loss"]
    assert backtest["within_interval"].tolist() == \
        ((backtest["loss_low"] <= actual) & (actual <= backtest["loss_high"])).tolist()
    assert facts["actual_loss"] == pytest.approx(lost.sum())


def test_the_sample_report_says_the_forecast_and_its_backtest_from_the_files(sample_run):
    """The summary's "next four quarters": the ARR due and its red or yellow
    part as forecast.csv adds them; no loss when the gate held it back, with
    the reason; the backtest's count of quarters inside their interval."""
    import html as html_module
    import json

    from vga.present.blocks import money

    results = sample_run / "results"
    facts = json.loads((results / "forecast.json").read_text())
    quarters = pd.read_csv(results / "forecast.csv")
    back = pd.read_csv(results / "forecast_backtest.csv")
    page = html_module.unescape((sample_run / "report.html").read_text())
    text = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    assert (f"Over the next four quarters {money(quarters['arr_due'].sum())} of ARR comes up for renewal") in text
    if facts["shown"]:
        assert f"expects {money(facts['expected_loss'])} of it to churn" in text
    else:
        assert f"{money(quarters['red_yellow_arr_due'].sum())} of it on accounts red or yellow now. No loss is " \
               "forecast: " in text
    inside = int(back["within_interval"].astype(str).str.lower().eq("true").sum())
    assert f"{inside} of {len(back)} quarters' ARR lost to churn fell inside its 95% interval" in text


def test_accounts_without_renewal_dates_get_no_forecast_of_nothing_lost():
    """An export without accounts.renewal_date: nothing can be placed in a
    quarter, so no loss of 0 and no expected GRR of 100% is shown."""
    rows = [("a", 100, 0.5, None, "red"), ("b", 300, 0.6, None, "yellow"), ("c", 20, 0.6, "2026-11-01", "red")]
    table, facts = fc.forecast(book(rows), AS_OF, GOOD)
    assert not facts["shown"] and facts["expected_grr"] is None and facts["expected_loss"] is None
    assert facts["reason"].startswith("95% of the active ARR has no next renewal date")
    assert table["expected_loss"].isna().all() and facts["undated_arr"] == 400
