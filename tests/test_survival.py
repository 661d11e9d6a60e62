"""Survival: the subjects rule, agreement with a second implementation
(lifelines), the planted effects, and honesty about small samples."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from vga.analysis import survival as sv
from vga.periods import parse_period
from vga.run import pipeline
from vga.nodes import survival as survival_step


def test_subjects_follow_the_definition():
    accounts = pd.DataFrame({
        "account_id": ["a", "b", "c", "d", "e"],
        "contract_start": pd.to_datetime(["2024-01-01", "2024-01-01", "2025-01-01", None, "2023-06-01"]),
    })
    renewals = pd.DataFrame({
        "account_id": ["a", "a", "b", "e", "e"],
        # a churns twice: the first row with ARR 0 counts; b's 0 row is before its start;
        # e's 0 row is after the as-of date.
        "renewal_date": pd.to_datetime(["2024-03-01", "2024-06-01", "2023-12-01", "2024-05-01", "2025-02-01"]),
        "arr_before": [10.0, 5.0, 10.0, 10.0, 12.0],
        "arr_after": [0.0, 0.0, 0.0, 12.0, 0.0],
    })
    subjects, left_out = sv.survival_subjects(accounts, renewals, date(2024, 12, 31))
    assert left_out == ["c", "d"]
    got = subjects.set_index("account_id")[["duration_days", "churned"]]
    assert got.loc["a"].tolist() == [60.0, True]  # 2024-01-01 -> 2024-03-01
    assert got.loc["b"].tolist() == [365.0, False]  # censored at the as-of date
    assert got.loc["e"].tolist() == [579.0, False]


def _random_subjects(seed: int, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    group = rng.choice(["big", "mid", "small"], n, p=[0.5, 0.3, 0.2])
    scale = np.where(group == "small", 300.0, 600.0)
    # Continuous, distinct times: Breslow and Efron tie handling then agree exactly.
    event_time, censor_time = rng.exponential(scale), rng.uniform(50, 900, n)
    return pd.DataFrame({"account_id": [f"a{i}" for i in range(n)], "segment": group,
                         "duration_days": np.minimum(event_time, censor_time), "churned": event_time <= censor_time})


@pytest.mark.parametrize("seed", [1, 2])
def test_kaplan_meier_logrank_and_cox_agree_with_lifelines(seed):
    lifelines = pytest.importorskip("lifelines", reason="lifelines is installed by tasks.py for the tests")
    from lifelines.statistics import multivariate_logrank_test

    subjects = _random_subjects(seed)
    curves = sv.survival_curves(subjects, ["segment"], min_accounts=10)
    for (dim, group), curve in curves.groupby(["dimension", "group"]):
        part = subjects if dim == "all" else subjects[subjects["segment"] == group]
        fit = lifelines.KaplanMeierFitter().fit(part["duration_days"], part["churned"])
        times = curve["time_days"].to_numpy()
        assert np.allclose(curve["survival"], fit.survival_function_.loc[times].iloc[:, 0], atol=1e-6, rtol=0)
        ci = fit.confidence_interval_.loc[times].to_numpy()
        inside = curve["ci_lower"].notna().to_numpy()
        assert inside.sum() > 10
        assert np.allclose(curve["ci_lower"][inside], ci[inside, 0], atol=1e-6, rtol=0)
        assert np.allclose(curve["ci_upper"][inside], ci[inside, 1], atol=1e-6, rtol=0)
        assert (curve["at_risk"].diff().dropna() <= 0).all()

    tests = sv.logrank_tests(subjects, ["segment"], min_accounts=10)
    other = multivariate_logrank_test(subjects["duration_days"], subjects["segment"], subjects["churned"])
    assert tests.loc[0, "statistic"] == pytest.approx(other.test_statistic, abs=1e-6)
    assert tests.loc[0, "p_value"] == pytest.approx(other.p_value, abs=1e-6)

    design = sv.cox_design(subjects, ["segment"], min_accounts=10)
    assert list(design.columns) == ["segment[mid]", "segment[small]"]  # against the largest group
    cox, reason = sv.cox_model(subjects, design)
    assert reason is None
    frame = pd.concat([subjects[["duration_days", "churned"]], design], axis=1)
    # lifelines stops its Newton steps early by default; at full precision both agree.
    ref = lifelines.CoxPHFitter().fit(frame, "duration_days", "churned", fit_options={"precision": 1e-12}).summary
    for _, row in cox.iterrows():
        assert row["hazard_ratio"] == pytest.approx(ref.loc[row["term"], "exp(coef)"], rel=1e-6)
        assert row["ci_lower"] == pytest.approx(ref.loc[row["term"], "exp(coef) lower 95%"], rel=1e-6)
        assert row["ci_upper"] == pytest.approx(ref.loc[row["term"], "exp(coef) upper 95%"], rel=1e-6)
        assert row["p_value"] == pytest.approx(ref.loc[row["term"], "p"], abs=1e-6)
    assert set(cox["subjects"]) == {len(subjects)} and set(cox["events"]) == {int(subjects["churned"].sum())}


def test_the_planted_milestone_and_region_shorten_survival(sample_inputs, truth):
    from vga.config import DEFAULTS

    settings = json.loads(json.dumps(DEFAULTS))
    out = survival_step.compute(pipeline.context(sample_inputs, parse_period("2026Q3"), settings), {})
    cox = out["cox.csv"].set_index("term")
    milestone = truth["planted"]["onboarding_milestone"]["milestone"]
    planted = cox.loc[f"milestone_missed[{milestone}]"]
    assert planted["hazard_ratio"] > 1 and planted["ci_lower"] > 1
    assert out["survival.json"]["cox_q_values"][f"milestone_missed[{milestone}]"] < 0.05
    # The other milestones carry no planted effect: none is flagged as raising churn.
    others = [t for t in cox.index if t.startswith("milestone_missed[") and milestone not in t]
    assert others and all(cox.loc[t, "ci_lower"] <= 1 for t in others)
    tests = out["survival_tests.csv"].set_index("dimension")
    assert tests.loc["region", "p_value"] < 0.05 and tests.loc["segment", "p_value"] > 0.05


def test_too_few_events_are_said_not_fitted():
    subjects = _random_subjects(3, n=60)
    subjects["churned"] = False
    subjects.loc[:4, "churned"] = True
    cox, reason = sv.cox_model(subjects, sv.cox_design(subjects, ["segment"], min_accounts=10))
    assert cox.empty and "only 5 churned account(s) among 60" in reason
    none_churned = subjects.assign(churned=False)
    assert sv.kaplan_meier(none_churned["duration_days"], none_churned["churned"]).empty
    assert sv.logrank_tests(none_churned, ["segment"], 10).empty


def test_a_group_no_one_left_is_said_instead_of_an_infinite_hazard_ratio():
    """No account of 'small' churned: its hazard ratio has no finite
    estimate. The model says so instead of publishing 0 and infinity."""
    subjects = _random_subjects(4, n=300)
    subjects.loc[subjects["segment"] == "small", "churned"] = False
    design = sv.cox_design(subjects, ["segment"], min_accounts=10)
    cox, reason = sv.cox_model(subjects, design)
    assert cox.empty and "did not converge" in reason and "(" + str(int(subjects["churned"].sum())) + " churned)" in reason
    # Where every group has churned accounts the same call fits, with finite intervals.
    fitted, none = sv.cox_model(_random_subjects(4, n=300), design)
    assert none is None and len(fitted) == 2 and np.isfinite(fitted[["ci_lower", "ci_upper"]].to_numpy(float)).all()
