"""Every sentence true: the report's story holds on companies of many shapes.

Each test plants a shape a real export has (unknown values in a slicing
dimension, a renewals export of cancellations only, nothing scored, no
tickets and no segment column) and checks what the report *says*, not only
its figures: no sentence of the forms that once misled
(:data:`tests.company.STORY_UNTRUE`), Do first only with money that is
there, money a reader can re-add, unknowns never part of "the rest".
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from vga.analysis import quick_wins as qw
from vga.analysis.figures import CITED_AS
from vga.analysis.decisions import CANCELLATIONS_ONLY, FULL, renewals_shape
from vga.analysis.slicing import is_unknown, mostly_unknown, slice_churn
from vga.stats import confidence

from .company import (STORY_UNTRUE, Shape, churn_without_population, miscited, readdable, render_series,
                      story_problems, write_company)


# --------------------------------------------------------------------------
# Known values only in comparisons


def _members(value: str, n: int, churned: int, start: int) -> pd.DataFrame:
    return pd.DataFrame({"account_id": [f"{value or 'blank'}{i}" for i in range(start, start + n)],
                         "gender": value, "churned": [i < churned for i in range(n)]})


def _club() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The club of the issue: M churns 15.7%, F 16.7%, 425 members with no
    gender recorded 0.7%. Against "the rest" with the blanks in it, M looks
    worse than the rest; against F alone it is not."""
    frame = pd.concat([_members("M", 1000, 157, 0), _members("F", 1000, 167, 0), _members("", 425, 3, 0)],
                      ignore_index=True)
    cohort = frame[["account_id", "churned"]]
    return cohort, frame[["account_id", "gender"]]


def test_a_slice_is_compared_with_the_other_known_values_only():
    cohort, accounts = _club()
    table = slice_churn(cohort, accounts, ["gender"]).set_index("value")
    m, f = table.loc["M"], table.loc["F"]
    # The spec's comparison keeps the blanks in the rest: M's rest churns (167 + 3) / 1425.
    assert m["rest_accounts"] == 1425 and m["rest_churned"] == 170
    # The known comparison: M against F alone, the blanks apart.
    assert m["known_rest_accounts"] == 1000 and m["known_rest_churned"] == 167
    assert m["known_rest_churn_rate"] == pytest.approx(0.167)
    assert m["unknown_accounts"] == 425 and m["unknown_churned"] == 3
    assert not m["known_flagged"] and not f["known_flagged"]
    assert m["known_p_value"] > 0.5  # 15.7% against 16.7%: no difference
    assert "" not in table.index  # empty values form no slice (spec)


def test_a_planted_known_difference_is_found_and_the_blanks_do_not_hide_it():
    frame = pd.concat([_members("M", 500, 150, 0), _members("F", 500, 50, 0), _members("", 300, 150, 0)],
                      ignore_index=True)
    table = slice_churn(frame[["account_id", "churned"]], frame[["account_id", "gender"]], ["gender"]).set_index("value")
    assert table.loc["M", "known_flagged"] and table.loc["F", "known_flagged"]
    assert table.loc["M", "known_rest_churn_rate"] == pytest.approx(0.10)
    # Mostly known: no warning; half unknown: said.
    assert mostly_unknown(table.reset_index()).empty
    half = pd.concat([frame, _members("", 800, 10, 1000)], ignore_index=True)
    said = mostly_unknown(slice_churn(half[["account_id", "churned"]], half[["account_id", "gender"]], ["gender"]))
    assert list(said["dimension"]) == ["gender"] and said["unknown_accounts"].iloc[0] == 1100


@pytest.mark.parametrize("value, unknown", [("", True), ("  ", True), ("Unknown", True), ("n/a", True), ("N/A", True),
                                            ("(blank)", True), ("-", True), ("not recorded", True), ("NA", False),
                                            ("North America", False), ("None of these", False), ("0", False)])
def test_placeholders_are_unknown_and_real_values_are_not(value, unknown):
    assert is_unknown(value) is unknown


def test_a_placeholder_value_is_a_slice_with_no_known_comparison():
    frame = pd.concat([_members("EMEA", 200, 40, 0), _members("APAC", 200, 40, 0), _members("Unknown", 50, 0, 0)],
                      ignore_index=True)
    table = slice_churn(frame[["account_id", "churned"]], frame.rename(columns={"gender": "region"})[["account_id", "region"]],
                        ["region"]).set_index("value")
    assert "Unknown" in table.index and not table.loc["Unknown", "known"]
    assert np.isnan(table.loc["Unknown", "known_p_value"]) and not table.loc["Unknown", "known_flagged"]
    assert table.loc["EMEA", "known_rest_accounts"] == 200  # APAC only


