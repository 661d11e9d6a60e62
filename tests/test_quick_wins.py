"""Step 8: quick wins ranked by ARR at stake, safe action lists."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from openpyxl import load_workbook

from vga.analysis import quick_wins as qw
from vga.config import DEFAULTS
from vga.run.pipeline import read, write
from vga.spreadsheet import safe_text, sheet_names

PLAYBOOK = DEFAULTS["quick_wins"]["playbook"]
AS_OF = date(2026, 9, 30)


def quadrants():
    return pd.DataFrame({
        "account_id": ["a", "b", "c", "d"], "arr": [500.0, 300.0, 200.0, 100.0],
        "usage_score": [80.0, 20.0, 70.0, 60.0], "health_score": [30.0, 20.0, 80.0, 90.0],
        "quadrant": ["Frustrated Power Users", "Churn Risk", "Champions", "Champions"],
        "health_color": ["red", "red", "lime", "green"], "previous_health_color": ["yellow", "red", "green", "green"],
        "usage_change": [0.0, -5.0, -20.0, 1.0],
    })


def test_account_wins_take_the_first_gap_and_list_every_gap_as_evidence():
    tickets = pd.DataFrame({"account_id": ["a", "d"], "escalated": [True, True],
                            "opened_at": pd.to_datetime(["2026-09-01", "2026-10-05"]), "closed_at": pd.NaT})
    escalations = qw.open_escalations(tickets, AS_OF)
    assert escalations.to_dict() == {"a": 1}  # d's ticket opened after the as-of date
    owners = pd.Series({"a": "Ann", "b": "Bo", "c": "Ann"})
    wins = qw.account_wins(quadrants(), owners, escalations, pd.DataFrame(columns=["account_id", "milestone"]),
                           PLAYBOOK, limit=10).set_index("account_id")
    assert list(wins.index) == ["a", "b", "c"]  # d has no gap; largest ARR first
    assert wins.loc["a", "gap"] == "Frustrated Power Users" and wins.loc["a", "action"] == PLAYBOOK["Frustrated Power Users"]
    assert "escalated ticket open" in wins.loc["a", "evidence"] and "yellow -> red" in wins.loc["a", "evidence"]
    assert wins.loc["c", "gap"] == "usage decline" and "lime" in wins.loc["c", "evidence"]
    assert wins.loc["b", "owner"] == "Bo" and wins.loc["c", "arr_at_stake"] == 200.0


def test_ranking_is_by_arr_at_stake_and_numbered_from_one():
    wins = pd.DataFrame({"kind": ["account", "systemic", "account"], "account_id": ["x", "", "y"],
                         "gap": ["g1", "g2", "g3"], "action": "act", "owner": "o", "arr_at_stake": [10.0, 30.0, 20.0],
                         "evidence": "e", "q_value": float("nan")})
    ranked = qw.rank(wins)
    assert list(ranked["gap"]) == ["g2", "g3", "g1"] and list(ranked["rank"]) == [1, 2, 3]
    assert list(ranked.columns[:8]) == ["rank", "kind", "account_id", "gap", "action", "owner", "arr_at_stake", "evidence"]


def test_do_first_leads_then_money_at_risk_then_arr():
    wins = pd.DataFrame({"kind": ["systemic", "systemic", "account", "systemic"], "account_id": ["", "", "x", ""],
                         "gap": ["count", "small", "acct", "big"], "action": "act", "owner": "o",
                         "arr_at_stake": [900.0, 50.0, 10.0, 100.0], "evidence": "e",
                         "do_first": [False, True, True, True], "money_at_risk": [float("nan"), 5.0, 1.0, 30.0]})
    ranked = qw.rank(wins)
    # The untested count holds the most ARR, yet comes last: it is not a tested gap.
    assert list(ranked["gap"]) == ["big", "small", "acct", "count"]


def test_a_slice_gap_is_priced_against_the_rest_of_the_cohort():
    quadrants = pd.DataFrame({"account_id": [f"a{i}" for i in range(40)], "arr": 100.0, "quadrant": "Champions",
                              "usage_score": 80.0, "health_score": 80.0})
    accounts = pd.DataFrame({"account_id": quadrants["account_id"], "region": ["X"] * 10 + ["Y"] * 30})
    cohort = pd.DataFrame({"account_id": quadrants["account_id"], "arr_start": 100.0,
                           "arr_end": [0.0] * 5 + [100.0] * 5 + [0.0] * 3 + [100.0] * 27})
    cohort["churned"] = cohort["arr_end"] == 0
    slices = pd.DataFrame({"dimension": ["region", "region"], "value": ["X", "Y"], "accounts": [10, 30],
                           "churned": [5, 3], "churn_rate": [0.5, 0.1], "rest_churn_rate": [0.1, 0.5],
                           "q_value": [0.01, 0.01], "flagged": [True, True]})
    out = qw.systemic_wins(quadrants, accounts, slices, pd.DataFrame(columns=["account_id", "milestone"]), {},
                           None, None, AS_OF, PLAYBOOK, cohort=cohort)
    assert len(out) == 1 and out.iloc[0]["gap"].startswith("region X")  # a binary dimension: its worse side only
    row = out.iloc[0]
    assert row["excess_loss_rate"] == pytest.approx(0.5 - 0.1) and row["arr_kept"] == pytest.approx(1000 * 0.4)
    assert row["money_at_risk"] == pytest.approx(10 * 100 * 0.4) and row["do_first"] and row["tested"]
    # 3 of 10 against 8 of 30: 3.3 points more, a ratio of 1.125.
    small = slices.assign(churn_rate=[0.3, 8 / 30], rest_churn_rate=[8 / 30, 0.3])
    ends = [0.0] * 3 + [100.0] * 7 + [0.0] * 8 + [100.0] * 22
    cohort_small = cohort.assign(arr_end=ends, churned=[e == 0 for e in ends])
    out = qw.systemic_wins(quadrants, accounts, small, pd.DataFrame(columns=["account_id", "milestone"]), {},
                           None, None, AS_OF, PLAYBOOK, cohort=cohort_small, min_points=5, min_ratio=1.25)
    assert out.iloc[0]["tested"] and not out.iloc[0]["do_first"]  # tested, but too small an effect to act on first


@pytest.mark.parametrize("text", ["=HYPERLINK(\"http://evil.example\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\r=1"])
def test_formula_text_is_made_inert(text):
    assert safe_text(text).startswith("'")
    assert safe_text("plain") == "plain" and safe_text(12.5) == 12.5


def test_workbook_has_a_sheet_per_owner_and_no_formulas(tmp_path):
    lists = {"=cmd|' /C calc'!A0": pd.DataFrame({"rank": [1], "account_id": ["=1+1"], "account_name": ["@evil"],
                                                  "arr_at_stake": [5.0]}),
             "Ann": pd.DataFrame({"rank": [2], "account_id": ["a"], "account_name": ["Café & Söhne"], "arr_at_stake": [3.0]})}
    names = sheet_names(list(lists))
    assert all(len(n) <= 31 and not set(n) & set("[]:*?/\\") for n in names.values())
    write({"csm_actions.xlsx": lists}, tmp_path, ["quick_wins"])
    book = load_workbook(tmp_path / "csm_actions.xlsx")
    assert len(book.sheetnames) == 2
    cells = [c for ws in book for row in ws.iter_rows() for c in row]
    assert not any(c.data_type == "f" for c in cells)
    texts = {c.value for c in cells if isinstance(c.value, str)}
    assert "'=1+1" in texts and "'@evil" in texts and "Café & Söhne" in texts
    back = read(tmp_path, "csm_actions.xlsx")
    assert set(back) == set(book.sheetnames)


@pytest.mark.slow
def test_quick_wins_find_the_planted_gaps_and_not_the_small_book(sample_run, truth):
    wins = read(sample_run / "results", "quick_wins.csv")
    assert list(wins["rank"]) == list(range(1, len(wins) + 1))
    first, rest = wins[wins["do_first"]], wins[~wins["do_first"]]
    assert list(wins.index[:len(first)]) == list(first.index)  # "do first" before everything else
    assert first["money_at_risk"].is_monotonic_decreasing  # ...ranked by money at risk
    priced = rest[rest["money_at_risk"].notna()]
    assert priced["money_at_risk"].is_monotonic_decreasing and rest["money_at_risk"].isna().sum() >= 1
    systemic = wins[wins["kind"] == "systemic"]
    assert (systemic["account_id"] == "").all() and (wins.loc[wins["kind"] == "account", "account_id"] != "").all()
    gaps = " | ".join(systemic["gap"])
    assert f"region {truth['planted']['region']['value']}" in gaps
    assert truth["planted"]["onboarding_milestone"]["milestone"].replace("_", " ") in gaps
    assert truth["planted"]["small_csm_book"]["value"] not in gaps  # too small to test: never a systemic win
    for dimension in truth["planted"]["no_effect_dimensions"]:
        assert not systemic["gap"].str.startswith(dimension.replace("_", " ") + " ").any()
    book = read(sample_run / "results", "csm_actions.xlsx")
    accounts_sheet = book.pop(qw.DO_FIRST_SHEET)
    listed = pd.concat(book.values())
    assert len(listed) == (wins["kind"] == "account").sum()
    assert len(accounts_sheet) == len(read(sample_run / "results", "do_first_accounts.csv"))


@pytest.mark.slow
def test_every_do_first_action_has_a_csm_a_due_date_and_its_accounts_listed(sample_run, sample_data):
    """The sample's Do first actions: each owned by a CSM of its accounts
    (the one holding most of its ARR), due within [as_of + 7, as_of + 30]
    days and before a quarter of its ARR renews, its accounts listed."""
    wins = read(sample_run / "results", "quick_wins.csv")
    listed = read(sample_run / "results", "do_first_accounts.csv")
    accounts = sample_data.get("accounts").drop_duplicates("account_id").set_index("account_id")
    first = wins[wins["do_first"]]
    assert len(first) >= 2
    as_of = pd.Timestamp(read(sample_run / "results", "summary.json")["as_of"])
    for _, w in first.iterrows():
        mine = listed[listed["rank"] == w["rank"]]
        assert len(mine) == w["accounts"] > 0 and (mine["gap"] == w["gap"]).all()
        assert abs(mine["arr"].sum() - w["arr_at_stake"]) < 0.01 * max(1.0, w["arr_at_stake"])
        assert (mine["csm"] == mine["account_id"].map(accounts["csm"]).fillna("")).all()
        by_csm = mine.groupby("csm")["arr"].sum()
        assert w["owner"] == by_csm.idxmax(), (w["gap"], w["owner"])  # a person from the data, not a team
        due = pd.Timestamp(w["due_date"])
        assert as_of + pd.Timedelta(days=7) <= due <= as_of + pd.Timedelta(days=30)
        renew = pd.to_datetime(mine["next_renewal_date"])
        # before a quarter of the ARR comes up for renewal (unless a week is all that is left)
        share = mine.loc[renew <= due, "arr"].sum() / mine["arr"].sum()
        assert share < 0.25 or due == as_of + pd.Timedelta(days=7)
        assert mine["arr"].is_monotonic_decreasing
    assert set(listed["rank"]) == set(first["rank"])


def test_owner_is_the_role_set_else_the_accounts_csm_else_the_team():
    accounts = pd.DataFrame({"account_id": ["a", "b", "c", "d"], "csm": ["Ann", "Bo", "Bo", None],
                             "renewal_date": [date(2026, 10, 20), date(2026, 12, 1), date(2027, 3, 1), None]})
    wins = pd.DataFrame([
        {"kind": "systemic", "account_id": "", "key": "slice:region=EMEA", "owner": "Customer Success leadership",
         "members": ["a", "b", "c"]},
        {"kind": "systemic", "account_id": "", "key": "workflow_step", "owner": "Product", "members": ["a", "d"]},
        {"kind": "systemic", "account_id": "", "key": "milestone:sso", "owner": "Onboarding", "members": ["d"]},
        {"kind": "account", "account_id": "d", "key": "Churn Risk", "owner": qw.NO_OWNER, "members": None},
    ])
    plan = qw.plan_actions(wins, accounts, quadrants(), AS_OF, {}, 30)
    # Ann holds a (500), Bo b and c (300 + 200): a tie goes to the name first
    assert list(plan["owner"]) == ["Ann", "Product", "Onboarding", qw.NO_OWNER]
    assert "1 other CSM" in plan.loc[0, "owner_basis"]
    assert list(plan["accounts"]) == [3, 2, 1, 1]
    # a quarter of 1,000 of ARR renews with a on 2026-10-20: due the day before
    assert plan.loc[0, "due_date"] == pd.Timestamp(2026, 10, 19) and "2026-10-20" in plan.loc[0, "due_basis"]
    assert plan.loc[2, "due_date"] == pd.Timestamp(2026, 10, 30)  # d has no renewal date: 30 days
    roles = {"slice": "VP Customer Success", "Churn Risk": "Head of CS"}
    plan = qw.plan_actions(wins, accounts, quadrants(), AS_OF, roles, 30)
    assert list(plan["owner"]) == ["VP Customer Success", "Product", "Onboarding", "Head of CS"]
    assert plan.loc[0, "owner_basis"] == "role set for this kind of gap"
    # no csm column: the team
    plan = qw.plan_actions(wins, accounts.drop(columns="csm"), quadrants(), AS_OF, {}, 30)
    assert plan.loc[0, "owner"] == "Customer Success leadership"


def test_due_date_is_before_a_quarter_of_the_arr_renews_and_leaves_a_week():
    arr = pd.Series({"a": 100.0, "b": 100.0, "c": 200.0})
    renewals = pd.Series(pd.to_datetime(["2026-10-02", "2026-10-20", "2026-11-15"]), index=["a", "b", "c"])
    # a holds 25% and renews in 2 days: a week is all that is left
    due, why = qw.due_date(["a", "b", "c"], arr, renewals, AS_OF, 30)
    assert due == date(2026, 10, 7) and why.startswith("a week")
    due, why = qw.due_date(["b", "c"], arr, renewals, AS_OF, 30)  # b: a third of 300, on 10-20
    assert due == date(2026, 10, 19) and "2026-10-20" in why
    due, why = qw.due_date(["c"], arr, renewals, AS_OF, 30)  # renews after the 30 days
    assert due == date(2026, 10, 30) and why == "30 days from the as-of date"
    due, _ = qw.due_date(["c"], arr, renewals, AS_OF, 60)
    assert due == date(2026, 11, 14)


def test_every_csv_output_neutralises_formulas_but_keeps_numbers(tmp_path):
    from vga.run.results import read_csv, write_csv

    frame = pd.DataFrame({"name": ["=HYPERLINK(\"http://evil.example\")", "@SUM(A1)", "-12.5", "+3", "-x", "plain"],
                          "arr": [1.0, 2.0, 3.0, 4.0, 5.0, -6.0]})
    text = write_csv(frame, tmp_path / "out.csv").read_text()
    assert "'=HYPERLINK" in text and "'@SUM" in text and "'-x" in text
    back = read_csv(tmp_path / "out.csv", {"name": "str", "arr": "float"})
    assert list(back["name"][2:4]) == ["-12.5", "+3"] and back["arr"].iloc[-1] == -6.0  # numbers untouched
    assert safe_text("-12.5") == "-12.5" and safe_text("nan") == "nan" and safe_text("-inf").startswith("'")


def test_quarantine_files_neutralise_formulas(tmp_path):
    from vga.load import load_folder

    data = tmp_path / "data"
    data.mkdir()
    (data / "accounts.csv").write_text("account_id,arr,account_name\na1,100,ok\n,200,=cmd|' /C calc'!A0\n")
    loaded = load_folder(data)
    loaded.write_quarantine(tmp_path / "q")
    text = (tmp_path / "q" / "accounts.csv").read_text()
    assert "'=cmd" in text and ",=cmd" not in text


@pytest.mark.parametrize("text, says", [
    ("[quick_wins]\ndue_days = 3\n", r"\[quick_wins\] due_days = 3; it must be a whole number of days from 7"),
    ("[quick_wins]\ndue_days = 30.5\n", r"due_days = 30.5"),
    ('[quick_wins.owners]\nslices = "VP"\n', r"\[quick_wins.owners\] 'slices' is not an action kind; kinds: .*slice"),
    ("[quick_wins.owners]\nslice = 3\n", r"slice = 3; it must name a role or a person"),
])
def test_a_bad_due_days_or_owner_is_refused_with_its_key(tmp_path, text, says):
    from vga.config import load_config
    from vga.errors import UsageError

    (tmp_path / "vga.toml").write_text(text)
    with pytest.raises(UsageError, match=says):
        load_config(tmp_path / "vga.toml")
    (tmp_path / "vga.toml").write_text('[quick_wins]\ndue_days = 45\n[quick_wins.owners]\nslice = "VP Customer Success"\n')
    rules = load_config(tmp_path / "vga.toml")["quick_wins"]
    assert rules["due_days"] == 45 and rules["owners"] == {"slice": "VP Customer Success"}
    # An owner written with their contact details reaches no output with them.
    (tmp_path / "vga.toml").write_text('[quick_wins.owners]\nslice = "Ann (ann.lee@acme.com, +44 20 7946 0958)"\n')
    assert load_config(tmp_path / "vga.toml")["quick_wins"]["owners"] == {"slice": "Ann ([redacted], [redacted])"}
