import numpy as np
import pandas as pd
from scipy.stats import fisher_exact
from statsmodels.stats.multitest import multipletests

from vga.analysis.quadrant import add_movement, assign_quadrant, health_color, quadrant_totals
from vga.analysis.slicing import slice_churn


def test_quadrant_boundaries_and_unscored():
    usage = pd.Series([50, 49.9, 50, 10, None, 80])
    health = pd.Series([50, 50, 49.9, 10, 80, None])
    assert list(assign_quadrant(usage, health)) == [
        "Champions", "Relationship-Dependent", "Frustrated Power Users", "Churn Risk", "Unscored", "Unscored",
    ]
    assert list(assign_quadrant(usage, health, usage_threshold=60, health_threshold=40)) == [
        "Relationship-Dependent", "Relationship-Dependent", "Relationship-Dependent", "Churn Risk",
        "Unscored", "Unscored",
    ]


def test_health_colors():
    scores = pd.Series([0, 49.99, 50, 69.9, 70, 84.9, 85, 100, None])
    assert list(health_color(scores)) == ["red", "red", "yellow", "yellow", "lime", "lime", "green", "green", ""]


def test_totals_have_all_five_and_movement():
    q = pd.DataFrame({"account_id": ["a", "b", "c"], "arr": [10.0, 20.0, 5.0],
                      "quadrant": ["Champions", "Champions", "Unscored"]})
    totals = quadrant_totals(q)
    assert set(totals) == {"Champions", "Frustrated Power Users", "Relationship-Dependent", "Churn Risk", "Unscored"}
    assert totals["Champions"] == {"accounts": 2, "arr": 30.0} and totals["Churn Risk"]["accounts"] == 0
    moved = add_movement(q, pd.Series({"a": "Churn Risk", "b": "Champions"}))
    assert list(moved["previous_quadrant"]) == ["Churn Risk", "Champions", ""]
    assert list(moved["moved"]) == [True, False, False]


def test_slicing_matches_fisher_and_bh_computed_independently():
    rng = np.random.default_rng(3)
    n = 300
    accounts = pd.DataFrame({
        "account_id": [f"a{i}" for i in range(n)],
        "region": rng.choice(["NA", "EMEA", "APAC", ""], size=n),
        "csm": rng.choice(["big1", "big2"], size=n),
    })
    accounts.loc[:5, "csm"] = "tiny"  # 6 accounts: listed, never tested
    churned = rng.random(n) < np.where(accounts["region"] == "APAC", 0.5, 0.15)
    cohort = pd.DataFrame({"account_id": accounts["account_id"], "churned": churned})
    table = slice_churn(cohort, accounts, ["region", "csm"], min_accounts=10, alpha=0.05)
    assert "" not in set(table["value"])
    tiny = table[(table["dimension"] == "csm") & (table["value"] == "tiny")].iloc[0]
    assert not tiny["tested"] and not tiny["flagged"] and np.isnan(tiny["q_value"])
    tested = table[table["tested"]]
    expected_p = []
    for _, row in tested.iterrows():
        members = accounts[row["dimension"]] == row["value"]
        a, b = int(churned[members].sum()), int((~churned[members]).sum())
        c, d = int(churned[~members].sum()), int((~churned[~members]).sum())
        expected_p.append(fisher_exact([[a, b], [c, d]])[1])
    assert np.allclose(tested["p_value"], expected_p, rtol=1e-12)
    q = multipletests(expected_p, method="fdr_bh")[1]
    assert np.allclose(tested["q_value"], q, rtol=1e-12)
    assert list(tested["flagged"]) == list(q < 0.05)
    apac = table[(table["dimension"] == "region") & (table["value"] == "APAC")].iloc[0]
    assert apac["flagged"] and apac["churn_rate"] > apac["rest_churn_rate"]


def test_slicing_flags_nothing_without_an_effect():
    rng = np.random.default_rng(11)
    n = 400
    accounts = pd.DataFrame({"account_id": range(n), "segment": rng.choice(list("ABCDE"), size=n)})
    cohort = pd.DataFrame({"account_id": range(n), "churned": rng.random(n) < 0.2})
    table = slice_churn(cohort, accounts, ["segment"])
    assert table["tested"].all() and not table["flagged"].any()