# --------------------------------------------------------------------------
# Do first means money that is there


def _money(low: float, exposed=0.30, reference=0.10) -> dict:
    return {"exposed_churn_rate": exposed, "reference_churn_rate": reference, "money_at_risk_low": low}


def test_do_first_needs_a_test_an_effect_and_money_above_zero():
    assert qw.not_first_reason(0.001, 0.05, _money(1000.0), 5.0, 1.25) == ""
    assert qw.not_first_reason(0.001, 0.05, _money(-72_000.0), 5.0, 1.25) == "may_be_zero"
    assert qw.not_first_reason(0.001, 0.05, _money(0.0), 5.0, 1.25) == "may_be_zero"
    assert qw.not_first_reason(0.2, 0.05, _money(1000.0), 5.0, 1.25) == "chance"
    assert qw.not_first_reason(0.001, 0.05, _money(1000.0, 0.10, 0.30), 5.0, 1.25) == "no_worse"
    assert qw.not_first_reason(0.001, 0.05, _money(1000.0, 0.102, 0.100), 5.0, 1.25) == "small"
    assert qw.not_first_reason(float("nan"), 0.05, {}, 5.0, 1.25) == "count"
    assert set(qw.NOT_FIRST) == {"count", "chance", "no_worse", "small", "may_be_zero"}


def test_confidence_is_never_high_with_an_interval_across_zero():
    assert confidence(0.0001, 0.05) == "high"
    assert confidence(0.0001, 0.05, 5000.0) == "high"
    assert confidence(0.0001, 0.05, -2_100_000.0) == "uncertain"
    assert confidence(0.03, 0.05, 0.0) == "uncertain"
    assert confidence(0.2, 0.05, -1.0) == "low"
    assert confidence(float("nan"), 0.05, -1.0) == "descriptive"


def test_the_do_first_total_counts_each_account_once_at_its_largest_rate():
    quadrants = pd.DataFrame({"account_id": ["a", "b", "c", "d"], "arr": [100.0, 200.0, 300.0, 400.0]})
    systemic = pd.DataFrame({
        "do_first": [True, True, False],
        "members": [["a", "b"], ["b", "c"], ["d"]],
        "excess_loss_rate": [0.10, 0.30, 0.50],
        "money_at_risk": [30.0, 150.0, 200.0],
    })
    total = qw.do_first_total(systemic, quadrants)
    # a at 10%, b at its larger 30%, c at 30%; d is not in Do first.
    assert total["money_at_risk"] == pytest.approx(100 * 0.10 + 200 * 0.30 + 300 * 0.30)
    assert total["accounts"] == 3 and total["gaps"] == 2 and total["accounts_in_several"] == 1
    assert total["sum_of_gaps"] == pytest.approx(180.0)
    assert qw.do_first_total(systemic.assign(do_first=False), quadrants)["gaps"] == 0


def test_the_money_sentence_re_adds_and_a_wrong_one_is_caught():
    from vga.present.executive_summary import money_sum

    win = {"arr_at_stake": 23_054_000.0, "excess_loss_rate": 0.115261, "money_at_risk": 23_054_000.0 * 0.115261,
           "exposed_loss_rate": 0.283, "reference_loss_rate": 0.168, "compared_with": "the rest"}
    text = money_sum(win)
    assert text.startswith("ARR exposed 23,054,000 x 11.53 points (ARR loss rate 28.3% against 16.8% for the rest) = 2.7M")
    assert readdable(text) == []
    assert readdable("ARR exposed 23.05M x 11.53 points = 1.9M") != []
    # Factors rounded too coarsely for the figure shown are caught too: 1.72M x 43.18 is 742.7k, not 743.6k.
    assert readdable("ARR exposed 1.72M x 43.18 points = 743.6k") != []
    assert readdable(money_sum({"arr_at_stake": 1_722_000.0, "excess_loss_rate": 0.43182, "money_at_risk": 743_594.0}))\
        == []
    small = money_sum({"arr_at_stake": 5_000_000.0, "excess_loss_rate": 0.000049, "money_at_risk": 245.0})
    assert "x 0.00490 points" in small and readdable(small) == []


