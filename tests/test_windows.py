"""Trailing-window totals found by search equal those found by joining
every row to every pair (the plain way, written out here), on generated
data with times on and around midnight, missing times and values, unknown
accounts and pairs without rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from vga.analysis.scores import _workflows_for_pairs, health_composite_pairs, tickets_for_pairs
from vga.analysis.windows import latest_values, still_open, window_totals
from vga.config import load_config

DAY0 = pd.Timestamp("2026-01-01")
#: Offsets from a midnight that sit on the window's edges and just inside and outside them.
EDGES = [pd.Timedelta(0), pd.Timedelta(nanoseconds=1), pd.Timedelta(seconds=1), pd.Timedelta(hours=12),
         pd.Timedelta(days=1) - pd.Timedelta(nanoseconds=1), pd.Timedelta(days=1) - pd.Timedelta(seconds=1)]


@st.composite
def rows_and_pairs(draw):
    accounts = ["a", "b", "c"]
    n = draw(st.integers(0, 40))
    times = [DAY0 + pd.Timedelta(days=draw(st.integers(0, 20))) + draw(st.sampled_from(EDGES)) for _ in range(n)]
    for i in draw(st.lists(st.integers(0, max(n - 1, 0)), max_size=3)) if n else []:
        times[i] = pd.NaT
    frame = pd.DataFrame({
        "account_id": [draw(st.sampled_from(accounts + ["z"])) for _ in range(n)],
        "at": pd.to_datetime(pd.Series(times, dtype="datetime64[ns]")),
        "value": [draw(st.one_of(st.none(), st.integers(0, 10), st.floats(0, 10, allow_nan=False))) for _ in range(n)],
    })
    frame["value"] = frame["value"].astype(float)
    m = draw(st.integers(1, 15))
    pairs = pd.DataFrame({"account_id": [draw(st.sampled_from(accounts + ["q"])) for _ in range(m)],
                          "day": [DAY0 + pd.Timedelta(days=draw(st.integers(-2, 24))) for _ in range(m)]})
    return frame, pairs, draw(st.integers(1, 10))


def plain(frame, pairs, days):
    """Per pair, by a loop over the rows: count, sum and number of non-missing values."""
    out = []
    for account, day in zip(pairs["account_id"], pairs["day"]):
        end = pd.Timestamp(day).normalize() + pd.Timedelta(days=1)
        hit = frame[(frame["account_id"] == account) & (frame["at"] >= end - pd.Timedelta(days=days)) & (frame["at"] < end)]
        out.append((len(hit), hit["value"].sum(), hit["value"].notna().sum()))
    return out


@settings(max_examples=150, deadline=None)
@given(rows_and_pairs())
def test_window_totals_equal_a_loop_over_the_rows(case):
    frame, pairs, days = case
    got = window_totals(frame, "at", pairs, days, {"value": frame["value"].to_numpy()})
    expected = plain(frame, pairs, days)
    if frame.empty:
        assert got is None
        return
    assert list(got["rows"]) == [e[0] for e in expected]
    assert list(got["value_n"]) == [e[2] for e in expected]
    assert np.allclose(got["value_sum"], [e[1] for e in expected], rtol=1e-12, atol=1e-12)


@st.composite
def runs_and_pairs(draw):
    """Runs of a few accounts: same-day, over days, longer than the window, never completed, without a start."""
    n = draw(st.integers(0, 30))
    starts = [DAY0 + pd.Timedelta(days=draw(st.integers(0, 30))) + draw(st.sampled_from(EDGES)) for _ in range(n)]
    lengths = [draw(st.sampled_from([pd.Timedelta(0), pd.Timedelta(hours=2), pd.Timedelta(days=1), pd.Timedelta(days=3),
                                     pd.Timedelta(days=12), pd.Timedelta(days=40), None])) for _ in range(n)]
    frame = pd.DataFrame({"account_id": [draw(st.sampled_from(["a", "b", "z"])) for _ in range(n)],
                          "started_at": pd.to_datetime(pd.Series(starts, dtype="datetime64[ns]"))})
    frame["completed_at"] = pd.to_datetime(pd.Series([s + d if d is not None else pd.NaT for s, d in zip(starts, lengths)],
                                                     dtype="datetime64[ns]"))
    if n and draw(st.booleans()):
        frame.loc[draw(st.integers(0, n - 1)), "started_at"] = pd.NaT
    m = draw(st.integers(1, 12))
    pairs = pd.DataFrame({"account_id": [draw(st.sampled_from(["a", "b", "q"])) for _ in range(m)],
                          "day": [DAY0 + pd.Timedelta(days=draw(st.integers(-2, 45))) for _ in range(m)]})
    return frame, pairs, draw(st.integers(1, 15))


@settings(max_examples=150, deadline=None)
@given(runs_and_pairs())
def test_runs_still_open_at_the_days_end_equal_a_loop_over_the_runs(case):
    frame, pairs, days = case
    expected = []
    for account, day in zip(pairs["account_id"], pairs["day"]):
        end = pd.Timestamp(day).normalize() + pd.Timedelta(days=1)
        r = frame[(frame["account_id"] == account) & frame["completed_at"].notna()]
        expected.append(int(((r["started_at"] >= end - pd.Timedelta(days=days)) & (r["started_at"] < end)
                             & (r["completed_at"] >= end)).sum()))
    assert list(still_open(frame, "started_at", "completed_at", pairs, days)) == expected


@st.composite
def scores_and_pairs(draw):
    """Health scores on days, at times on and around midnight, some on the same time, some without a score."""
    n = draw(st.integers(0, 30))
    frame = pd.DataFrame({
        "account_id": [draw(st.sampled_from(["a", "b", "z"])) for _ in range(n)],
        "as_of": pd.to_datetime(pd.Series([DAY0 + pd.Timedelta(days=draw(st.integers(0, 12))) + draw(st.sampled_from(EDGES))
                                           for _ in range(n)], dtype="datetime64[ns]")),
        "score": [draw(st.one_of(st.none(), st.integers(0, 100))) for _ in range(n)],
        "source_row": draw(st.permutations(list(range(n)))) if n else [],
    })
    frame["score"] = frame["score"].astype(float)
    m = draw(st.integers(1, 12))
    pairs = pd.DataFrame({"pair": range(m), "account_id": [draw(st.sampled_from(["a", "b", "q"])) for _ in range(m)],
                          "day": [DAY0 + pd.Timedelta(days=draw(st.integers(-2, 15))) for _ in range(m)]})
    return frame, pairs


@settings(max_examples=150, deadline=None)
@given(scores_and_pairs())
def test_latest_values_equal_an_as_of_merge(case):
    """The latest score on or before each pair's day, same-time rows in source-row order: as pandas' merge_asof finds it."""
    frame, pairs = case
    got = latest_values(frame, "as_of", "score", pairs, order=frame["source_row"].to_numpy())
    if frame.empty:
        assert np.isnan(got).all() and len(got) == len(pairs)
        return
    h = frame.sort_values(["as_of", "source_row"], kind="stable")
    left = pairs.assign(day=pd.to_datetime(pairs["day"]).astype("datetime64[ns]")).sort_values("day", kind="stable")
    merged = pd.merge_asof(left, h[["account_id", "as_of", "score"]], left_on="day", right_on="as_of",
                           by="account_id", direction="backward", allow_exact_matches=True)
    expected = merged.set_index("pair")["score"].reindex(pairs["pair"]).to_numpy(dtype=float)
    assert np.array_equal(got, expected, equal_nan=True)


def test_a_mask_counts_only_its_rows_and_pairs_keep_their_index():
    frame = pd.DataFrame({"account_id": ["a", "a", "a"], "at": pd.to_datetime(["2026-01-02", "2026-01-03", "2026-01-09"]),
                          "kind": ["nps", "csat", "nps"]})
    pairs = pd.DataFrame({"account_id": ["a", "a"], "day": pd.to_datetime(["2026-01-03", "2026-01-09"])}, index=[7, 3])
    got = window_totals(frame, "at", pairs, 3, rows=(frame["kind"] == "nps").to_numpy())
    assert list(got.index) == [7, 3] and list(got["rows"]) == [1, 1]
    assert list(window_totals(frame, "at", pairs, 8)["rows"]) == [2, 3]


def _old_recent(frame, column, pairs, days):
    m = frame.merge(pairs[["pair", "account_id", "day"]], on="account_id")
    end = m["day"] + pd.Timedelta(days=1)
    return m[(m[column] >= end - pd.Timedelta(days=int(days))) & (m[column] < end)]


def test_health_composite_tickets_and_workflows_by_pair_equal_the_plain_join(sample_data):
    """On the sample's own surveys, tickets, touchpoints and workflow runs, at 600 pairs."""
    rng = np.random.default_rng(3)
    accounts = sample_data.get("accounts")["account_id"].to_numpy()
    pairs = pd.DataFrame({"pair": np.arange(600), "account_id": rng.choice(accounts[:80], 600),
                          "day": pd.Timestamp("2025-06-01") + pd.to_timedelta(rng.integers(0, 500, 600), unit="D")})
    surveys, tickets, touch = (sample_data.get(t) for t in ("surveys", "support_tickets", "touchpoints"))
    config = load_config()
    got = health_composite_pairs(surveys, tickets, touch, pairs, config).set_index("pair")
    ages = config["health"]["max_age_days"]
    s = _old_recent(surveys, "responded_at", pairs, ages["nps"])
    nps = s[s["kind"] == "nps"].groupby("pair")["score"].mean() * 10
    assert np.allclose(got["health_nps"], nps.reindex(got.index), equal_nan=True, rtol=1e-12)
    t = _old_recent(tickets, "opened_at", pairs, ages["support"])
    penalty = (10 + 15 * t["escalated"].fillna(False).astype(bool).astype(int)
               + 10 * t["priority"].isin(["high", "urgent"]).astype(int)).groupby(t["pair"]).sum()
    assert np.allclose(got["health_support"], (100 - penalty.reindex(got.index).fillna(0)).clip(lower=0))
    tp = _old_recent(touch, "occurred_at", pairs, ages["touchpoints"])
    tp = tp[tp["sentiment"].notna()]
    balance = 50 + 50 * tp.assign(v=tp["sentiment"].map({"positive": 1, "neutral": 0, "negative": -1})).groupby("pair")["v"].mean()
    assert np.allclose(got["health_touchpoints"], balance.reindex(got.index), equal_nan=True, rtol=1e-12)
    assert got["health_nps"].notna().sum() > 50 and got["health_touchpoints"].notna().sum() > 50  # the test sees data

    counts = tickets_for_pairs(tickets, pairs, 90)
    joined = _old_recent(tickets, "opened_at", pairs, 90).groupby("pair").size()
    assert list(counts) == list(joined.reindex(pairs["pair"]).fillna(0)) and counts.sum() > 0

    runs = sample_data.get("workflow_runs")
    # Plant runs still open at the end of a pair's day: started on it, completed days later.
    first = pairs.iloc[0]
    runs = pd.concat([runs, pd.DataFrame({"account_id": [first["account_id"]] * 2,
                                          "started_at": [first["day"] + pd.Timedelta(hours=23)] * 2,
                                          "completed_at": [first["day"] + pd.Timedelta(days=3), pd.NaT]})],
                     ignore_index=True)
    mine = _workflows_for_pairs(runs, pairs).set_index("account_id")
    m = runs[["account_id", "started_at", "completed_at"]].merge(pairs, on="account_id")
    end = m["day"] + pd.Timedelta(days=1)
    m = m[(m["started_at"] >= end - pd.Timedelta(days=90)) & (m["started_at"] < end)]
    done = m["completed_at"].notna() & (m["completed_at"] < end[m.index])
    old = m.assign(done=done).groupby("pair").agg(runs_started=("done", "size"), runs_completed=("done", "sum"))
    old.index = old.index.astype(str)
    assert list(mine.index) == list(old.index)
    assert (mine["runs_started"] == old["runs_started"]).all() and (mine["runs_completed"] == old["runs_completed"]).all()
    assert mine.loc["0", "runs_started"] - mine.loc["0", "runs_completed"] >= 2  # the planted open runs
