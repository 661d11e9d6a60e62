"""Money at risk, the "Do first" gate, the expansion drivers and the retention story."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from vga.analysis import money_at_risk as mar
from vga.analysis.retention import (arr_bridge, cohort_figures, cohort_table, retention_by_slice, retention_summary, retention_trend)


def units(starts, ends):
    return mar.loss_units(pd.Series(starts, dtype=float), pd.Series(ends, dtype=float))


def test_loss_units_count_churn_and_contraction_never_growth():
    u = units([100, 100, 100, 100], [0, 60, 100, 150])
    assert list(u["lost"]) == [100, 40, 0, 0] and list(u["churned"]) == [True, False, False, False]


def test_money_at_risk_by_hand():
    # Exposed: 4 accounts of 100, one churned and one shrank by 20: loss rate 120 / 400 = 0.30.
    exposed = units([100] * 4, [0, 80, 100, 130])
    # Reference: 10 accounts of 100, one churned: loss rate 0.10.
    reference = units([100] * 10, [0] + [100] * 9)
    out = mar.money_at_risk(exposed, reference, exposed_arr_now=1000.0)
    assert out["exposed_loss_rate"] == pytest.approx(0.30) and out["reference_loss_rate"] == pytest.approx(0.10)
    assert out["excess_loss_rate"] == pytest.approx(0.20)
    assert out["arr_kept"] == pytest.approx(400 * 0.20)  # the exposed started with 400
    assert out["money_at_risk"] == pytest.approx(1000 * 0.20)
    assert out["exposed_churn_rate"] == 0.25 and out["reference_churn_rate"] == 0.10
    assert out["money_at_risk_low"] < out["money_at_risk"] < out["money_at_risk_high"]
    assert out["arr_kept_low"] < out["arr_kept"] < out["arr_kept_high"]
    again = mar.money_at_risk(exposed, reference, exposed_arr_now=1000.0)
    assert again == out  # a fixed seed: a run is reproducible


def test_no_gap_gives_an_interval_around_zero():
    rng = np.random.default_rng(1)
    starts = rng.uniform(1_000, 50_000, 600)
    ends = np.where(rng.random(600) < 0.15, 0.0, starts)
    u = units(starts, ends)
    out = mar.money_at_risk(u.iloc[:300], u.iloc[300:], exposed_arr_now=1e6)
    assert out["money_at_risk_low"] < 0 < out["money_at_risk_high"]


def test_empty_groups_give_no_money():
    out = mar.money_at_risk(units([], []), units([100], [0]), 50.0)
    assert np.isnan(out["money_at_risk"]) and out["exposed_units"] == 0 and out["reference_units"] == 1


@pytest.mark.parametrize("exposed, reference, expected", [
    (0.20, 0.14, True),    # 6 points
    (0.06, 0.04, True),    # 2 points but a ratio of 1.5
    (0.105, 0.10, False),  # half a point, ratio 1.05
    (0.10, 0.20, False),   # churns less: never a gap to act on
    (0.05, 0.0, True),     # any churn against none
    (float("nan"), 0.1, False),
])
def test_large_enough(exposed, reference, expected):
    assert mar.large_enough(exposed, reference, 5.0, 1.25) is expected


def test_expansion_drivers_follow_from_the_shares():
    # 200 expanded decisions, 150 with the behaviour; 800 flat renewals, 200 with it.
    behaviours = pd.DataFrame({"comparison": ["expanded vs renewed"] * 2 + ["retained vs churned"],
                               "measure": ["uses_automations", "uses_alerts", "uses_api"], "kind": "share",
                               "first_n": [200, 200, 100], "first_value": [0.75, 0.30, 0.9],
                               "second_n": [800, 800, 50], "second_value": [0.25, 0.10, 0.1],
                               "difference": [0.5, 0.2, 0.8], "q_value": [0.001, 0.01, 0.001],
                               "flagged": [True, True, True]})
    out = mar.expansion_drivers(behaviours)
    assert list(out["measure"]) == ["uses_alerts", "uses_automations"] or list(out["measure"]) == [
        "uses_automations", "uses_alerts"]
    auto = out.set_index("measure").loc["uses_automations"]
    assert auto["with_rate"] == pytest.approx(150 / (150 + 200))
    assert auto["without_rate"] == pytest.approx(50 / (50 + 600))
    assert auto["ratio"] == pytest.approx((150 / 350) / (50 / 650))
    assert "uses_api" not in set(out["measure"])  # a retention comparison, not an expansion one
    assert out["ratio"].is_monotonic_decreasing


def _accounts_renewals():
    accounts = pd.DataFrame({"account_id": list("abcdef"), "arr": 0.0, "region": ["N", "N", "N", "S", "S", "S"],
                             "contract_start": pd.to_datetime(["2024-01-01"] * 5 + ["2026-03-01"])})
    rows = [("a", "2025-06-30", 0, 100), ("b", "2025-06-30", 0, 200), ("c", "2025-06-30", 0, 300),
            ("d", "2025-06-30", 0, 400), ("e", "2025-06-30", 0, 500),
            ("a", "2026-03-31", 100, 0), ("b", "2026-06-30", 200, 260), ("d", "2026-06-30", 400, 300),
            ("f", "2026-03-01", 0, 50)]
    renewals = pd.DataFrame(rows, columns=["account_id", "renewal_date", "arr_before", "arr_after"])
    renewals["renewal_date"] = pd.to_datetime(renewals["renewal_date"])
    return accounts, renewals


def test_bridge_adds_up_and_matches_the_headline():
    accounts, renewals = _accounts_renewals()
    as_of, start = date(2026, 9, 30), date(2025, 9, 30)
    cohort = cohort_table(accounts, renewals, as_of, start)
    figures = retention_summary(accounts, renewals, as_of, start)
    bridge = arr_bridge(cohort, arr_total=1110.0)
    assert bridge["start"] == 1500 and bridge["expanded"] == 60 and bridge["contracted"] == 100
    assert bridge["churned"] == 100 == figures["arr_churned"]
    assert bridge["start"] + bridge["expanded"] - bridge["contracted"] - bridge["churned"] == bridge["end"] == 1360
    assert bridge["end"] + bridge["new"] == bridge["total"]
    assert cohort_figures(cohort)["nrr"] == figures["nrr"] == pytest.approx(1360 / 1500)


def test_retention_by_slice_is_the_same_formula_on_each_slice():
    accounts, renewals = _accounts_renewals()
    cohort = cohort_table(accounts, renewals, date(2026, 9, 30), date(2025, 9, 30))
    out = retention_by_slice(cohort, accounts, ["region"], min_accounts=2).set_index("value")
    assert out.loc["N", "nrr"] == pytest.approx((0 + 260 + 300) / 600)
    assert out.loc["N", "logo_churn_rate"] == pytest.approx(1 / 3)
    assert out.loc["S", "nrr"] == pytest.approx((300 + 500) / 900) and out.loc["S", "cohort_accounts"] == 2
    assert len(retention_by_slice(cohort, accounts, ["region"], min_accounts=3)) == 1  # S has 2 cohort accounts


def test_trend_is_the_headline_at_each_quarter_and_stops_where_the_data_does():
    accounts, renewals = _accounts_renewals()
    as_of = date(2026, 9, 30)
    trend = retention_trend(accounts, renewals, as_of, covered=lambda day: day >= date(2026, 3, 31))
    # 2026-03-31's cohort (paying on 2025-03-31) is empty: the trend stops there; oldest first, month ends.
    assert list(trend["as_of"]) == ["2026-06-30", "2026-09-30"]
    assert list(retention_trend(accounts, renewals, as_of, covered=lambda day: day >= as_of)["as_of"]) == ["2026-09-30"]
    for row in trend.itertuples():
        day = date.fromisoformat(row.as_of)
        expected = retention_summary(accounts, renewals, day, date(day.year - 1, day.month, day.day))
        assert row.nrr == pytest.approx(expected["nrr"]) and row.logo_churn_rate == pytest.approx(expected["logo_churn_rate"])


@pytest.mark.slow
def test_planted_drivers_lead_do_first_and_counts_do_not(sample_run, truth):
    from vga.run.pipeline import read

    wins = read(sample_run / "results", "quick_wins.csv")
    first = wins[wins["do_first"]]
    assert len(first) and first["rank"].max() < wins.loc[~wins["do_first"], "rank"].min()  # do first, first
    assert first["tested"].all() and (first["money_at_risk"] > 0).all()
    systemic = first[first["kind"] == "systemic"]
    gaps = " | ".join(systemic["gap"])
    region = f"region {truth['planted']['region']['value']}"
    assert truth["planted"]["onboarding_milestone"]["milestone"].replace("_", " ") in gaps
    assert (first["money_at_risk_low"] > 0).all() and first["not_first"].fillna("").eq("").all()
    # The planted region is found against the other known regions, but its money's 95% interval
    # reaches below 0 on the sample (116 cohort accounts): worth a look with that reason, not Do first.
    found = wins[wins["gap"].str.startswith(region + ": churn")]
    assert len(found) == 1 and "for the other region values" in found["gap"].iloc[0]
    assert found["tested"].iloc[0] and (region in gaps) == (found["money_at_risk_low"].iloc[0] > 0)
    if region not in gaps:
        assert found["not_first"].iloc[0] == "may_be_zero"
    assert "Frustrated Power Users" in gaps
    for dimension in truth["planted"]["no_effect_dimensions"]:
        assert not systemic["gap"].str.startswith(dimension.replace("_", " ")).any()
    counts = wins[(wins["kind"] == "systemic") & ~wins["tested"]]
    assert len(counts) >= 1 and not counts["do_first"].any() and counts["money_at_risk"].isna().all()
    summary = json.loads((sample_run / "results" / "summary.json").read_text())
    assert all(w["confidence"] in ("high", "medium") for w in summary["do_first"])
    assert [w["gap"] for w in summary["do_first"][:3]] == list(first["gap"].head(3))
    driver = summary["expansion_drivers"][0]
    assert driver["measure"] == f"uses_{truth['planted']['expansion_feature']['feature']}" and driver["ratio"] > 2
    feature = truth["planted"]["expansion_feature"]["feature"]
    from bs4 import BeautifulSoup

    text = " ".join(BeautifulSoup((sample_run / "report.html").read_text(), "html.parser").get_text(" ").split())
    assert f"Accounts that use {feature} expanded" in text  # its own line in the summary
    # The headline, the bridge and the trend are one computation.
    bridge = summary["bridge"]
    assert bridge["start"] + bridge["expanded"] - bridge["contracted"] - bridge["churned"] == pytest.approx(bridge["end"])
    assert bridge["churned"] == pytest.approx(summary["arr_churned"]) and bridge["total"] == pytest.approx(summary["arr_total"])
    assert summary["trend"][-1]["nrr"] == pytest.approx(summary["nrr"])
    previous = [t for t in summary["trend"] if t["as_of"] == summary["previous"]["as_of"]]
    assert previous and previous[0]["nrr"] == pytest.approx(summary["previous"]["nrr"])


def test_an_earlier_quarter_joins_the_trend_only_when_the_renewals_cover_its_year():
    from types import SimpleNamespace

    from vga.nodes.retention import trend_covers

    sources = pd.DataFrame([{"table": "renewals", "rows_accepted": 10, "first_date": "2024-10-01",
                             "last_date": "2026-10-31"}])
    inputs = SimpleNamespace(sources=sources)
    analysis = {"coverage_tolerance_days": 7}
    # 2025-09-30's year begins 2024-09-30, a day before the export: within the tolerance.
    assert trend_covers(inputs, date(2025, 9, 30), analysis)
    # 2025-06-30's year begins 2024-06-30, three months before: its churn then is unknown.
    assert not trend_covers(inputs, date(2025, 6, 30), analysis)
    assert not trend_covers(inputs, date(2027, 3, 31), analysis)  # past the data's end
