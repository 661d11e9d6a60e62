"""End-to-end: `vga run` on the sample and on minimum viable data."""

from __future__ import annotations

import csv
import json
import re
import zipfile
from datetime import date

import pandas as pd
import pytest
from scipy.stats import fisher_exact
from statsmodels.stats.multitest import multipletests

from vga.run.report import network_references

from . import reference

pytestmark = pytest.mark.slow
AS_OF, START = date(2026, 9, 30), date(2025, 9, 30)


def read_csv(path):
    return pd.read_csv(path, dtype={"account_id": str, "value": str, "previous_quadrant": str}, keep_default_na=False)


def test_run_folder_has_every_output(sample_run):
    for rel in ["report.html", "manifest.json", "results/summary.json", "results/quadrants.csv", "results/slices.csv",
                "notebooks/02_data_gathering.ipynb", "notebooks/05_pattern_slicing.ipynb",
                "notebooks/07_quadrant_view.ipynb", "notebooks/11_executive_summary.ipynb", "quarantine/accounts.csv"]:
        assert (sample_run / rel).is_file(), rel
    assert not (sample_run / "_work").exists()
    assert not list(sample_run.parent.glob(".*partial"))


def test_quarantine_counts_match_the_planted_bad_rows(sample_run, truth):
    summary = json.loads((sample_run / "results/summary.json").read_text())
    for table, expected in truth["bad_rows"].items():
        got = summary["data_quality"][table]
        assert got["rows_quarantined"] == expected["quarantined"], table
        assert got["cells_blanked"] == expected["blanked"], table
        assert got["rows_read"] == truth["rows_written"][table] == got["rows_accepted"] + got["rows_quarantined"]
        path = sample_run / "quarantine" / f"{table}.csv"
        if expected["quarantined"]:
            q = pd.read_csv(path, dtype=str, keep_default_na=False)
            assert len(q) == expected["quarantined"] and {"source_row", "reason"} <= set(q.columns)
            for phrase, count in expected["reasons"].items():
                assert q["reason"].str.contains(phrase, regex=False).sum() + _cells(sample_run, table, phrase) == count, (table, phrase)
        else:
            assert not path.exists()


def _cells(run, table, phrase):
    path = run / "quarantine" / f"{table}_cells.csv"
    if not path.exists():
        return 0
    return int(pd.read_csv(path, dtype=str)["reason"].str.contains(phrase, regex=False).sum())


def test_planted_region_is_flagged_and_small_book_is_not(sample_run, truth):
    slices = read_csv(sample_run / "results/slices.csv")
    region = truth["planted"]["region"]
    row = slices[(slices["dimension"] == region["dimension"]) & (slices["value"] == region["value"])].iloc[0]
    assert str(row["flagged"]).lower() == "true"
    assert float(row["churn_rate"]) > float(row["rest_churn_rate"])
    small = truth["planted"]["small_csm_book"]
    book = slices[(slices["dimension"] == small["dimension"]) & (slices["value"] == small["value"])].iloc[0]
    assert book["accounts"] < 10 and str(book["tested"]).lower() == "false" and str(book["flagged"]).lower() == "false"
    assert book["churn_rate"] > 0.4  # high churn, yet rightly not flagged
    # Nothing planted, nothing found: no flag outside the planted dimension.
    flagged = slices[slices["flagged"].astype(str).str.lower() == "true"]
    assert set(flagged["dimension"]) <= {region["dimension"]}
    assert not set(flagged["dimension"]) & set(truth["planted"]["no_effect_dimensions"])