def test_the_playbook_says_nothing_of_tables_not_given():
    playbook = {"Frustrated Power Users": qw.FRUSTRATED_ACTIONS[(True, True)], "default": "x"}
    assert "open tickets" not in qw.playbook_for(playbook, False, True)["Frustrated Power Users"]
    assert "survey" not in qw.playbook_for(playbook, True, False)["Frustrated Power Users"]
    mine = {"Frustrated Power Users": "Call them", "default": "x"}
    assert qw.playbook_for(mine, False, False)["Frustrated Power Users"] == "Call them"


# --------------------------------------------------------------------------
# The export's shape


def test_a_renewals_export_of_cancellations_only_is_recognised():
    rows = pd.DataFrame({"account_id": ["a", "b", "c"], "arr_before": [10.0, 20.0, 0.0], "arr_after": [0.0, 0.0, 0.0]})
    assert renewals_shape(rows) == CANCELLATIONS_ONLY
    assert renewals_shape(rows.assign(arr_after=[0.0, 25.0, 0.0])) == FULL
    assert renewals_shape(None) == FULL and renewals_shape(rows.iloc[:0]) == FULL


def test_the_story_patterns_catch_the_sentences_of_the_issue():
    quoted = [
        "100.0% of the 1,211 renewal decisions of the 18 months to 2026-09-30 (after 2025-03-30) were decisions to leave.",
        "The journey loses most at Renewal: share of renewal decisions churned 100.0%.",
        "The thinnest source is renewals: 0.0% of ARR has any row there by the as-of date",
        "Frustrated Power Users: 0 active accounts holding 0 of ARR (0.0%).",
        "gender M: churn 15.7% against 12.4% for the rest",
        "a CSAT chart from 0 ratings",
        "4 tested gaps together put 7.6M at risk (they can overlap).",
        "The costliest churn reason is '(not given)': 66 decisions and 1.9M of ARR lost",
    ]
    for text in quoted:
        assert any(p.search(text) for p, _ in STORY_UNTRUE), text
    assert story_problems({("x", "y"): "+8.1 pts, 95% interval 0.0 to +0.1"}, {}) != []
    assert story_problems({("x", "y"): "+8.1 pts, 95% interval +4.1 to +12.2"}, {}) == []


# --------------------------------------------------------------------------
# Generated companies, rendered


SHAPES = {
    "plain": Shape(accounts=160, seed=3),
    "cancellations only": Shape(accounts=160, seed=3, cancellations_only=True),
    "blanks in segment": Shape(accounts=600, seed=4, blank_share=0.3),
    "a planted gap": Shape(accounts=400, seed=7, first_segment_churn=0.6, churn_share=0.15),
    "a gap whose money may be zero": Shape(accounts=400, seed=7, first_segment_churn=0.5),
    "nothing scored": Shape(accounts=160, seed=5, scores=False),
    "no tickets, no segment": Shape(accounts=160, seed=6, tickets=False, segment=False),
    "a snapshot": Shape(accounts=300, seed=9, snapshot=True, churn_share=0.25),
    "a many-valued column": Shape(accounts=900, seed=8, agent_values=700, cox_max_groups=4),
}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = {}
    for name, shape in SHAPES.items():
        folder = write_company(shape, tmp_path_factory.mktemp("story"))
        texts = render_series(folder, shape.period, folder / "work")
        out[name] = (texts.pop("_outputs"), texts, folder)
    return out


@pytest.mark.parametrize("name", list(SHAPES))
@pytest.mark.slow  # generates and runs a dozen companies: in CI, not in the edit loop
def test_no_company_reads_untrue(rendered, name):
    outputs, texts, _ = rendered[name]
    problems = story_problems(texts, outputs)
    assert not problems, f"{name}:\n" + "\n".join(problems)


def _all(texts: dict) -> str:
    return "\n".join(texts.values())


@pytest.mark.slow  # generates and runs a dozen companies: in CI, not in the edit loop
def test_cancellations_only_says_so_and_gives_no_share_of_decisions(rendered):
    outputs, texts, _ = rendered["cancellations only"]
    assert outputs["churned_customers.json"]["renewals_shape"] == CANCELLATIONS_ONLY
    text = _all(texts)
    assert "holds cancellations only" in text
    assert "were decisions to leave" not in text
    populations = outputs["churn_populations.csv"]
    assert "renewal decisions" not in set(populations["population"])
    stages = outputs["journey_stages.csv"]
    renewal = stages[(stages["stage"] == "Renewal")]
    assert renewal["value"].isna().all()
    assert outputs["quadrant_churn.csv"] is None
    # The plain company says the share it has.
    plain = _all(rendered["plain"][1])
    assert "were decisions to leave" in plain and "cancellations only" not in plain


