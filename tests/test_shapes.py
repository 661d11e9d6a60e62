"""Any company's data, not only the sample's: every shape runs and reads true.

Two generated-shape tests (with ``tests/test_optional_parts.py``):

- every optional table taken out of the sample at once, through ``vga run``
  (each optional column and table one at a time, and every optional column
  at once: in ``tests/test_optional_parts.py``): the run ends, and every
  section of every chapter shows findings or says why not;
- companies drawn by hypothesis (:mod:`tests.company`): 30 to 3,000
  accounts, one to six segments, accounts that never paid, churn from none
  to all, events ending 0 to 30 days before the as-of date, an as-of date
  on a weekend, snapshot exports. No shape may crash or print a figure
  computed from no data, and each says what it could not compute.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from vga.contract import TABLES
from vga.sample import write_sample

from .company import (Shape, empty_sections, render_series, says_something, story_problems, untrue_figures,
                      variant, write_company)

PERIOD = "2026Q3"


@pytest.fixture(scope="module")
def small_sample(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("small-sample")
    write_sample(folder, accounts=80, seed=5)
    return folder


def _cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vga", *map(str, args)], capture_output=True, text=True)


def _sections_of(run: Path) -> dict:
    """Each presenter cell of each executed notebook: its output as text."""
    from bs4 import BeautifulSoup

    out = {}
    for path in sorted((run / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        for cell in nb["cells"]:
            source = "".join(cell.get("source", ""))
            if cell["cell_type"] == "code" and source.startswith("show."):
                html = "".join("".join(o.get("data", {}).get("text/html", "")) for o in cell.get("outputs", []))
                name = source.removeprefix("show.").split("(")[0]
                out[(path.stem, name)] = " ".join(BeautifulSoup(html, "html.parser").get_text(" ").split())
    return out


@pytest.mark.slow
def test_a_run_with_accounts_alone(small_sample, tmp_path):
    """Every optional table taken out at once, through the command line: the
    run ends, every section shows findings or says why not."""
    data = variant(small_sample, tmp_path / "data", {name: None for name in TABLES if name != "accounts"})
    done = _cli("run", "--data", data, "--period", PERIOD, "--out", tmp_path / "reports")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stdout + done.stderr and "Warning:" not in done.stderr
    sections = _sections_of(tmp_path / "reports" / PERIOD)
    assert len(sections) > 50
    says_something(sections, "accounts alone")
    summary = json.loads((tmp_path / "reports" / PERIOD / "results" / "summary.json").read_text())
    assert summary["nrr"] is None and "renewals" in summary["null_reasons"]["retention"]


# --------------------------------------------------------------------------
# Companies of every shape


def _weekend(day: date) -> date:
    """The Sunday on or before ``day``."""
    return day - timedelta(days=(day.weekday() + 1) % 7)


@st.composite
def shapes(draw):
    snapshot = draw(st.booleans())
    as_of = draw(st.sampled_from([date(2026, 6, 30), _weekend(date(2026, 5, 31)), date(2025, 12, 31)]))
    return Shape(
        accounts=draw(st.integers(30, 400)),  # 3,000 accounts: an explicit example below
        segments=draw(st.integers(1, 6)),
        zero_arr_share=draw(st.sampled_from([0.0, 0.1, 0.5, 1.0])),
        churn_share=draw(st.sampled_from([0.0, 0.05, 0.3, 1.0])),
        events_gap_days=None if snapshot else draw(st.one_of(st.none(), st.integers(0, 30))),
        as_of=as_of, snapshot=snapshot, seed=draw(st.integers(0, 1000)),
    )


@pytest.mark.slow
@settings(max_examples=6, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(shape=shapes())
@example(shape=Shape(events_gap_days=1))  # the export ends the day before the quarter end
@example(shape=Shape(events_gap_days=12))  # ... and past the tolerance
@example(shape=Shape(snapshot=True, churn_share=0.25))
@example(shape=Shape(churn_share=0.0, segments=1))
@example(shape=Shape(churn_share=1.0, zero_arr_share=0.5))
@example(shape=Shape(accounts=30, zero_arr_share=1.0))
@example(shape=Shape(accounts=3000, events_gap_days=3, as_of=_weekend(date(2026, 6, 30))))
def test_any_company_runs_and_reads_true(tmp_path_factory, shape):
    folder = write_company(shape, tmp_path_factory.mktemp("company"))
    texts = render_series(folder, shape.period, folder / "work")
    out = texts.pop("_outputs")
    empty = empty_sections(texts)
    assert not empty, f"{shape}: sections with nothing in them: {empty}"
    untrue = untrue_figures(texts, previous_has_data=not shape.snapshot)
    assert not untrue, f"{shape}:\n" + "\n".join(untrue)
    problems = story_problems(texts, out)  # the story holds too, not only the figures
    assert not problems, f"{shape}:\n" + "\n".join(problems)
    summary = out["summary.json"]
    coverage = summary["coverage"]
    assert coverage["snapshot"] is shape.snapshot, shape
    if shape.snapshot:
        assert any("snapshot" in w for w in summary["warnings"])
        assert summary["previous"]["nrr"] is None and "no data of its own" in summary["previous"]["reason"]
        facts = out["churned_customers.json"]
        assert out["churn_signals.csv"] is None
        assert facts.get("reason") or facts["reasons"]["churn_signals.csv"]
    # Usage from events: computed when they end within the tolerance, missing (never 0) past it.
    quadrants = out["quadrants.csv"]
    if shape.events_gap_days is not None and not shape.snapshot and len(quadrants):
        from_events = quadrants["usage_source"] == "usage_events"
        if shape.events_gap_days <= 7:
            assert from_events.all(), shape
        else:
            assert not from_events.any() and quadrants["usage_score"].isna().all(), shape
            assert any(w.startswith("usage_events ends on") for w in summary["warnings"]), shape
    # Accounts that never paid are churn events nowhere.
    decisions = out["decisions.csv"]
    assert (decisions["arr_before"] > 0).all()
    survival = out["survival.json"]
    never_paid = survival.get("left_out_by_reason", {}).get("never paid", 0)
    if shape.zero_arr_share == 1.0:
        assert survival["reason"] and summary["cohort_accounts"] in (0, None)
    elif not shape.snapshot:
        written = pd.read_csv(folder / "accounts.csv")
        assert never_paid == int((written["arr"] == 0).sum())  # every contract starts before the as-of date
    # Every churn count names its population: the reconciliation table holds each that was counted.
    populations = out["churn_populations.csv"]
    if summary["logo_churn_rate"] is not None:
        cohort = populations.set_index("population").loc["retention cohort"]
        assert cohort["counted"] == summary["cohort_accounts"]
        assert cohort["churned"] == round(summary["logo_churn_rate"] * summary["cohort_accounts"])