def test_frustrated_power_users_churn_about_twice_champions(sample_data, sample_inputs, truth):
    from vga.periods import parse_period
    from vga.analysis.scores import scores_at
    from vga.analysis.quadrant import assign_quadrant
    from vga.analysis.retention import cohort_table

    data = sample_data
    p = parse_period(truth["period"])
    cohort = cohort_table(data.get("accounts"), data.get("renewals"), p.as_of, p.window_start)
    start_scores = scores_at(sample_inputs, p.window_start, data.config, run_as_of=False)
    start_scores["quadrant"] = assign_quadrant(start_scores["usage_score"], start_scores["health_score"])
    rates = cohort.merge(start_scores, on="account_id").groupby("quadrant")["churned"].agg(["mean", "sum", "size"])
    planted = truth["planted"]["quadrant_churn"]["frustrated_vs_champions_ratio"]
    ratio = rates.loc["Frustrated Power Users", "mean"] / rates.loc["Champions", "mean"]
    assert planted * 0.6 < ratio < planted * 1.6
    fpu, champ = rates.loc["Frustrated Power Users"], rates.loc["Champions"]
    _, p_value = fisher_exact([[fpu["sum"], fpu["size"] - fpu["sum"]], [champ["sum"], champ["size"] - champ["sum"]]])
    assert p_value < 0.05


