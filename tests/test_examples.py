"""Real exports through a mapping file alone: the shipped examples.

The public datasets are not copied into the project: they are read where
they are (``../shared/data/real`` beside the repository, or the folder named
by ``VGA_REAL_DATA``), unchanged.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pandas as pd
import pytest

from vga.errors import DataError
from vga.run.runner import run_period

ROOT = Path(__file__).resolve().parents[1]
CANDIDATES = [Path(os.environ["VGA_REAL_DATA"])] if os.environ.get("VGA_REAL_DATA") else [
    ROOT.parent / "shared" / "data" / "real", Path("/work/shared/data/real")]
REAL = next((p for p in CANDIDATES if p.is_dir()), None)
needs_real = pytest.mark.skipif(REAL is None, reason=f"the public datasets are not at {CANDIDATES[0]}")


@needs_real
@pytest.mark.slow
def test_ibm_telco_runs_through_its_mapping_and_states_the_known_facts(tmp_path):
    config = ROOT / "data" / "examples" / "ibm-telco-churn" / "vga.toml"
    run = run_period(REAL / "ibm-telco-churn", "2019Q3", config_path=config, out=tmp_path, quiet=True)
    summary = json.loads((run / "results" / "summary.json").read_text())
    assert summary["accounts_total"] == 7043 and summary["cohort_accounts"] == 7043
    assert round(summary["logo_churn_rate"] * 7043) == 1869
    assert summary["logo_churn_rate"] == pytest.approx(0.2654, abs=5e-5)
    slices = pd.read_csv(run / "results" / "slices.csv", dtype=str, keep_default_na=False)
    contract = slices[slices["dimension"] == "contract"].set_index("value")
    expected = {"Month-to-month": (3875, 1655), "One year": (1473, 166), "Two year": (1695, 48)}
    for value, (accounts, churned) in expected.items():
        assert (int(contract.loc[value, "accounts"]), int(contract.loc[value, "churned"])) == (accounts, churned)
        assert contract.loc[value, "flagged"] == "true"
    from bs4 import BeautifulSoup

    page = BeautifulSoup((run / "report.html").read_text(), "html.parser").get_text(" ")
    assert "Assumed by the data's mapping: the snapshot is as of 2019-09-30" in page
    manifest = json.loads((run / "manifest.json").read_text())
    accounts = next(i for i in manifest["inputs"] if i["table"] == "accounts")
    assert accounts["path"].startswith("[sources.accounts] sql")  # the mapping, and the file it read, with its hash
    assert [Path(f["path"]).name for f in accounts["files"]] == ["Telco-Customer-Churn.csv"]
    assert len(accounts["files"][0]["sha256"]) == 64


def test_a_failing_mapping_query_names_its_line(tmp_path):
    from vga.config import load_config
    from vga.load import load_folder

    (tmp_path / "export.csv").write_text("id,amount\na,10\n")
    (tmp_path / "vga.toml").write_text(
        '[analysis]\nalpha = 0.05\n\n[sources.accounts]\nsql = """\nSELECT id AS account_id, amont AS arr FROM read_csv(\'export.csv\')\n"""\n')
    with pytest.raises(DataError, match=r"vga.toml line 5 \(\[sources.accounts\] sql\): the query failed: .*amont"):
        load_folder(tmp_path, load_config(tmp_path / "vga.toml"))
    (tmp_path / "vga.toml").write_text(
        '[sources.accounts]\nsql = "SELECT id AS account_id, CAST(amount AS DOUBLE) AS arr FROM read_csv(\'export.csv\')"\n')
    loaded = load_folder(tmp_path, load_config(tmp_path / "vga.toml"))
    accounts = loaded.tables["accounts"].accepted
    assert list(accounts["account_id"]) == ["a"] and list(accounts["arr"]) == [10.0]


