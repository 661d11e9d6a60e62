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


def test_a_group_no_one_left_is_counted_with_the_reference_not_an_infinite_hazard_ratio():
    """No account of 'small' churned: its hazard ratio has no finite
    estimate. The design counts it with the reference group (and says so)
    instead of making the fit fail; given its indicator anyway, the model
    says it did not converge instead of publishing 0 and infinity."""
    subjects = _random_subjects(4, n=300)
    subjects.loc[subjects["segment"] == "small", "churned"] = False
    design = sv.cox_design(subjects, ["segment"], min_accounts=10)
    assert list(design.columns) == ["segment[mid]"]
    groups = sv.cox_groups(subjects, ["segment"], min_accounts=10)["segment"]
    assert groups.reference == "big" and groups.terms == ("mid",) and groups.pooled == 0
    assert groups.merged == (("small", int((subjects["segment"] == "small").sum())),)
    cox, reason = sv.cox_model(subjects, design)
    assert reason is None and list(cox["term"]) == ["segment[mid]"]
    forced = design.assign(**{"segment[small]": (subjects["segment"] == "small").astype(float)})
    cox, reason = sv.cox_model(subjects, forced)
    assert cox.empty and "did not converge" in reason and "(" + str(int(subjects["churned"].sum())) + " churned)" in reason
    # Where every group has churned accounts the same call fits, with finite intervals.
    fitted, none = sv.cox_model(_random_subjects(4, n=300), forced)
    assert none is None and len(fitted) == 2 and np.isfinite(fitted[["ci_lower", "ci_upper"]].to_numpy(float)).all()


def _many_valued(n: int = 10_000, values: int = 700, seed: int = 5) -> tuple[pd.DataFrame, list[str]]:
    """Subjects with an ``agent`` column of ``values`` values of very
    different sizes (a few hundred accounts down to one; every value used),
    and the values largest first (ties by name). No account of the third
    largest churned."""
    rng = np.random.default_rng(seed)
    names = np.array([f"ag{i:03d}" for i in range(values)])
    weight = 1 / np.arange(1, values + 1) ** 0.6
    agent = np.concatenate([names, rng.choice(names, n - values, p=weight / weight.sum())])
    event_time, censor_time = rng.exponential(900.0, n), rng.uniform(50, 1500, n)
    subjects = pd.DataFrame({"account_id": [f"a{i}" for i in range(n)], "agent": agent,
                             "duration_days": np.minimum(event_time, censor_time),
                             "churned": event_time <= censor_time})
    sizes = subjects["agent"].value_counts()
    order = sorted(sizes.index, key=lambda g: (-sizes[g], g))
    subjects.loc[subjects["agent"] == order[2], "churned"] = False
    return subjects, order


def test_a_dimension_of_700_values_pools_its_tail_and_the_cox_model_converges():
    """The issue's company: a slicing column of 700 values put every value in
    the Cox model as an indicator; the fit ran for minutes and did not
    converge. Now its 10 largest groups stay apart (the largest the
    reference), the other 690 values are one group, agent[(other)], and the
    group without a churned account is counted with the reference."""
    subjects, order = _many_valued()
    groups = sv.cox_groups(subjects, ["agent"], min_accounts=10, max_groups=10)["agent"]
    assert (groups.values, groups.kept, groups.pooled, groups.reference) == (700, 10, 690, order[0])
    no_event = order[2]
    assert groups.merged == ((no_event, int((subjects["agent"] == no_event).sum())),)
    design = sv.cox_design(subjects, ["agent"], min_accounts=10, max_groups=10)
    terms = list(design.columns)
    assert len(terms) <= 10 + 1 and "agent[(other)]" in terms and f"agent[{no_event}]" not in terms
    assert terms == [f"agent[{g}]" for g in order[1:10] if g != no_event] + ["agent[(other)]"]
    assert (design["agent[(other)]"] == (~subjects["agent"].isin(order[:10])).astype(float)).all()
    assert sv.cox_reference(subjects, ["agent"], 10, 10) == {"agent": order[0]}
    cox, reason = sv.cox_model(subjects, design)
    assert reason is None, reason
    assert list(cox["term"]) == terms
    assert np.isfinite(cox[["hazard_ratio", "ci_lower", "ci_upper"]].to_numpy(float)).all()
    # A dimension with at most max_groups groups is as before: every group apart, none pooled.
    few = sv.cox_groups(subjects, ["agent"], min_accounts=10, max_groups=1000)["agent"]
    assert few.pooled == 0 and len(few.terms) == len(sv.groups_tested(subjects, "agent", 10)) - 2


