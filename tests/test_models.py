"""Renewal and expansion probability: the pieces against independent
computations, the planted expansion feature found, the out-of-time
validation's bookkeeping, and too few events said instead of fitted."""

from __future__ import annotations

from itertools import product

import numpy as np
import pandas as pd
import pytest

from vga.analysis import models


def test_auc_is_the_chance_a_positive_outranks_a_negative():
    rng = np.random.default_rng(4)
    y = rng.random(300) < 0.3
    p = np.round(rng.random(300) + 0.3 * y, 2)  # rounded: ties happen and count half
    pairs = [(a, b) for a, b in product(p[y], p[~y])]
    brute = sum(1.0 if a > b else 0.5 if a == b else 0.0 for a, b in pairs) / len(pairs)
    assert models.auc(y, p) == pytest.approx(brute, abs=1e-12)
    assert np.isnan(models.auc(np.ones(5, bool), p[:5]))


def test_calibration_bins_cover_every_decision_once():
    rng = np.random.default_rng(5)
    p = rng.random(137)
    y = (rng.random(137) < p).astype(float)
    bins = models.calibration(y, p)
    assert len(bins) == 10 and sum(b["n"] for b in bins) == 137
    assert [b["predicted"] for b in bins] == sorted(b["predicted"] for b in bins)
    order = np.argsort(p, kind="stable")
    first = order[: bins[0]["n"]]
    assert bins[0]["predicted"] == pytest.approx(p[first].mean()) and bins[0]["observed"] == pytest.approx(y[first].mean())
    assert len(models.calibration(y[:25], p[:25])) == 2  # at least 10 decisions a bin


def test_cutoff_keeps_ties_together_and_leaves_newer_decisions():
    dates = pd.Series(pd.to_datetime(["2025-01-01"] * 4 + ["2025-02-01"] * 3 + ["2025-03-01"] * 3))
    cut = models.cutoff_date(dates, 0.3)
    assert str(cut) == "2025-02-01"  # 7 of 10 on or before it
    cut = models.cutoff_date(dates, 0.5)  # the 5th decision is inside the February tie: cut before it
    assert str(cut) == "2025-01-01"
    assert models.cutoff_date(pd.Series(pd.to_datetime(["2025-01-01"] * 5)), 0.3) is None


def test_odds_ratios_agree_with_a_second_fit(sample_outputs):
    """The formula-API logit against statsmodels' GLM (binomial), fitted apart."""
    import statsmodels.api as sm

    decisions = sample_outputs["decisions.csv"].reset_index(drop=True)
    data = models.renewal_features(decisions, 90)
    data["kept"] = (decisions["outcome"] != "churned").astype(float)
    terms = list(models.RENEWAL_TERMS)
    result, rows, reason = models.fit_logit(data, "kept", terms)
    assert reason is None
    glm = sm.GLM(rows["kept"], sm.add_constant(rows[terms]), family=sm.families.Binomial()).fit()
    table = models.term_table(result, "renewal", models.RENEWAL_TERMS, 1 - rows["kept"]).set_index("term")
    ci = glm.conf_int()
    for term in terms:
        assert table.loc[term, "odds_ratio"] == pytest.approx(np.exp(glm.params[term]), rel=1e-6)
        assert table.loc[term, "ci_lower"] == pytest.approx(np.exp(ci.loc[term, 0]), rel=1e-6)
        assert table.loc[term, "ci_upper"] == pytest.approx(np.exp(ci.loc[term, 1]), rel=1e-6)
    shown = sample_outputs["model_terms.csv"]
    renewal = shown[shown["model"] == "renewal"].set_index("term")
    assert renewal.loc["health_per_10", "odds_ratio"] == pytest.approx(np.exp(glm.params["health_per_10"]), rel=1e-6)
    assert set(renewal["n"]) == {len(rows)} and set(renewal["events"]) == {int((rows["kept"] == 0).sum())}


def test_the_planted_expansion_feature_raises_the_odds_to_expand(sample_outputs, truth):
    terms = sample_outputs["model_terms.csv"]
    expansion = terms[terms["model"] == "expansion"].set_index("term")
    feature = f"uses_{truth['planted']['expansion_feature']['feature']}"
    planted = expansion.loc[feature]
    assert planted["odds_ratio"] > 2 and planted["ci_lower"] > 1 and planted["flagged"]
    # the other features carry no planted effect: none is flagged
    others = expansion[expansion.index.str.startswith("uses_") & (expansion.index != feature)]
    assert len(others) >= 5 and not others["flagged"].any()