@pytest.mark.slow  # generates and runs a dozen companies: in CI, not in the edit loop
def test_blanks_are_their_own_group_never_the_rest(rendered):
    outputs, texts, folder = rendered["blanks in segment"]
    slices = outputs["slices.csv"]
    segment = slices[slices["dimension"] == "segment"]
    accounts = pd.read_csv(folder / "accounts.csv", dtype=str, keep_default_na=False)
    blanks = outputs["cohort.csv"]["account_id"].isin(set(accounts.loc[accounts["segment"] == "", "account_id"]))
    assert blanks.sum() > 20 and (segment["unknown_accounts"] == int(blanks.sum())).all()
    cohort = len(outputs["cohort.csv"])
    assert (segment["accounts"] + segment["known_rest_accounts"] + segment["unknown_accounts"] == cohort).all()
    # The planted blanks never churn.
    assert (segment["unknown_churned"] == 0).all()
    wins = outputs["quick_wins.csv"]
    assert not wins["gap"].str.contains("for the rest").any()


@pytest.mark.slow  # generates and runs a dozen companies: in CI, not in the edit loop
def test_a_planted_gap_is_done_first_with_money_that_re_adds_and_one_total(rendered):
    outputs, texts, _ = rendered["a planted gap"]
    summary = outputs["summary.json"]
    first = summary["do_first"]
    gaps = [w["gap"] for w in first]
    assert any(g.startswith("segment Alpha: churn") and "for the other segment values" in g for g in gaps), gaps
    for w in first:
        assert w["money_at_risk_low"] > 0
        assert w["money_at_risk"] == pytest.approx(w["arr_at_stake"] * w["excess_loss_rate"])
        assert w["excess_loss_rate"] == pytest.approx(w["exposed_loss_rate"] - w["reference_loss_rate"])
    total = summary["do_first_total"]
    systemic = [w for w in first if w["kind"] == "systemic"]
    assert total["gaps"] == len(outputs["quick_wins.csv"].query("kind == 'systemic' and do_first"))
    assert total["money_at_risk"] <= total["sum_of_gaps"] + 1e-6
    assert total["sum_of_gaps"] == pytest.approx(sum(w["money_at_risk"] for w in systemic)) or len(systemic) < total["gaps"]
    summary_text = texts[("11_executive_summary", "first_screen")]
    assert ("Together the" in summary_text or "The gap to do first puts" in summary_text) and "ARR exposed" in summary_text
    assert not readdable(summary_text)
    # The segments without a planted effect are not in Do first.
    assert not any(g.startswith(("segment Beta", "segment Gamma")) for g in gaps)
    # Each action a person can own: its accounts listed, an owner, a due date, all shown on the first screen.
    listed = outputs["do_first_accounts.csv"]
    as_of = pd.Timestamp(summary["as_of"])
    for w in first:
        mine = listed[listed["rank"] == w["rank"]]
        assert len(mine) == w["accounts"] and w["owner"] and w["owner_basis"]
        assert as_of + pd.Timedelta(days=7) <= pd.Timestamp(w["due_date"]) <= as_of + pd.Timedelta(days=30)
        assert f"Due: {w['due_date']}" in summary_text and f"Owner: {w['owner']}" in summary_text
    # No targets are set for this company: In short says so first, then the news by money.
    news = summary["news"]
    assert news[0]["kind"] == "no_targets"
    money = [n["arr"] for n in news if n.get("arr") is not None]
    assert money == sorted(money, reverse=True)


@pytest.mark.slow  # generates and runs a dozen companies: in CI, not in the edit loop
def test_a_tested_gap_whose_money_may_be_zero_is_worth_a_look_with_the_reason(rendered):
    outputs, texts, _ = rendered["a gap whose money may be zero"]
    wins = outputs["quick_wins.csv"]
    alpha = wins[wins["gap"].str.startswith("segment Alpha: churn")].iloc[0]
    assert alpha["tested"] and alpha["money_at_risk"] > 0 and alpha["money_at_risk_low"] <= 0
    assert not alpha["do_first"] and alpha["not_first"] == "may_be_zero"
    summary = outputs["summary.json"]
    assert not any(w["gap"] == alpha["gap"] for w in summary["do_first"])
    look = [w for w in summary["worth_a_look"] if w["gap"] == alpha["gap"]]
    assert look and look[0]["confidence"] == "uncertain"
    assert "may cost nothing" in texts[("11_executive_summary", "worth_a_look")]