def test_summary_matches_an_independent_computation(sample_run, sample_dir, tmp_path):
    summary = json.loads((sample_run / "results/summary.json").read_text())
    # The independent reference reads the CSV text; drop rows the contract quarantines first.
    quarantined = {
        t: set(pd.read_csv(sample_run / "quarantine" / f"{t}.csv", dtype=str)["source_row"].astype(int))
        for t in ("accounts", "renewals")
    }
    folder = tmp_path / "clean"
    folder.mkdir()
    for t in ("accounts", "renewals"):
        rows = reference.read(sample_dir, t)
        kept = [r for r in rows if r["_row"] not in quarantined[t]]
        for r in kept:
            if t == "accounts" and r["contract_start"] == "31/12/2020":
                r["contract_start"] = ""  # the blanked cell
        with open(folder / f"{t}.csv", "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=[k for k in rows[0] if k != "_row"])
            w.writeheader()
            w.writerows({k: v for k, v in r.items() if k != "_row"} for r in kept)
    expected = reference.retention(folder, AS_OF, START)
    assert summary["cohort_accounts"] == expected["cohort_accounts"]
    for key in ("nrr", "grr", "logo_churn_rate", "arr_churned", "arr_contracted", "arr_expanded", "arr_total"):
        assert summary[key] == pytest.approx(expected[key], rel=1e-12), key
    assert set(summary["quadrants"]) == {"Champions", "Frustrated Power Users", "Relationship-Dependent", "Churn Risk", "Unscored"}
    quadrants = read_csv(sample_run / "results/quadrants.csv")
    assert sum(v["accounts"] for v in summary["quadrants"].values()) == len(quadrants)
    assert sum(v["arr"] for v in summary["quadrants"].values()) == pytest.approx(summary["arr_total"], rel=1e-12)


def test_minimum_viable_mode_follows_the_definitions_exactly(minimal_run, minimal_dir):
    summary = json.loads((minimal_run / "results/summary.json").read_text())
    expected = reference.retention(minimal_dir, AS_OF, START)
    for key in ("cohort_accounts", "nrr", "grr", "logo_churn_rate", "arr_churned", "arr_contracted", "arr_expanded"):
        assert summary[key] == pytest.approx(expected[key], rel=1e-12), key
    # Quadrants: one row per active account, from accounts.usage_score / health_score.
    accounts = {a["account_id"]: a for a in reference.read(minimal_dir, "accounts")}
    renewals = reference.read(minimal_dir, "renewals")
    quadrants = read_csv(minimal_run / "results/quadrants.csv")
    active = {aid for aid, a in accounts.items()
              if reference.arr_at(a, [r for r in renewals if r["account_id"] == aid], AS_OF) > 0}
    assert set(quadrants["account_id"]) == active
    for row in quadrants.itertuples():
        a = accounts[row.account_id]
        want = reference.quadrant(float(a["usage_score"]), float(a["health_score"]))
        assert row.quadrant == want, row.account_id
        assert row.previous_quadrant == "" and str(row.moved).lower() == "false"
    # Slices: Fisher and BH recomputed here from the reference cohort.
    slices = read_csv(minimal_run / "results/slices.csv")
    cohort = expected["cohort"]
    churned = {aid: e == 0 for aid, (s, e) in cohort.items()}
    tested = slices[slices["tested"].astype(str).str.lower() == "true"]
    ps = []
    for row in tested.itertuples():
        inside = [aid for aid in cohort if accounts[aid][row.dimension] == row.value]
        c = sum(churned[aid] for aid in inside)
        rest = [aid for aid in cohort if accounts[aid][row.dimension] != row.value]
        rc = sum(churned[aid] for aid in rest)
        assert (row.accounts, row.churned) == (len(inside), c)
        ps.append(fisher_exact([[c, len(inside) - c], [rc, len(rest) - rc]])[1])
    assert list(tested["p_value"].astype(float)) == pytest.approx(ps, rel=1e-12)
    assert list(tested["q_value"].astype(float)) == pytest.approx(list(multipletests(ps, method="fdr_bh")[1]), rel=1e-12)


def test_report_is_self_contained_code_free_and_escaped(sample_run):
    page = (sample_run / "report.html").read_text()
    assert network_references(page) == []
    assert "<script" not in page.lower()  # no scripts at all: nothing to run, nothing injected
    for code in ("open_chapter(", "from vga", "show.", "Traceback", "ctx.save_csv"):
        assert code not in page
    assert not re.search(r"(^|[\n>])\s*import \w", page)  # an import line, not a feature named data_import
    assert "data:image/png;base64" in page
    for title in ("Executive summary", "Data gathering", "Pattern slicing", "Usage-Health quadrant"):
        assert title in page


def test_no_personal_data_in_any_output(sample_run, sample_dir):
    personal = set()
    for r in reference.read(sample_dir, "users"):
        personal |= {r["user_id"], r["email"]}
    for r in reference.read(sample_dir, "surveys"):
        personal.add(r["respondent_id"])
    token = re.compile(r"[\w.@+-]+")
    image = re.compile(r"data:image/[a-z]+;base64,[A-Za-z0-9+/=]+|\"image/png\": \"[A-Za-z0-9+/=\\n]+\"")
    scanned = 0
    for path in sample_run.rglob("*"):
        if path.is_file():
            if path.suffix == ".xlsx":  # a zip of XML: read what a spreadsheet would show
                with zipfile.ZipFile(path) as book:
                    text = "\n".join(book.read(n).decode("utf-8", "ignore") for n in book.namelist())
            else:
                text = path.read_text(errors="ignore")
            text = image.sub("", text)  # pictures are pixels, not text
            found = set(token.findall(text)) & personal
            assert not found, f"{path.relative_to(sample_run)} holds personal values such as {sorted(found)[:3]}"
            scanned += 1
    assert scanned >= 20 and len(personal) > 1000  # the scan saw the run and the input's ids


def test_csv_outputs_follow_the_output_rules(sample_run):
    q = pd.read_csv(sample_run / "results/quadrants.csv", dtype=str, keep_default_na=False)
    assert list(q.columns[:8]) == ["account_id", "arr", "usage_score", "health_score", "health_color", "quadrant",
                                   "previous_quadrant", "moved"]
    assert set(q["moved"]) <= {"true", "false"} and (q["moved"] == "true").any()
    s = pd.read_csv(sample_run / "results/slices.csv", dtype=str, keep_default_na=False)
    assert set(s["flagged"]) <= {"true", "false"} and set(s["tested"]) <= {"true", "false"}
    assert (s.loc[s["tested"] == "false", "q_value"] == "").all()
    assert q["account_id"].str.fullmatch(r"\d{6}").all()  # ids keep their leading zeros
