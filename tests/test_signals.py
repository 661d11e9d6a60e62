"""Planted usage and health signals are found in the sample data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vga import engine
from vga.analysis import usage
from vga.analysis.scores import scores_at
from vga.periods import parse_period

pytestmark = pytest.mark.slow


def test_usage_declines_about_four_months_before_churn(sample_data, truth):
    con = engine.connect()
    monthly = usage.monthly_usage(engine.as_table(con, sample_data.events_path()),
                                  sample_data.config["usage"]["core_features"]).to_pandas()
    renewals = sample_data.get("renewals")
    churn = renewals[renewals["arr_after"] == 0].groupby("account_id")["renewal_date"].min()
    m = monthly[monthly["account_id"].isin(churn.index)].copy()
    m["months_before"] = ((m["account_id"].map(churn).dt.to_period("M") - pd.to_datetime(m["month"]).dt.to_period("M"))
                          .map(lambda off: off.n))
    # Each churned account's usage relative to its own level 7-12 months before churn.
    base = m[m["months_before"].between(7, 12)].groupby("account_id")["events"].mean()
    m = m[m["account_id"].isin(base.index)]
    m["relative"] = m["events"] / m["account_id"].map(base)
    curve = m.groupby("months_before")["relative"].median()
    planted = truth["planted"]["usage_decline"]["months_before_churn"]
    assert curve.loc[planted + 2] > 0.85          # before the decline: level
    assert curve.loc[1] < 0.5                     # just before churn: well down
    onset = max(k for k in range(1, 8) if curve.loc[k] < 0.85)
    assert planted - 1 <= onset <= planted        # the decline starts about when planted
    # Renewed accounts show no such decline (nothing planted, nothing found).
    kept = monthly[~monthly["account_id"].isin(churn.index)]
    by_month = kept.groupby("month")["events"].median()
    assert by_month.iloc[-8:-1].min() > 0.8 * by_month.iloc[-14:-8].median()


def test_health_composite_recovers_the_planted_health_level(sample_data, sample_inputs, truth):
    p = parse_period(truth["period"])
    scores = scores_at(sample_inputs, p.as_of, sample_data.config, run_as_of=True)
    planted = truth["planted"]["health_composite"]["accounts"]
    mine = scores[scores["account_id"].isin(list(planted))]
    assert (mine["health_source"] == "composite").all()
    hs = sample_data.get("health_scores")
    covered = set(hs.loc[hs["as_of"] <= pd.Timestamp(p.as_of), "account_id"])
    assert (scores.loc[scores["account_id"].isin(covered), "health_source"] == "health_scores").all()
    scored = mine.dropna(subset=["health_score"])
    agreement = ((scored["health_score"] >= 50) == scored["account_id"].map(planted)).mean()
    assert agreement >= 0.8


def test_quadrants_csv_explains_every_movement(sample_run):
    q = pd.read_csv(sample_run / "results/quadrants.csv", dtype={"account_id": str}, keep_default_na=False)
    moved = q[q["moved"].astype(str).str.lower() == "true"]
    assert len(moved) > 0
    assert (moved["explanation"] != "").all()
    assert moved.apply(lambda r: r["explanation"].startswith(f"{r['previous_quadrant']} -> {r['quadrant']}"), axis=1).all()
    # The usage contributions add up to the usage change where every component was available both times.
    deltas = [c for c in q.columns if c.startswith("delta_usage_")]
    full = q[(q[deltas] != "").all(axis=1) & (q["usage_change"] != "")]
    total = full[deltas].astype(float).sum(axis=1)
    assert np.allclose(total, full["usage_change"].astype(float), atol=1e-9)
    # Scores come from events and health data, not precomputed columns.
    assert set(q["usage_source"]) == {"usage_events"}
    assert set(q["health_source"]) <= {"health_scores", "composite"}
