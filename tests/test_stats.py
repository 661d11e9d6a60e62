"""vga.stats against reference values worked out by hand or published."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from vga import stats

PACKAGE = Path(__file__).resolve().parents[1] / "vga"


def test_benjamini_hochberg_by_hand():
    # sorted p: .005 .01 .03 .04 (m=4): .005*4/1=.02, .01*4/2=.02, .03*4/3=.04, .04*4/4=.04
    assert stats.bh_q_values([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.02, 0.04, 0.04, 0.02], abs=1e-15)
    # the step-up minimum: a larger p earlier in the order can lower a q
    assert stats.bh_q_values([0.04, 0.041]) == pytest.approx([0.041, 0.041], abs=1e-15)
    assert len(stats.bh_q_values([])) == 0


def test_adjust_table_adjusts_only_tested_rows_and_flags_below_alpha():
    table = pd.DataFrame({"p_value": [0.001, 0.04, np.nan, 0.02], "tested": [True, True, False, True]})
    out = stats.adjust_table(table, alpha=0.05)
    # tested p .001 .04 .02 (m=3): q .003, .04, .03
    assert out["q_value"].iloc[[0, 1, 3]].tolist() == pytest.approx([0.003, 0.04, 0.03], abs=1e-15)
    assert math.isnan(out["q_value"].iloc[2])
    assert out["flagged"].tolist() == [True, True, False, True]
    assert stats.adjust_table(table.copy(), alpha=0.035)["flagged"].tolist() == [True, False, False, True]
    empty = stats.adjust_table(pd.DataFrame({"p_value": [], "tested": []}))
    assert empty.empty and "flagged" in empty


def test_fisher_against_the_lady_tasting_tea():
    # Fisher (1935): 3 of 4 right against 1 of 4: two-sided p = 17/35, one-sided 17/70
    assert stats.fisher_p(3, 4, 1, 4) == pytest.approx(17 / 35, abs=1e-12)
    assert stats.fisher_p(3, 4, 1, 4, alternative="greater") == pytest.approx(17 / 70, abs=1e-12)


def test_newcombe_interval_of_a_difference_of_shares():
    # Newcombe (1998), Statistics in Medicine 17, table II example (56/70 - 48/80): 0.0524 to 0.3339
    low, high = stats.share_difference_interval(56, 70, 48, 80)
    assert (round(low, 4), round(high, 4)) == (0.0524, 0.3339)


def test_wilson_interval_by_its_formula():
    hits, n, z = 8, 10, scipy_stats.norm.ppf(0.975)
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert stats.share_interval(hits, n) == pytest.approx((centre - half, centre + half), abs=1e-12)
    assert all(math.isnan(v) for v in stats.share_interval(0, 0))


def test_welch_matches_scipy_and_handles_no_spread():
    a, b = [1.0, 2.0, 3.0, 4.0, 9.0], [2.0, 2.5, 2.0, 3.5]
    low, high, p = stats.welch(a, b)
    assert p == pytest.approx(scipy_stats.ttest_ind(a, b, equal_var=False).pvalue, abs=1e-12)
    ci = scipy_stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert (low, high) == pytest.approx((ci.low, ci.high), abs=1e-12)
    assert stats.welch([2.0, 2.0], [2.0, 2.0]) == (0.0, 0.0, 1.0)
    assert stats.welch([3.0, 3.0], [2.0, 2.0]) == (1.0, 1.0, 0.0)


def test_mean_interval_matches_scipy():
    values = [0.5, -0.2, 1.1, 0.3, 0.9]
    low, high, p = stats.mean_interval(values)
    result = scipy_stats.ttest_1samp(values, 0)
    ci = result.confidence_interval(0.95)
    assert (low, high, p) == pytest.approx((ci.low, ci.high, result.pvalue), abs=1e-12)


def test_rate_ratio():
    assert stats.rate_ratio(0.3, 0.2) == pytest.approx(1.5)
    assert stats.rate_ratio(0.3, 0.0) == math.inf and math.isnan(stats.rate_ratio(0.0, 0.0))


def test_confidence_follows_the_configured_alpha():
    assert [stats.confidence(q) for q in (0.005, 0.03, 0.2, None, float("nan"))] == \
        ["high", "medium", "low", "descriptive", "descriptive"]
    # a stricter alpha asks more of the same q
    assert [stats.confidence(q, alpha=0.01) for q in (0.001, 0.005, 0.03)] == ["high", "medium", "low"]
    assert stats.confidence(0.08, alpha=0.10) == "medium"


def test_tests_and_corrections_live_only_in_vga_stats():
    """No analysis calls scipy's or statsmodels' tests, corrections or
    intervals itself: one definition each, in vga.stats."""
    once = {"fisher_exact", "multipletests", "proportion_confint", "confint_proportions_2indep",
            "test_proportions_2indep", "CompareMeans", "DescrStatsW"}
    for path in PACKAGE.rglob("*.py"):
        if path.name == "stats.py" and path.parent == PACKAGE:
            continue
        names = {a.name for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.ImportFrom)
                 for a in node.names}
        assert not names & once, f"{path}: {sorted(names & once)}; use vga.stats"


def test_the_summary_words_its_gaps_at_the_configured_alpha():
    from vga.nodes.executive_summary import value_gaps

    wins = pd.DataFrame({"rank": [1], "kind": ["systemic"], "gap": ["LATAM"], "q_value": [0.03], "tested": [True],
                         "do_first": [True]})
    assert value_gaps(wins, 5, alpha=0.05)["do_first"][0]["confidence"] == "medium"
    assert value_gaps(wins, 5, alpha=0.01)["do_first"][0]["confidence"] == "low"
    assert value_gaps(wins, 5, alpha=0.2)["do_first"][0]["confidence"] == "high"
