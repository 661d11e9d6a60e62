"""The news first (issue 34, first step): targets, red that stayed red,
renewals due, overdue interventions and unconfirmed fixes, ranked by money."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest

from vga.analysis.news import (intervention_items, news, playbooks_without_effect, renewals_due, stayed_red,
                               target_items)
from vga.errors import UsageError
from vga.present.executive_summary import news_text


def test_targets_are_said_met_or_short_and_none_set_is_said():
    none = target_items({"nrr": 0.85}, {"nrr": "", "grr": "", "logo_churn_rate": ""})
    assert len(none) == 1 and news_text(none[0]).startswith("No targets are set")
    lines = target_items({"nrr": 0.851, "grr": 0.92, "logo_churn_rate": 0.181},
                         {"nrr": 1.0, "grr": 0.9, "logo_churn_rate": 0.1})
    text = {news_text(line).split(" ")[0]: {**line, "text": news_text(line)} for line in lines}
    assert text["NRR"]["text"] == "NRR is 85.1% against a target of 100.0%: worse by 14.9 points."
    cited = target_items({"logo_churn_rate": 0.181, "cohort_accounts": 1080}, {"logo_churn_rate": 0.1})
    assert news_text(cited[0]) == ("logo churn of the 1,080 accounts paying a year ago is 18.1% against a target of "
                                "10.0%: worse by 8.1 points.")
    assert text["NRR"]["tone"] == "bad"
    assert text["GRR"]["text"] == "GRR is 92.0% against a target of 90.0%: better by 2.0 points."
    assert text["GRR"]["tone"] == "good"
    # Lower is better for churn.
    assert text["logo"]["text"] == "logo churn is 18.1% against a target of 10.0%: worse by 8.1 points."


def _quadrants():
    return pd.DataFrame({"account_id": ["a", "b", "c", "d"], "arr": [100.0, 200.0, 300.0, 400.0],
                         "health_color": ["red", "red", "yellow", "green"],
                         "previous_health_color": ["red", "yellow", "red", "green"]})


def test_red_that_stayed_red_and_renewals_due_are_counted_from_the_accounts():
    red = stayed_red(_quadrants())
    assert red["arr"] == 100.0
    assert news_text(red) == "1 account holding 100 of ARR (10.0%) was red at the previous period and is red still."
    accounts = pd.DataFrame({"account_id": ["a", "b", "c", "d"],
                             "renewal_date": ["2026-10-15", "2027-03-01", "2026-12-29", "2026-09-30"]})
    due = renewals_due(accounts, _quadrants(), date(2026, 9, 30))
    # a and c renew within (as_of, as_of + 90 days]; d renews on the as-of date itself: not ahead.
    assert "2 accounts holding 400 of ARR renew by 2026-12-29" in news_text(due)
    assert "400 of it is on accounts red or yellow now (2 accounts)" in news_text(due)
    assert stayed_red(_quadrants().assign(previous_health_color="green")) is None


def test_overdue_interventions_and_fixes_and_the_order_by_money():
    facts = {"overdue_list": [{"arr": 0.0}, {"arr": 50.0}, {"arr": 0.0}], "fixes": {"shipped": 4, "confirmed": 0}}
    items = intervention_items(facts)
    assert news_text(items[0]) == ("3 interventions are past their target date and still open, on accounts holding 50 of "
                                "ARR; 2 of them are on accounts that have already left.")
    assert news_text(items[1]) == "0 of 4 shipped product fixes were confirmed by the customer who asked for them."
    accounts = pd.DataFrame({"account_id": ["a"], "renewal_date": [""]})
    ranked = news({"nrr": 0.9}, {"nrr": 1.0}, _quadrants(), accounts, facts, date(2026, 9, 30))
    assert news_text(ranked[0]).startswith("NRR is 90.0%")
    money = [r["arr"] for r in ranked if r["arr"] is not None]
    assert money == sorted(money, reverse=True) and money == [100.0, 50.0]


@pytest.mark.parametrize("text", ['[targets]\nnrr = "high"\n', "[targets]\nlogo_churn_rate = 1.5\n",
                                  "[targets]\ngrr = -0.1\n", "[targets]\nnrr = true\n"])
def test_a_bad_target_is_refused_with_its_key(tmp_path, text):
    from vga.config import load_config

    (tmp_path / "vga.toml").write_text(text)
    with pytest.raises(UsageError, match=r"\[targets\] \w+ = .*it must be a fraction"):
        load_config(tmp_path / "vga.toml")


@pytest.mark.slow
def test_the_sample_report_opens_with_the_news(sample_run):
    summary = json.loads((sample_run / "results" / "summary.json").read_text())
    quadrants = pd.read_csv(sample_run / "results" / "quadrants.csv", dtype={"account_id": str})
    red = quadrants[(quadrants["health_color"] == "red") & (quadrants["previous_health_color"] == "red")]
    texts = [news_text(n) for n in summary["news"]]
    assert texts[0].startswith("No targets are set for NRR, GRR or logo churn")
    assert any(t.startswith(f"{len(red):,} accounts holding") and "red still" in t for t in texts)
    page = (sample_run / "report.html").read_text()
    assert page.index("red at the previous period and are red still") < page.index("The largest value gap to act on")


def test_the_news_uses_the_report_s_money_with_its_currency():
    from vga.present.blocks import set_currency

    set_currency("EUR")
    try:
        assert news_text(stayed_red(_quadrants())).startswith("1 account holding EUR 100 of ARR")
    finally:
        set_currency("")


def _effect(flags):
    """An intervention_effect.csv: playbook -> (flagged, effect) per measure."""
    rows = []
    for playbook, measures in flags.items():
        for measure, (flagged, effect) in measures.items():
            rows.append({"playbook": playbook, "measure": measure, "treated": 10 + len(playbook), "controls": 40,
                         "effect": effect, "flagged": flagged, "tested": True})
    return pd.DataFrame(rows)


def test_playbooks_without_a_clear_gain_are_news_and_a_gain_is_not_hidden():
    none = playbooks_without_effect(_effect({"call": {"health score": (False, 2.0), "usage score": (False, -1.0)},
                                              "workshop": {"health score": (True, -3.0)}}))
    # a flagged fall is no gain: both are without effect
    assert none["without"] == ["call", "workshop"] and none["treated"] == [14, 18] and none["tone"] == "bad"
    assert news_text(none) == ("None of the 2 playbooks measured shows a clear gain in health or usage against "
                               "similar accounts (call: 14 accounts treated; workshop: 18 accounts treated).")
    some = playbooks_without_effect(_effect({"call": {"health score": (True, 4.0)}, "workshop": {"usage score": (False, 1.0)}}))
    assert some["without"] == ["workshop"] and news_text(some).startswith("1 of the 2 playbooks measured shows no clear gain")
    good = playbooks_without_effect(_effect({"call": {"health score": (True, 4.0)}}))
    assert good["tone"] == "good" and news_text(good).startswith("The one playbook measured shows a clear gain")
    assert playbooks_without_effect(None) is None and playbooks_without_effect(_effect({})) is None
    pooled = _effect({"call": {"health score": (True, 4.0)}, "all playbooks": {"health score": (False, 0.5)}})
    assert playbooks_without_effect(pooled)["measured"] == 1  # the row of all playbooks together is no playbook
    items = news({"nrr": 0.9}, {}, None, pd.DataFrame({"account_id": []}), None, date(2026, 9, 30),
                 _effect({"call": {"health score": (False, 1.0)}}))
    assert [i["kind"] for i in items] == ["no_targets", "playbooks"]


def test_the_sample_s_news_says_its_playbooks_show_no_clear_gain(sample_run):
    effect = pd.read_csv(sample_run / "results" / "intervention_effect.csv")
    effect = effect[effect["playbook"] != "all playbooks"]  # every playbook together: not a playbook
    gained = effect[effect["flagged"] & (effect["effect"] > 0)]["playbook"].unique()
    summary = json.loads((sample_run / "results" / "summary.json").read_text())
    item = next(n for n in summary["news"] if n["kind"] == "playbooks")
    assert sorted(set(effect["playbook"]) - set(gained)) == item["without"] and item["without"]
    assert news_text(item) in (sample_run / "report.html").read_text()