def test_curves_and_log_rank_on_700_values_match_statsmodels():
    """Every group with at least min_accounts subjects keeps its curve and
    its place in the log-rank test; the test's figures are survdiff's."""
    from statsmodels.duration.survfunc import survdiff

    subjects, order = _many_valued()
    tested = sv.groups_tested(subjects, "agent", 10)
    assert tested == [g for g in order if (subjects["agent"] == g).sum() >= 10] and 100 < len(tested) < 700
    curves = sv.survival_curves(subjects, ["agent"], min_accounts=10)
    shown = [g for g in tested if subjects.loc[subjects["agent"] == g, "churned"].any()]
    assert list(dict.fromkeys(curves.loc[curves["dimension"] == "agent", "group"])) == shown
    for group in shown[:3] + shown[-3:]:
        part = subjects[subjects["agent"] == group]
        one = sv.kaplan_meier(part["duration_days"], part["churned"])
        got = curves[(curves["dimension"] == "agent") & (curves["group"] == group)].reset_index(drop=True)
        pd.testing.assert_frame_equal(got[one.columns], one, check_dtype=False)
    tests = sv.logrank_tests(subjects, ["agent"], min_accounts=10)
    part = subjects[subjects["agent"].isin(tested)]
    statistic, p_value = survdiff(part["duration_days"].to_numpy(float), part["churned"].to_numpy(float),
                                  part["agent"].to_numpy())
    assert tests.loc[0, "groups"] == len(tested)
    assert tests.loc[0, "statistic"] == pytest.approx(statistic, rel=1e-9)
    assert tests.loc[0, "p_value"] == pytest.approx(p_value, rel=1e-6, abs=1e-12)
    at_risk = sv.at_risk_counts(subjects, ["agent"], min_accounts=10)
    row = next(r for r in at_risk["rows"] if r["group"] == order[0])
    durations = subjects.loc[subjects["agent"] == order[0], "duration_days"]
    assert row["counts"] == [int((durations >= t).sum()) for t in at_risk["times"]]


def _company(subjects: pd.DataFrame, as_of: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """accounts and renewals whose survival subjects are ``subjects`` (days rounded up)."""
    days = np.ceil(subjects["duration_days"].to_numpy()).astype(int)
    start = pd.Timestamp(as_of) - pd.to_timedelta(np.ceil(subjects["duration_days"] * 1.5 + 1).astype(int), unit="D")
    accounts = pd.DataFrame({"account_id": subjects["account_id"], "arr": 1000.0, "contract_start": start,
                             "agent": subjects["agent"]})
    lost = subjects["churned"].to_numpy()
    renewals = pd.DataFrame({"account_id": subjects["account_id"][lost],
                             "renewal_date": (start + pd.to_timedelta(days, unit="D"))[lost],
                             "arr_before": 1000.0, "arr_after": 0.0})
    return accounts, renewals


@pytest.mark.parametrize("max_groups", [10, 4])
def test_the_step_says_what_the_cox_model_pooled_and_merged(max_groups):
    from vga.config import DEFAULTS
    from vga.inputs import Inputs
    from vga.present import View, chapters
    from vga.present.churned_customers import cox_grouping_sentences, survival_drivers

    subjects, order = _many_valued()
    period = parse_period("2026Q3")
    accounts, renewals = _company(subjects, period.as_of)
    settings = json.loads(json.dumps(DEFAULTS))
    settings["analysis"].update(slicing_dimensions=["agent"], cox_max_groups=max_groups)
    out = survival_step.compute(pipeline.context(Inputs.from_frames(accounts=accounts, renewals=renewals), period,
                                                 settings), {})
    facts, cox = out["survival.json"], out["cox.csv"]
    assert facts["reason"] is None and facts["cox_reason"] is None, facts
    assert facts["cox_pooled"] == [{"dimension": "agent", "values": 700, "kept": max_groups, "pooled": 700 - max_groups,
                                    "term": "agent[(other)]"}]
    assert list(cox["term"]) == [f"agent[{g}]" for g in order[1:max_groups] if g != order[2]] + ["agent[(other)]"]
    assert facts["cox_reference"] == {"agent": order[0]}
    sentences = cox_grouping_sentences(facts)
    assert sentences[0] == (f"agent has 700 values: the Cox model takes its {max_groups} largest and pools the other "
                            f"{700 - max_groups} as agent[(other)].")
    assert sentences[1:] == [f"agent[{order[2]}] had no churned account and is counted with the reference group "
                             f"(agent {order[0]})."]
    view = View(chapters()["churned_customers"], period, settings, out, "computed")
    shown = survival_drivers(view).body
    assert all(f'<p class="vga-finding">{s}</p>' in shown for s in sentences)
    assert len(out["survival_tests.csv"]) == 1 and out["survival_tests.csv"].loc[0, "groups"] > 100


@pytest.mark.parametrize("value", [0, -3, 101, 2.5, "ten", True])
def test_cox_max_groups_is_a_whole_number_of_groups(tmp_path, value):
    from vga.config import load_config
    from vga.errors import UsageError
    from vga.settings import Settings

    (tmp_path / "vga.toml").write_text(f"[analysis]\ncox_max_groups = {json.dumps(value)}\n")
    with pytest.raises(UsageError, match=r"\[analysis\] cox_max_groups = .*whole number of groups from 1 to 100"):
        load_config(tmp_path / "vga.toml")
    (tmp_path / "vga.toml").write_text("[analysis]\ncox_max_groups = 25\n")
    assert Settings.parse(load_config(tmp_path / "vga.toml")).analysis.cox_max_groups == 25
    assert Settings.parse(load_config(None)).analysis.cox_max_groups == 10
