"""The whole series: every step's section, the executive summary, redaction."""

from __future__ import annotations

import json
import re
from datetime import date

import pandas as pd
import pytest
from bs4 import BeautifulSoup

from vga.periods import one_year_before
from vga.present import blocks
from vga.run.redact import key_path, pseudonym, redaction_key
from vga.run.report import build_report
from vga.present import METHOD_STEPS, missing_steps
from vga.run.runner import run_period

from . import reference

pytestmark = pytest.mark.slow


def _title(section) -> str:
    """A section's step and heading: a section of the story is headed by its
    finding, its step's name in the line above (vga.run.report.finding_first)."""
    kicker = section.select_one(".vga-kicker")
    return ((kicker.get_text(" ", strip=True) + " | ") if kicker else "") + section.find(["h1"]).get_text(" ", strip=True)


def sections(run) -> dict[str, str]:
    soup = BeautifulSoup((run / "report.html").read_text(), "html.parser")
    return {_title(s): s.get_text(" ", strip=True) for s in soup.select('section.vga-section[id^="section-"]')}


@pytest.mark.parametrize("which", ["sample_run", "minimal_run"])
def test_every_step_has_a_section_with_findings_or_visible_notes(which, request):
    run = request.getfixturevalue(which)
    found = sections(run)
    assert len(found) == 11
    titles = " ".join(found)
    for number in range(1, 11):
        assert f"Step {number} " in titles
    # each section of the story is headed by a finding: a sentence with a number in it
    story = [t for t in found if t.startswith("Step ") and not t.startswith(("Step 1 ", "Step 2 "))]
    assert len(story) == 8
    if which == "sample_run":  # with every table given, each has a finding to lead with
        assert all(re.search(r"\| .*\d", t) for t in story), story
    soup = BeautifulSoup((run / "report.html").read_text(), "html.parser")
    for section in soup.select('section.vga-section[id^="section-"]'):
        assert section.select(".vga-finding, .vga-note, h1.vga-headline"), section.find("h1").get_text()
    assert soup.select("section#glossary dl.vga-glossary dt")  # and the glossary closes the report
    assert "Not part of this report" not in soup.get_text()


def test_minimal_data_says_what_is_missing(minimal_run):
    text = (minimal_run / "report.html").read_text()
    for table in ("usage_events", "support_tickets", "interviews", "onboarding", "interventions"):
        assert table in text


def test_summary_compares_with_the_previous_period_from_the_same_data(sample_run, minimal_run, minimal_dir):
    # the minimal sample has no bad rows: the plain reference reads it as is
    before = json.loads((minimal_run / "results" / "summary.json").read_text())["previous"]
    as_of = date.fromisoformat(before["as_of"])
    expected = reference.retention(minimal_dir, as_of, one_year_before(as_of))
    assert before["period"] == "2026Q2"
    for key in ("nrr", "grr", "logo_churn_rate", "arr_churned"):
        assert before[key] == pytest.approx(expected[key], rel=1e-12)
    summary = json.loads((sample_run / "results" / "summary.json").read_text())
    gaps = summary["value_gaps"]
    assert gaps and [g["money_at_risk"] for g in gaps] == sorted((g["money_at_risk"] for g in gaps), reverse=True)
    assert {g["confidence"] for g in gaps} <= {"high", "medium", "low", "uncertain", "descriptive"}
    # A tested gap whose money's interval reaches 0 is never called high or medium.
    assert all(g["confidence"] == "uncertain" for g in gaps if g.get("money_at_risk_low") is not None
               and g["money_at_risk_low"] <= 0 and g["q_value"] < 0.05)
    fpu = next(g for g in gaps if g["gap"].startswith("Frustrated"))
    assert fpu["confidence"] == "high"
    assert summary["top_quick_wins"][0]["rank"] == 1


def test_the_story_comes_before_any_table(sample_run):
    soup = BeautifulSoup((sample_run / "report.html").read_text(), "html.parser")
    first = soup.select("section.vga-section")[0]
    findings = first.select(".vga-finding")
    assert findings and "Net revenue retention is" in findings[0].get_text()
    assert first.find("table") is None or first.decode().index("vga-finding") < first.decode().index("<table")
    assert "since 2026Q2" in first.get_text()


def test_report_names_steps_that_are_missing(tmp_path, sample_run):
    out = build_report([("Executive summary", sample_run / "notebooks" / "11_executive_summary.ipynb")],
                       tmp_path / "r.html", title="t", subtitle="s", missing=["Step 6 · Voice of the customer"])
    assert "Not part of this report: Step 6 · Voice of the customer" in out.read_text()
    assert METHOD_STEPS == 11 and missing_steps() == []  # every step of the method has its chapter