def test_out_of_time_validation_counts_and_scores(sample_outputs):
    v = sample_outputs["model_validation.json"]
    decisions = sample_outputs["decisions.csv"]
    complete = models.renewal_features(decisions, 90).dropna()
    assert v["n_train"] + v["n_test"] == len(complete)
    older = pd.to_datetime(decisions.loc[complete.index, "decision_date"]) <= pd.Timestamp(v["cutoff_date"])
    churned = decisions.loc[complete.index, "outcome"] == "churned"
    assert (v["n_train"], v["events_train"]) == (int(older.sum()), int((older & churned).sum()))
    assert (v["n_test"], v["events_test"]) == (int((~older).sum()), int((~older & churned).sum()))
    assert 0.3 <= v["n_test"] / len(complete) < 0.33  # ties stay on the newer side
    base = 1 - (older & churned).sum() / older.sum()
    kept = (~churned[~older]).astype(float)
    assert v["brier_base_rate"] == pytest.approx(float(((base - kept) ** 2).mean()), rel=1e-9)
    # better than chance on the sample (health and usage are planted through the quadrants)
    assert 0.5 < v["auc"] < 1 and sum(b["n"] for b in v["calibration"]) == v["n_test"]
    assert v["expansion"]["auc"] > 0.6  # automations separates expansion out of time too


def test_every_active_account_gets_a_probability_and_its_drivers(sample_outputs, sample_inputs):
    scores = sample_outputs["renewal_scores.csv"]
    quadrants = sample_outputs["quadrants.csv"]
    assert list(scores.columns[:4]) == ["account_id", "next_decision_date", "renewal_probability", "top_drivers"]
    assert sorted(scores["account_id"]) == sorted(quadrants["account_id"])  # one row per active account
    assert scores["renewal_probability"].between(0, 1).all() and scores["renewal_probability"].notna().all()
    assert scores["renewal_probability"].is_monotonic_increasing  # least likely first
    low = scores.iloc[0]
    assert "health score" in low["top_drivers"] and "typical" in low["top_drivers"]
    accounts = sample_inputs.table("accounts").set_index("account_id")
    nxt = pd.to_datetime(scores.set_index("account_id")["next_decision_date"])
    given = pd.to_datetime(accounts.loc[nxt.index, "renewal_date"])
    assert (nxt.isna() == given.isna()).all() and (nxt.dropna() == given.dropna()).all()


def test_drivers_name_what_lowers_the_probability():
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"health_per_10": rng.random(400) * 10, "tickets": rng.poisson(2, 400).astype(float)})
    odds = np.exp(-1 + 0.5 * frame["health_per_10"] - 0.4 * frame["tickets"])
    frame["kept"] = (rng.random(400) < odds / (1 + odds)).astype(float)
    result, _, reason = models.fit_logit(frame, "kept", ["health_per_10", "tickets"])
    assert reason is None and result.params["health_per_10"] > 0 > result.params["tickets"]
    rows = pd.DataFrame({"health_per_10": [2.0, 9.0, 1.0], "tickets": [np.nan, 0.0, 9.0]})
    words = models.drivers_in_words(result, rows, models.RENEWAL_TERMS, models.describe_renewal_term)
    assert words[0].startswith("health score 20 (typical") and "not known, so taken as typical: support tickets" in words[0]
    assert words[1].startswith("nothing lowers it")  # healthy, no tickets
    assert words[2].startswith("9 support tickets") and "health score 10" in words[2]  # the larger pull first
    p = models.predict(result, rows)
    assert p[1] > p[0] > p[2]


def test_too_few_events_are_said_not_fitted():
    rng = np.random.default_rng(1)
    data = pd.DataFrame({"health_per_10": rng.random(200) * 10, "usage_per_10": rng.random(200) * 10,
                         "tickets": rng.integers(0, 5, 200).astype(float), "log2_arr": rng.random(200) + 10})
    data["kept"] = 1.0
    data.loc[:6, "kept"] = 0.0  # 7 churned decisions: fewer than 10 per term
    terms, reason = models.usable_terms(data, list(models.RENEWAL_TERMS), "kept", 10)
    assert terms == [] and "only 7 decision(s) of the rarer outcome among 200" in reason
    data.loc[:24, "kept"] = 0.0  # 25 churned: two terms allowed, the first two kept
    terms, note = models.usable_terms(data, list(models.RENEWAL_TERMS), "kept", 10)
    assert terms == ["health_per_10", "usage_per_10"] and "2 term(s) left out" in note


def test_a_run_with_too_few_decisions_says_so_in_every_model_output():
    from vga.config import DEFAULTS
    from vga.periods import parse_period
    from vga.nodes import renewal_model
    from vga.run import pipeline

    decisions = pd.DataFrame({"account_id": ["a", "b", "c"], "decision_date": pd.to_datetime(["2026-01-01"] * 3),
                              "outcome": ["churned", "renewed", "renewed"],
                              **{f"{s}_d90": [50.0, 60.0, 70.0] for s in ("health_score", "usage_score", "tickets",
                                                                           "arr")}})

    class Inputs:
        events = None
        sources = pd.DataFrame()

        def table(self, name):
            if name == "accounts":
                return pd.DataFrame({"account_id": ["a", "b", "c"], "arr": [1.0, 2.0, 3.0]})
            return None

    out = renewal_model.compute(pipeline.context(Inputs(), parse_period("2026Q3"), DEFAULTS),
                                {"decisions.csv": decisions, "churned_customers.json": {"reason": None}})
    v = out["model_validation.json"]
    assert v["auc"] is None and v["brier"] is None and "too few for a model" in v["reason"]
    assert out["model_terms.csv"] is None
    scores = out["renewal_scores.csv"]
    assert scores["renewal_probability"].isna().all() and (scores["top_drivers"].str.contains("too few")).all()