@needs_real
@pytest.mark.slow
def test_ravenstack_runs_through_its_mapping_and_shows_its_disagreeing_churn_labels(tmp_path):
    config = ROOT / "data" / "examples" / "ravenstack-saas" / "vga.toml"
    data = REAL / "ravenstack-saas"
    run = run_period(data, "2024Q4", config_path=config, out=tmp_path, quiet=True)
    summary = json.loads((run / "results" / "summary.json").read_text())
    assert summary["accounts_total"] == 500
    labels = {r["label"]: r for r in summary["churn_labels"]}
    assert labels["accounts.churn_flag is True"]["accounts"] == 110
    assert labels["a churn event (churn_events)"]["accounts"] == 352
    assert labels["an ended subscription (subscriptions.churn_flag)"]["accounts"] == 312

    # Independently of vga: ARR from the subscription export, as the mapping states it.
    accounts = pd.read_csv(data / "ravenstack_accounts.csv", dtype=str)
    subs = pd.read_csv(data / "ravenstack_subscriptions.csv", dtype={"account_id": str})
    flagged = set(accounts.loc[accounts["churn_flag"] == "True", "account_id"])
    as_of = pd.Timestamp("2024-12-31")
    paid = subs[subs["arr_amount"] > 0]
    running = paid[(pd.to_datetime(paid["start_date"]) <= as_of)
                   & (paid["end_date"].isna() | (pd.to_datetime(paid["end_date"]) > as_of))]
    arr_now = running[~running["account_id"].isin(flagged)].groupby("account_id")["arr_amount"].sum()
    assert summary["arr_total"] == pytest.approx(float(arr_now.sum()))
    # Churned in the figures: flagged, or every paid subscription ended on some day (ARR 0 that day).
    changes = pd.concat([paid[["account_id", "start_date", "arr_amount"]].rename(columns={"start_date": "day"}),
                         paid.dropna(subset=["end_date"])[["account_id", "end_date", "arr_amount"]]
                         .rename(columns={"end_date": "day"}).assign(arr_amount=lambda f: -f["arr_amount"])])
    daily = changes.groupby(["account_id", "day"])["arr_amount"].sum().sort_index()
    running_sum = daily[daily != 0].groupby(level="account_id").cumsum()
    dipped = set(running_sum[running_sum == 0].index.get_level_values("account_id"))
    # A flagged account is churned in the figures when it paid just before its churn date (its latest churn
    # event, else its latest subscription end, else the as-of date): one that never had ARR by then never paid.
    events = pd.read_csv(data / "ravenstack_churn_events.csv", dtype={"account_id": str})
    ends = paid.dropna(subset=["end_date"]).groupby("account_id")["end_date"].max()
    churn_day = pd.to_datetime(pd.Series({a: "2024-12-31" for a in flagged}).combine_first(ends[ends.index.isin(flagged)])
                               .pipe(lambda d: events.groupby("account_id")["churn_date"].max().reindex(d.index)
                                     .fillna(d)))
    started = paid.assign(start=pd.to_datetime(paid["start_date"])).groupby("account_id")["start"].min()
    paid_before = {a for a in flagged if a in started.index and started[a] < churn_day[a]}
    figures = labels["the figures: a renewals row took ARR to 0"]
    assert figures["accounts"] == len(paid_before | dipped) > len(paid_before) and len(flagged - paid_before) == 2
    assert labels["accounts.churn_flag is True"]["also_churned_in_figures"] == len(paid_before) == 108

    # Nothing lost: every table's rows read = accepted + quarantined; one event per counted use.
    manifest = json.loads((run / "manifest.json").read_text())
    quality = summary["data_quality"]
    for table, q in quality.items():
        assert q["rows_read"] == q["rows_accepted"] + q["rows_quarantined"], table
    usage = pd.read_csv(data / "ravenstack_feature_usage.csv")
    assert quality["usage_events"]["rows_accepted"] == int(usage["usage_count"].sum())
    events = next(i for i in manifest["inputs"] if i["table"] == "usage_events")
    assert sorted(Path(f["path"]).name for f in events["files"]) == [
        "ravenstack_feature_usage.csv", "ravenstack_subscriptions.csv"]

    # The report says which churn the figures follow, with the counts, first thing.
    from bs4 import BeautifulSoup

    page = " ".join(BeautifulSoup((run / "report.html").read_text(), "html.parser").get_text(" ").split())
    assert ("The export's churn labels disagree on who churned by 2024-12-31: 'accounts.churn_flag is True' names 110; "
            "'a churn event (churn_events)' names 352; 'an ended subscription (subscriptions.churn_flag)' names 312") in page
    assert f"The figures follow the renewals table (a row that took ARR to 0): {figures['accounts']} accounts" in page
    assert page.index("disagree on who churned") < page.index("Headline figures")
    assert "Assumed by the data's mapping: an account churned when accounts.churn_flag is True" in page
    assert "River @ Rivalytics" in (ROOT / "docs" / "about" / "data-sources.md").read_text()

    # The mapping's user ids (the subscription ids) reach no file of the run.
    user_ids = set(subs["subscription_id"])
    for path in run.rglob("*"):
        if path.is_file():
            found = user_ids & set(re.findall(r"S-[0-9a-f]{6}", path.read_text(errors="ignore")))
            assert not found, f"{path.relative_to(run)} holds user ids such as {sorted(found)[:3]}"