def test_numbers_are_for_people():
    blocks.set_currency("EUR")
    try:
        assert blocks.money(1_234_567) == "EUR 1.2M"
    finally:
        blocks.set_currency("")
    assert blocks.money(1_234_567) == "1.2M"
    html = str(blocks.table(pd.DataFrame({"churn_rate": [0.1], "flagged": [True]})))
    assert "churn rate" in html and "churn_rate" not in html and ">yes<" in html


def test_redacted_runs_hold_no_account_or_csm_name(minimal_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config-home"))
    accounts = pd.read_csv(minimal_dir / "accounts.csv", dtype=str, keep_default_na=False)
    run = run_period(minimal_dir, "2026Q3", out=tmp_path / "reports", quiet=True, redact=True)
    names = set()
    for column in ("account_name", "csm", "domain", "sales_rep", "channel_partner"):
        names |= {n for n in accounts.get(column, []) if n}
    for path in run.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".csv", ".json", ".ipynb"):
            text = path.read_text(errors="replace")
            leaked = [n for n in names if n in text]
            assert not leaked, f"{path.name} holds {leaked[:3]}"
    quadrants = pd.read_csv(run / "results" / "quadrants.csv", dtype=str, keep_default_na=False)
    first = accounts.set_index("account_id").loc[quadrants["account_id"].iloc[0], "account_name"]
    key, _ = redaction_key(tmp_path / "reports")  # the user's own key, made by the run, readable by its owner only
    assert oct(key_path().stat().st_mode & 0o777) == "0o600" and key_path().is_relative_to(tmp_path / "config-home")
    assert not [p for p in (tmp_path / "reports").rglob("*") if "key" in p.name]  # never beside the reports
    assert quadrants["account_name"].iloc[0] == pseudonym(first, "Account", key)  # stable: same name, same pseudonym
    # Not reversible by hashing candidate names: the pseudonym is keyed.
    import hashlib

    shown = quadrants["account_name"].iloc[0].split(" ")[-1]
    assert all(hashlib.sha256(n.encode()).hexdigest()[:len(shown)] != shown for n in accounts["account_name"])
    assert pseudonym(first, "Account", b"another key") != quadrants["account_name"].iloc[0]
    assert json.loads((run / "manifest.json").read_text())["parameters"]["redact"] is True


def test_planted_effects_appear_in_the_results_files(sample_run, truth):
    results = sample_run / "results"
    churn = pd.read_csv(results / "quadrant_churn.csv").set_index("quadrant")["churn_rate"]
    ratio = churn["Frustrated Power Users"] / churn["Champions"]
    assert 1.4 < ratio < 2.8  # planted: about twice
    slices = pd.read_csv(results / "slices.csv", dtype={"value": str}, keep_default_na=False)
    flagged = set(zip(slices.loc[slices["flagged"], "dimension"], slices.loc[slices["flagged"], "value"]))
    assert flagged == {("region", truth["planted"]["region"]["value"])}  # and nothing else
    behaviours = pd.read_csv(results / "behaviours.csv")
    hits = behaviours[behaviours["flagged"]]
    milestone = "milestone_" + truth["planted"]["onboarding_milestone"]["milestone"]
    assert set(hits.loc[hits["measure"].str.startswith("milestone_"), "measure"]) == {milestone}
    feature = "uses_" + truth["planted"]["expansion_feature"]["feature"]
    expansion = hits[hits["comparison"] == "expanded vs renewed"]
    assert set(expansion["measure"]) == {feature}
    signals = pd.read_csv(results / "churn_signals.csv").set_index(["signal", "lead_days"])
    assert signals.loc[("usage_score", 30), "flagged"] and signals.loc[("usage_score", 30), "difference"] < 0
    milestones = pd.read_csv(results / "milestones.csv")
    assert set(milestones.loc[milestones["flagged"], "milestone"]) == {milestone[len("milestone_"):]}


def test_a_reused_kernel_forgets_the_last_notebooks_currency(monkeypatch):
    """What runs between two notebooks in one kernel empties the currency:
    a notebook never shows amounts in the previous one's currency."""
    import builtins

    from vga.run.kernels import RESET

    class Shell:
        def run_line_magic(self, name, value):
            assert (name, value) == ("reset", "-f")

    monkeypatch.setattr(builtins, "get_ipython", lambda: Shell(), raising=False)
    blocks.set_currency("EUR")
    assert blocks.money(2_000_000) == "EUR 2.0M"
    exec(RESET, {})
    assert blocks.money(2_000_000) == "2.0M"
