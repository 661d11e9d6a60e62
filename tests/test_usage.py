"""Event aggregation (Ibis), scores, staleness and movement explanations."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from vga import engine
from vga.analysis import usage
from vga.config import load_config
from vga.analysis.scores import explain_movement, health_composite, usage_scores

CONFIG = load_config()


def events_frame(rows):
    df = pd.DataFrame(rows, columns=["timestamp", "account_id", "user_id", "session_id", "feature"])
    df["timestamp"] = pd.to_datetime(df["timestamp"])
    return df


EVENTS = events_frame([
    # account a: two users, three sessions, in the window ending 2026-03-31
    ("2025-12-31 23:59:59", "a", "u1", "s1", "dash"),    # on d - 90 days (2025-12-31): outside, window is (d-90, d]
    ("2026-01-02 09:00:00", "a", "u1", "s2", "dash"),
    ("2026-01-02 09:05:00", "a", "u1", "s2", "report"),
    ("2026-01-02 09:06:00", "a", "u1", "s2", "report"),
    ("2026-02-10 10:00:00", "a", "u2", None, "api"),      # no session id: user-day is the session
    ("2026-02-10 11:00:00", "a", "u2", None, "dash"),
    ("2026-03-31 23:59:59", "a", "u1", "s9", "alerts"),   # last second of d: inside
    ("2026-04-01 00:00:00", "a", "u1", "s9", "alerts"),   # after d: outside
    ("2026-03-15 12:00:00", "b", "u3", "s5", "api"),
])
CORE = ["dash", "report", "alerts"]


@pytest.fixture(params=[False, True], ids=["masks", "feature-keys"])
def con_and_route(request, monkeypatch):
    if request.param:
        monkeypatch.setattr(usage, "MASK_BITS", 1)  # force the route without bitmasks
    return engine.connect()


def test_window_measures_hand_computed(con_and_route):
    t = engine.as_table(con_and_route, EVENTS)
    got = usage.window_usage(t, date(2026, 3, 31), 90, CORE).to_pandas().set_index("account_id").sort_index()
    a = got.loc["a"]
    assert (a["events"], a["active_users"], a["active_days"], a["sessions"]) == (6, 2, 3, 3)
    assert a["events_per_session"] == 2.0
    assert (a["features_used"], a["core_features_used"]) == (4, 3) and a["core_adoption"] == 1.0
    b = got.loc["b"]
    assert (b["events"], b["sessions"], b["features_used"], b["core_features_used"], b["core_adoption"]) == (1, 1, 1, 0, 0.0)


def test_monthly_measures_hand_computed(con_and_route):
    t = engine.as_table(con_and_route, EVENTS)
    got = usage.monthly_usage(t, CORE).to_pandas()
    got["month"] = pd.to_datetime(got["month"]).dt.strftime("%Y-%m")
    a = got[got["account_id"] == "a"].set_index("month")
    assert a.loc["2025-12", ["events", "sessions", "active_days", "features_used"]].tolist() == [1, 1, 1, 1]
    assert a.loc["2026-01", ["events", "sessions", "active_days", "features_used"]].tolist() == [3, 1, 1, 2]
    assert a.loc["2026-02", ["events", "sessions", "active_users", "core_features_used"]].tolist() == [2, 1, 1, 1]
    assert a.loc["2026-04", "events"] == 1
    assert got["events"].sum() == len(EVENTS)


def test_feature_use_per_pair_hand_computed(con_and_route):
    """On DuckDB (with and without feature masks in the collapsed events; a
    warehouse's route by per-day masks is checked against it in
    test_warehouse.py): a pair's window is (day - 90, day]; a pair that used
    none of the asked features is absent; a feature the events never had is
    never used."""
    t = engine.as_table(con_and_route, EVENTS)
    pairs = pd.DataFrame({"pair": [10, 11, 12, 13], "account_id": ["a", "a", "b", "b"],
                          "day": pd.to_datetime(["2026-03-31", "2026-01-01", "2026-03-31", "2026-03-14"])})
    got = usage.pair_feature_use(t, pairs, ["dash", "report", "api", "never"]).set_index("pair").sort_index()
    assert list(got.columns) == ["dash", "report", "api", "never"]
    assert got.loc[10].tolist() == [True, True, True, False]     # 2025-12-31's dash is outside
    assert got.loc[11].tolist() == [True, False, False, False]   # only 2025-12-31's dash
    assert got.loc[12].tolist() == [False, False, True, False]
    assert 13 not in got.index                                   # b's one event came later
    only_alerts = usage.pair_feature_use(t, pairs, ["alerts"])
    assert only_alerts["pair"].tolist() == [10]                  # used none of them: absent


def test_top_features_and_daily_events_up_to_a_day(con_and_route):
    t = engine.as_table(con_and_route, EVENTS)
    assert usage.top_features(t, 1) == ["api"]                   # a and b (ties: by name, api before dash)
    assert usage.top_features(t, 2, on_or_before=date(2026, 1, 2)) == ["dash", "report"]
    assert usage.top_features(t, 5, on_or_before=date(2025, 12, 31)) == ["dash"]
    daily = usage.daily_events(t, date(2026, 1, 2), date(2026, 3, 31)).to_pandas()
    daily["day"] = pd.to_datetime(daily["day"]).dt.strftime("%Y-%m-%d")
    got = daily.sort_values(["account_id", "day"]).values.tolist()
    assert got == [["a", "2026-01-02", 3], ["a", "2026-02-10", 2], ["a", "2026-03-31", 1], ["b", "2026-03-15", 1]]


def test_reads_parquet_folders_and_csv(tmp_path):
    (tmp_path / "ev").mkdir()
    EVENTS.iloc[:5].to_parquet(tmp_path / "ev" / "1.parquet")
    EVENTS.iloc[5:].to_parquet(tmp_path / "ev" / "2.parquet")
    EVENTS.to_csv(tmp_path / "ev.csv", index=False)
    con = engine.connect()
    for source in (tmp_path / "ev", tmp_path / "ev.csv"):
        got = usage.monthly_usage(engine.as_table(con, source), CORE).to_pandas()
        assert got["events"].sum() == len(EVENTS) and set(got["account_id"]) == {"a", "b"}


def test_first_value_and_workflows():
    con = engine.connect()
    t = engine.as_table(con, EVENTS)
    first = usage.first_value(t, ["report"]).to_pandas()
    accounts = pd.DataFrame({"account_id": ["a", "b"], "contract_start": pd.to_datetime(["2025-12-31", "2026-01-01"])})
    ttv = usage.time_to_first_value(first, accounts, date(2026, 3, 31)).set_index("account_id")["days_to_first_value"]
    assert ttv["a"] == pytest.approx(2 + 9 / 24 + 5 / 1440) and np.isnan(ttv["b"])
    assert np.isnan(usage.time_to_first_value(first, accounts, date(2026, 1, 1)).set_index("account_id").loc["a", "days_to_first_value"])
    runs = pd.DataFrame({
        "account_id": ["a", "a", "a", "b"], "workflow": "w",
        "started_at": pd.to_datetime(["2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04"]),
        "completed_at": pd.to_datetime(["2026-03-01 01:00", None, "2026-04-05 00:00", None]),
        "last_step": ["publish", "map", None, "map"],
    })
    rt = con.create_table("runs", runs, overwrite=True)
    s = usage.workflow_summary(rt, date(2026, 3, 31)).to_pandas().set_index("account_id")
    assert s.loc["a", ["runs_started", "runs_completed"]].tolist() == [3, 1]  # completed after d does not count
    steps = usage.abandonment_steps(rt).to_pandas().set_index("last_step")["abandoned_runs"].to_dict()
    assert steps == {"map": 2}


def test_usage_score_components_weights_and_zero_usage():
    activity = pd.DataFrame({"account_id": ["a", "b"], "events": [40, 10], "active_days": [10, 40],
                             "events_per_session": [4.0, 16.0], "core_features_used": [1, 2]})
    config = load_config()
    config["usage"]["core_features"] = ["x", "y"]
    wf = pd.DataFrame({"account_id": ["a"], "runs_started": [4], "runs_completed": [1]})
    got = usage_scores(pd.Series(["a", "b", "c"]), activity, wf, config).set_index("account_id")
    # a: adoption .5, days .5, depth .5, workflow .25 -> 43.75 ; b: 1, 1, 1, (no runs: spread) -> 100 ; c: none -> 0
    assert got.loc["a", "usage_score"] == pytest.approx(43.75)
    assert got.loc["b", "usage_score"] == pytest.approx(100.0) and np.isnan(got.loc["b", "usage_workflow_completion"])
    assert got.loc["c", "usage_score"] == 0 and got.loc["c", ["usage_active_days", "usage_core_adoption"]].tolist() == [0, 0]
    config["usage"]["weights"] = {"core_adoption": 0, "active_days": 1, "session_depth": 0, "workflow_completion": 3}
    got = usage_scores(pd.Series(["a"]), activity, wf, config).set_index("account_id")
    assert got.loc["a", "usage_score"] == pytest.approx((0.5 * 1 + 0.25 * 3) / 4 * 100)


def test_health_composite_staleness_spreads_weight():
    day = date(2026, 9, 30)
    surveys = pd.DataFrame({"account_id": ["a", "b"], "kind": ["nps", "nps"], "score": [9.0, 2.0],
                            "responded_at": pd.to_datetime(["2026-06-01", "2025-01-01"])})  # b's NPS is stale
    tickets = pd.DataFrame({"account_id": ["b", "b"], "opened_at": pd.to_datetime(["2026-09-01", "2026-09-20"]),
                            "escalated": [True, False], "priority": ["urgent", "low"], "csat": [np.nan, np.nan]})
    touch = pd.DataFrame({"account_id": ["a", "a"], "occurred_at": pd.to_datetime(["2026-09-01", "2026-08-01"]),
                          "sentiment": ["positive", "negative"]})
    got = health_composite(surveys, tickets, touch, pd.Series(["a", "b", "c"]), day, CONFIG).set_index("account_id")
    # a: nps 90, support 100, touchpoints 50 -> 80 ; b: support 100-10-15-10-10 = 55 only ; c: support 100 only
    assert got.loc["a", "health_score"] == pytest.approx(80.0)
    assert got.loc["b", "health_score"] == pytest.approx(55.0)
    assert got.loc["b", "health_signals_stale"] == "nps;csat;touchpoints" and got.loc["b", "health_signals_used"] == "support"
    assert got.loc["c", "health_score"] == 100.0
    nothing = health_composite(None, None, None, pd.Series(["a"]), day, CONFIG)
    assert nothing["health_score"].isna().all()


def test_explanations_add_up_to_the_change():
    t = pd.DataFrame({
        "account_id": ["a", "b"], "quadrant": ["Churn Risk", "Champions"], "previous_quadrant": ["Champions", "Champions"],
        "moved": [True, False], "health_color": ["red", "green"], "previous_health_color": ["lime", "green"],
        "usage_score": [20.0, 90.0], "previous_usage_score": [80.0, 90.0],
        "health_score": [40.0, 90.0], "previous_health_score": [75.0, 90.0],
        "health_support": [20.0, 90.0], "previous_health_support": [70.0, 90.0],
    })
    for c, (now, before) in {"core_adoption": (0.2, 0.8), "active_days": (0.2, 0.8), "session_depth": (0.2, 0.8),
                             "workflow_completion": (0.2, 0.8)}.items():
        t[f"usage_{c}"], t[f"previous_usage_{c}"] = [now, 0.9], [before, 0.9]
    out = explain_movement(t, CONFIG).set_index("account_id")
    deltas = out.filter(like="delta_usage_").loc["a"]
    assert deltas.sum() == pytest.approx(out.loc["a", "usage_change"]) == pytest.approx(-60.0)
    assert out.loc["a", "explanation"].startswith("Champions -> Churn Risk; usage -60.0")
    assert "support -50.0" in out.loc["a", "explanation"]
    assert out.loc["b", "explanation"] == ""


def test_usage_trend_and_abandonment_are_point_in_time(sample_data, sample_inputs):
    from vga.analysis.usage_health import usage_trend, workflow_abandonment

    as_of = date(2026, 6, 30)
    core = sample_data.config["usage"]["core_features"]
    monthly = usage_trend(sample_inputs, as_of, core)
    assert monthly["month"].max() == pd.Timestamp("2026-06-01")
    later = usage_trend(sample_inputs, date(2026, 9, 30), core)
    june = lambda m: m[m["month"] == pd.Timestamp("2026-06-01")].drop(columns="month").reset_index(drop=True)  # noqa: E731
    assert june(monthly).equals(june(later))  # later data does not change an earlier figure
    # Only whole months the events cover: they start on 2024-10-01, so October 2024 is the first.
    first = pd.Timestamp(sample_data.tables["usage_events"].first_date)
    assert monthly["month"].min() == (first if first.day == 1 else first + pd.offsets.MonthBegin(1))
    events = sample_data.events_frame()
    in_june = events[(events["timestamp"] >= "2026-06-01") & (events["timestamp"] < "2026-07-01")]
    assert june(monthly)["events"].iloc[0] == len(in_june)
    assert june(monthly)["active_accounts"].iloc[0] == in_june["account_id"].nunique()
    steps = workflow_abandonment(sample_data.get("workflow_runs"), as_of)
    runs = sample_data.get("workflow_runs")
    started = runs[runs["started_at"] < pd.Timestamp("2026-07-01")]
    open_then = started["completed_at"].isna() | (started["completed_at"] >= pd.Timestamp("2026-07-01"))
    assert steps["abandoned_runs"].sum() == int(open_then.sum())


def test_monthly_usage_in_slices_equals_one_query(sample_data):
    """Past ``events_per_query`` events, months are aggregated a slice at a
    time (bounded memory at a billion events): the same rows, exactly."""
    events = engine.as_table(engine.connect(), sample_data.events_path())
    core = sample_data.config["usage"]["core_features"]
    whole = usage.monthly_usage_frame(events, core)
    sliced = usage.monthly_usage_frame(events, core, events_per_query=150_000)  # about 2 months a slice
    assert len(whole) > 1000 and whole["month"].nunique() > 20
    key = ["account_id", "month"]
    pd.testing.assert_frame_equal(whole.sort_values(key).reset_index(drop=True),
                                  sliced.sort_values(key).reset_index(drop=True))
    direct = usage.monthly_usage(events, core).to_pandas()
    assert len(direct) == len(whole) and int(direct["events"].sum()) == int(whole["events"].sum())
    # Some months, up to a day: the rows of the whole whose months are asked, with the cut-off month's
    # measures over its days up to the cut-off (here the whole month: the last day of the month).
    months = sorted(whole["month"].unique())[3:7]
    cut = (pd.Timestamp(months[-1]) + pd.offsets.MonthEnd(0)).date()
    some = usage.monthly_usage_frame(events, core, months=months[1:] + [pd.Timestamp("1990-01-01")], on_or_before=cut)
    expected = whole[whole["month"].isin(months[1:])]
    pd.testing.assert_frame_equal(expected.sort_values(key).reset_index(drop=True),
                                  some.sort_values(key).reset_index(drop=True))
    early = usage.monthly_usage_frame(events, core, on_or_before=(pd.Timestamp(months[0]) + pd.Timedelta(days=9)).date())
    assert pd.to_datetime(early["month"]).max() == pd.Timestamp(months[0])
    assert (early.set_index(key)["events"] <= whole.set_index(key)["events"].reindex(early.set_index(key).index)).all()
    assert early["events"].sum() < whole[whole["month"] <= months[0]]["events"].sum()