@pytest.mark.slow  # generates and runs a dozen companies: in CI, not in the edit loop
def test_nothing_scored_writes_no_zero_sentences(rendered):
    outputs, texts, _ = rendered["nothing scored"]
    quadrants = outputs["quadrants.csv"]
    assert (quadrants["quadrant"] == "Unscored").all()
    text = _all(texts)
    assert "No active account could be placed in the quadrant" in text
    assert "0 active accounts holding" not in text and "0 of" not in texts[("07_quadrant_view", "headline")]


@pytest.mark.slow  # generates and runs a dozen companies: in CI, not in the edit loop
def test_a_many_valued_column_is_sliced_and_bounded_in_the_cox_model(rendered):
    outputs, texts, folder = rendered["a many-valued column"]
    agents = pd.read_csv(folder / "accounts.csv", dtype=str)["agent"]
    slices = outputs["slices.csv"]
    mine = slices[slices["dimension"] == "agent"]
    cohort_agents = agents[pd.read_csv(folder / "accounts.csv", dtype=str)["account_id"].isin(outputs["cohort.csv"]["account_id"])]
    assert len(mine) == cohort_agents.nunique() > 150  # every value with a cohort account is listed
    cox = outputs["cox.csv"]
    terms = cox[cox["term"].str.startswith("agent[")]["term"]
    assert 0 < len(terms) <= 5 and "agent[(other)]" in set(terms)
    text = _all(texts)
    assert "pools the other" in text and "as agent[(other)]" in text


@pytest.mark.slow  # generates and runs a dozen companies: in CI, not in the edit loop
def test_without_tickets_or_segment_nothing_acts_on_them(rendered):
    outputs, texts, _ = rendered["no tickets, no segment"]
    text = _all(texts)
    assert "walk the open tickets" not in text
    assert not outputs["quick_wins.csv"]["action"].str.contains("open tickets").any()
    assert "segment" not in set(outputs["slices.csv"]["dimension"])
    summary = outputs["summary.json"]
    assert not any("support_tickets" in str(v) for v in (summary.get("do_first") or []))


# --------------------------------------------------------------------------
# One name, one number


@pytest.mark.slow  # generates and runs a dozen companies: in CI, not in the edit loop
def test_the_registry_names_each_figure_once_with_its_population_and_window(rendered):
    from vga.analysis.figures import cite

    for name, (outputs, texts, _) in rendered.items():
        figures = outputs["figures.csv"]
        assert figures["name"].is_unique, name
        assert (figures["population"].str.len() > 0).all() and (figures["window"].str.len() > 0).all(), name
        summary = outputs["summary.json"]
        if summary["logo_churn_rate"] is not None:
            assert cite(figures, "logo_churn_rate")["value"] == pytest.approx(summary["logo_churn_rate"])
            assert cite(figures, "cohort_churn_share")["value"] == pytest.approx(summary["logo_churn_rate"])
        text = " ".join(texts.values())
        assert not miscited(text, figures), (name, miscited(text, figures))
        story = " ".join(v for (nb, call), v in texts.items() if nb == "11_executive_summary")
        assert not churn_without_population(story), (name, churn_without_population(story))
    shape = rendered["cancellations only"][0]["figures.csv"]
    assert cite(shape, "decision_churn_rate") is None  # 100% by construction: not a figure


def test_a_second_value_for_a_name_is_caught():
    figures = pd.DataFrame([{"name": "logo_churn_rate", "value": 0.181}])
    assert miscited("18.1% of the 1,080 accounts paying on 2025-09-30 had left", figures) == []
    assert miscited("18.6% of the 1,080 accounts paying on 2025-09-30 had left", figures) != []
    assert churn_without_population("Churn is 25.8%.") == ["Churn is 25.8%."]


@pytest.mark.slow
def test_the_sample_report_cites_one_value_per_name(sample_run):
    from bs4 import BeautifulSoup

    from vga.run.pipeline import read

    figures = read(sample_run / "results", "figures.csv")
    page = " ".join(BeautifulSoup((sample_run / "report.html").read_text(), "html.parser").get_text(" ").split())
    assert len(figures) >= 10 and not miscited(page, figures), miscited(page, figures)
    # Each churn share of the three populations is cited, each with its own value.
    for name in ("logo_churn_rate", "decision_churn_rate", "survival_churn_share"):
        assert any(re.search(p.format(value=r"\d+\.\d%"), page) for p in CITED_AS[name]), name