def test_churn_labels_are_counted_against_the_figures(tmp_path):
    from vga.config import load_config
    from vga.load import load_folder, to_inputs
    from vga.analysis.decisions import churn_label_agreement

    (tmp_path / "accounts.csv").write_text("account_id,arr,contract_start\na,10,2023-01-01\nb,10,2023-01-01\n"
                                           "c,10,2023-01-01\nd,10,2024-06-01\n")
    # a churns; d's 0 row predates its contract, so d has not churned; b and c renew.
    (tmp_path / "renewals.csv").write_text("account_id,renewal_date,arr_before,arr_after\n"
                                           "a,2024-03-01,10,0\nb,2024-03-01,10,12\nd,2024-01-01,10,0\nc,2025-03-01,10,0\n")
    (tmp_path / "crm.csv").write_text("id,churned\na,yes\nb,yes\nzz,yes\nc,yes\n")
    (tmp_path / "vga.toml").write_text(
        '[churn_labels]\n"CRM flag" = "SELECT id AS account_id FROM read_csv(\'crm.csv\', all_varchar = true) '
        'WHERE churned = \'yes\'"\n"nobody" = "SELECT id AS account_id FROM read_csv(\'crm.csv\') WHERE false"\n')
    inputs = to_inputs(load_folder(tmp_path, load_config(tmp_path / "vga.toml")))
    table = churn_label_agreement(inputs.churn_labels, inputs.table("renewals"), inputs.table("accounts"),
                                  pd.Timestamp("2024-12-31").date())
    rows = table.set_index("label")
    assert rows.iloc[0].to_dict() == {"accounts": 1, "also_churned_in_figures": 1, "only_in_label": 0,
                                      "only_in_figures": 0, "unknown_ids": 0,
                                      "left_after_as_of": 0}  # a only: c churns after the as-of
    # The flag names b (renewed: a disagreement) and c (left after the as-of date: timing).
    assert rows.loc["CRM flag"].to_dict() == {"accounts": 3, "also_churned_in_figures": 1, "only_in_label": 2,
                                              "only_in_figures": 0, "unknown_ids": 1, "left_after_as_of": 1}
    assert rows.loc["nobody"].to_dict() == {"accounts": 0, "also_churned_in_figures": 0, "only_in_label": 0,
                                            "only_in_figures": 1, "unknown_ids": 0, "left_after_as_of": 0}
    from vga.present.churned_customers import churn_label_sentence, churn_labels_agree
    records = table.to_dict("records")
    assert not churn_labels_agree(records)
    text = churn_label_sentence(records, "2024-12-31")
    assert "1 of them left after 2024-12-31" in text
    # Only timing apart: the labels agree as of the as-of date.
    timing = [dict(records[0]), {**records[1], "accounts": 2, "only_in_label": 1, "left_after_as_of": 1}]
    assert churn_labels_agree(timing)
    assert "disagree on who" not in churn_label_sentence(timing, "2024-12-31")
    assert "agree with the figures as of 2024-12-31" in churn_label_sentence(timing, "2024-12-31")

    (tmp_path / "vga.toml").write_text('[analysis]\nalpha = 0.05\n\n[churn_labels]\n"CRM flag" = "SELECT nope FROM read_csv(\'crm.csv\')"\n')
    with pytest.raises(DataError, match=r'vga.toml line 5 \(\[churn_labels\] "CRM flag"\): the query failed'):
        load_folder(tmp_path, load_config(tmp_path / "vga.toml"))
    (tmp_path / "vga.toml").write_text('[churn_labels]\n"CRM flag" = "SELECT id FROM read_csv(\'crm.csv\')"\n')
    with pytest.raises(DataError, match=r"returns no account_id column \(it returns id\)"):
        load_folder(tmp_path, load_config(tmp_path / "vga.toml"))


def test_events_from_a_mapping_query_keep_every_row(tmp_path):
    from vga.config import load_config
    from vga.load import load_folder

    (tmp_path / "accounts.csv").write_text("account_id,arr\na,10\n")
    (tmp_path / "usage.csv").write_text("day,feature,seat,count\n2024-01-02,x,s1,2\nnot a date,y,s1,1\n2024-01-03,z,s9,1\n")
    (tmp_path / "vga.toml").write_text(
        '[sources.usage_events]\nsql = """\nSELECT day AS timestamp, feature, seat AS user_id, '
        "CASE WHEN seat = 's1' THEN 'a' ELSE 'nobody' END AS account_id "
        "FROM read_csv('usage.csv', all_varchar = true), range(CAST(count AS INTEGER)) AS n(i)\n\"\"\"\n")
    loaded = load_folder(tmp_path, load_config(tmp_path / "vga.toml"))
    events = loaded.tables["usage_events"]
    assert events.quality == {"rows_read": 4, "rows_accepted": 2, "rows_quarantined": 2, "cells_blanked": 0}
    reasons = sorted(events.quarantined["reason"])
    assert "not a date" in reasons[0] or "not a date" in reasons[1]
    assert any("nobody" in r for r in reasons)
    assert [p.name for p in events.files] == ["usage.csv"]
    (tmp_path / "vga.toml").write_text('[sources.usage_events]\nsql = "SELECT nothing FROM read_csv(\'usage.csv\')"\n')
    with pytest.raises(DataError, match=r"vga.toml line 2 \(\[sources.usage_events\] sql\): the query failed"):
        load_folder(tmp_path, load_config(tmp_path / "vga.toml"))
