"""Steps 3 and 4: renewal decisions, point-in-time signals, behaviours."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from vga.analysis import decisions as d
from vga.config import DEFAULTS, load_config
from vga.errors import UsageError
from vga.inputs import Inputs
from vga.analysis.retention import arr_at, arr_for_pairs
from vga.analysis.scores import scores_at, scores_for_pairs


AS_OF = date(2026, 9, 30)
SETTINGS = {k: DEFAULTS[k] for k in ("analysis", "usage", "health")}


@pytest.fixture(scope="module")
def settings(truth):
    out = {k: dict(v) for k, v in SETTINGS.items()}
    out["usage"] = dict(out["usage"], **truth["config"]["usage"])
    return out


@pytest.fixture(scope="module")
def decided(sample_inputs, settings):
    table = d.decision_table(sample_inputs.table("renewals"), AS_OF, 18)
    return d.add_point_in_time(table, sample_inputs, settings)


def test_look_back_is_calendar_months_clipped_to_month_end():
    assert d.lookback_start(date(2026, 9, 30), 18) == date(2025, 3, 30)
    assert d.lookback_start(date(2026, 8, 31), 18) == date(2025, 2, 28)
    assert d.lookback_start(date(2026, 12, 31), 12) == date(2025, 12, 31)
    with pytest.raises(ValueError):
        d.lookback_start(AS_OF, 25)


@pytest.mark.parametrize("value", [11, 25, "18", 18.5])
def test_look_back_outside_12_to_24_months_is_refused(tmp_path, value):
    (tmp_path / "vga.toml").write_text(f"[analysis]\nchurn_lookback_months = {value!r}\n".replace("'", '"'))
    with pytest.raises(UsageError, match="churn_lookback_months"):
        load_config(tmp_path / "vga.toml")


def test_decisions_follow_the_definition_row_for_row(sample_inputs, decided):
    """Every accepted renewals row dated in (as_of - 18 months, as_of] with
    ARR before > 0, one decision each, computed here in plain Python."""
    start = date(2025, 3, 30)
    expected = []
    for r in sample_inputs.table("renewals").to_dict("records"):
        day, before, after = r["renewal_date"].date(), float(r["arr_before"]), float(r["arr_after"])
        if start < day <= AS_OF and before > 0:
            outcome = ("churned" if after == 0 else "expanded" if after > before
                       else "downgraded" if after < before else "renewed")
            expected.append((r["account_id"], day, outcome, before, after))
    got = list(zip(decided["account_id"], decided["decision_date"], decided["outcome"], decided["arr_before"],
                   decided["arr_after"]))
    assert sorted(got) == sorted(expected)
    assert len(got) > 1000
    worst = {}
    for account, _, outcome, _, _ in expected:
        worst[account] = min(worst.get(account, "expanded"), outcome, key=d.OUTCOMES.index)
    assert list(decided["group"]) == [worst[a] for a in decided["account_id"]]


def test_point_in_time_scores_equal_scores_computed_day_by_day(sample_inputs, settings):
    accounts = sample_inputs.table("accounts")["account_id"]
    days = [date(2025, 6, 30), date(2026, 2, 14)]
    pairs = pd.DataFrame({"account_id": np.tile(accounts.to_numpy()[::7], len(days)),
                          "day": np.repeat(pd.to_datetime(days), len(accounts.to_numpy()[::7]))})
    batched = scores_for_pairs(sample_inputs, pairs, settings)
    for day in days:
        one = scores_at(sample_inputs, day, settings, run_as_of=False).set_index("account_id")
        part = batched[batched["day"] == pd.Timestamp(day)]
        for col in ("usage_score", "health_score"):
            np.testing.assert_allclose(part[col].to_numpy(), one.loc[part["account_id"], col].to_numpy(), atol=1e-9)
    arr = arr_for_pairs(sample_inputs.table("accounts"), sample_inputs.table("renewals"), pairs)
    for day in days:
        want = arr_at(sample_inputs.table("accounts"), sample_inputs.table("renewals"), day)
        mask = (pairs["day"] == pd.Timestamp(day)).to_numpy()
        np.testing.assert_array_equal(arr[mask].to_numpy(), want.loc[pairs.loc[mask, "account_id"]].to_numpy())


def test_nothing_dated_after_the_day_changes_a_feature():
    accounts = pd.DataFrame({"account_id": ["a", "b"], "arr": [100.0, 200.0]})
    renewals = pd.DataFrame({"account_id": ["a", "b"], "renewal_date": pd.to_datetime(["2026-06-30", "2026-06-30"]),
                             "arr_before": [100.0, 200.0], "arr_after": [0.0, 200.0], "churn_reason": ["", ""]})
    health = pd.DataFrame({"account_id": ["a", "a", "b"], "as_of": pd.to_datetime(["2026-03-01", "2026-05-15", "2026-01-01"]),
                           "score": [40.0, 90.0, 70.0]})
    tickets = pd.DataFrame({"ticket_id": ["t1", "t2", "t3"], "account_id": ["a", "a", "a"],
                            "opened_at": pd.to_datetime(["2026-05-30", "2026-06-01", "2026-02-01"]),
                            "closed_at": pd.NaT})
    inputs = Inputs.from_frames(accounts=accounts, renewals=renewals, health_scores=health, support_tickets=tickets)
    table = d.add_point_in_time(d.decision_table(renewals, AS_OF, 18), inputs, SETTINGS)
    a = table.set_index("account_id").loc["a"]
    # 30 days before 2026-06-30 is 2026-05-31: the 2026-05-15 score (90) counts, the ticket of 06-01 does not
    assert a["health_score_d30"] == 90.0 and a["tickets_d30"] == 1.0
    # 60 days before is 2026-05-01: the later score is not yet known
    assert a["health_score_d60"] == 40.0
    # without events, usage cannot be computed: empty, not zero
    assert np.isnan(a["usage_score_d30"])
    assert a["arr_d30"] == 100.0 and a["group"] == "churned"


def test_usage_declines_before_churn_and_warns(decided):
    signals = d.signal_comparison(decided).set_index(["signal", "lead_days"])
    near, far = signals.loc[("usage_score", 30)], signals.loc[("usage_score", 90)]
    assert near["flagged"] and near["difference"] < 0
    assert near["difference"] < far["difference"]  # the gap widens as the decision nears (planted decline)
    assert not signals.loc[("arr", 30), "flagged"]  # ARR was not planted to differ


def test_frustrated_power_users_churn_about_twice_champions_over_the_look_back(decided, truth):
    churn = d.quadrant_churn(decided).set_index("quadrant")["churn_rate"]
    ratio = churn["Frustrated Power Users"] / churn["Champions"]
    planted = truth["planted"]["quadrant_churn"]["frustrated_vs_champions_ratio"]
    assert 0.7 * planted < ratio < 1.4 * planted


def test_behaviours_find_the_planted_milestone_and_feature_and_nothing_else(decided, sample_inputs, settings, truth):
    features = d.behaviour_features(decided, sample_inputs, settings)
    table = d.behaviour_comparison(features)
    retained = table[table["comparison"] == "retained vs churned"].set_index("measure")
    milestones = retained[retained.index.str.startswith("milestone_")]
    planted = "milestone_" + truth["planted"]["onboarding_milestone"]["milestone"]
    assert milestones.loc[planted, "flagged"] and milestones.loc[planted, "difference"] > 0
    assert not milestones.drop(planted)["flagged"].any()
    assert not retained.loc[["trained", "courses_completed"], "flagged"].any()
    expanded = table[table["comparison"] == "expanded vs renewed"].set_index("measure")
    feature = "uses_" + truth["planted"]["expansion_feature"]["feature"]
    assert expanded.loc[feature, "flagged"] and expanded.loc[feature, "difference"] > 0.2
    others = expanded[expanded.index.str.startswith("uses_")].drop(feature)
    assert not others["flagged"].any()


def test_comparison_interval_covers_the_difference_and_small_groups_are_not_tested():
    from vga.analysis.compare import compare_table

    rng = np.random.default_rng(0)
    big = pd.Series(rng.random(200) < 0.6)
    small = pd.Series([True, False, True])
    table = compare_table([("x", big, pd.Series(rng.random(200) < 0.3)), ("y", big, small)]).set_index("measure")
    assert table.loc["x", "ci_lower"] < table.loc["x", "difference"] < table.loc["x", "ci_upper"]
    assert table.loc["x", "flagged"]
    assert not table.loc["y", "tested"] and not table.loc["y", "flagged"] and np.isnan(table.loc["y", "q_value"])


@pytest.mark.slow
def test_decisions_csv_has_the_specified_columns(sample_run):
    frame = pd.read_csv(sample_run / "results" / "decisions.csv", dtype=str, keep_default_na=False)
    spec = ["account_id", "decision_date", "outcome", "arr_before", "arr_after", "churn_reason", "group"] + [
        f"{s}_d{lead}" for lead in (30, 60, 90) for s in ("health_score", "usage_score", "arr", "tickets")]
    assert list(frame.columns[: len(spec)]) == spec
    assert set(frame["outcome"]) == {"churned", "downgraded", "renewed", "expanded"}
    assert frame["account_id"].str.fullmatch(r"\d{6}").all()  # ids kept as text, leading zeros intact
