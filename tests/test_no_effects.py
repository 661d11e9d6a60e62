"""Nothing where nothing was planted: on samples drawn with no effect
(``vga sample --no-effects``), the analyses find nothing real.

Every table of tests is controlled at a false discovery rate of 5%
(Benjamini-Hochberg), so under no effect each table flags anything at all
at most one time in twenty, and a run holds about a dozen such tables
(slices, churn signals, behaviours, milestones, early warnings, the two
models' terms, intervention effects, the Cox terms): a chance finding in
some table of a null run is expected now and then (seed 8 shows one:
expanded accounts had slightly lower health 90 days before, q = 0.013).
What a real effect or a biased method looks like, and what is checked
here on two fixed seeds:

- nothing strong: no finding of either run has q below 0.001 (under no
  effect a table reaches that at most one time in a thousand; the
  planted effects of the sample reach it);
- nothing that repeats: no finding appears in both runs (a bias would);
- nothing much: at most two findings in a run;
- and the tests ran: every table tested something, so a broken test that
  tests nothing cannot pass for a clean one.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from vga.run import pipeline
from vga.config import load_config
from vga.load import load_folder, to_inputs
from vga.periods import parse_period
from vga.sample import write_sample

SEEDS = (8, 9)
STRONG_Q = 0.001
TABLES = {  # output -> the columns naming a finding
    "slices.csv": ["dimension", "value"],
    "churn_signals.csv": ["lead_days", "signal"],
    "behaviours.csv": ["comparison", "measure"],
    "milestones.csv": ["milestone"],
    "early_warning.csv": ["signal"],
    "model_terms.csv": ["model", "term"],
    "intervention_effect.csv": ["playbook", "measure"],
}


@pytest.fixture(scope="module")
def null_runs(tmp_path_factory):
    runs = {}
    for seed in SEEDS:
        folder = tmp_path_factory.mktemp(f"null-{seed}")
        truth = write_sample(folder, accounts=1500, seed=seed, effects=False)
        # health_composite is not an effect: it lists the accounts the CS platform does not cover
        assert truth["effects"] is False and set(truth["planted"]) - {"health_composite"} == {"none"}
        config = load_config(None, folder)
        outputs, _ = pipeline.compute(to_inputs(load_folder(folder, config)), parse_period("2026Q3"), config)
        runs[seed] = outputs
    return runs


def findings(outputs) -> list[tuple[str, tuple, float]]:
    """Every flagged result of a run: (table, what, q)."""
    found = []
    for name, keys in TABLES.items():
        table = outputs[name]
        tested = table is not None and len(table) and (table["tested"].any() if "tested" in table.columns else True)
        assert tested, f"{name}: nothing was tested, so nothing could be found"
        for _, row in table[table["flagged"].astype(bool)].iterrows():
            found.append((name, tuple(row[k] for k in keys), float(row["q_value"])))
    survival = outputs["survival.json"]
    assert survival["events"] >= 100 and survival["cox_q_values"]
    found += [("cox.csv", (term,), q) for term, q in survival["cox_q_values"].items() if q < 0.05]
    found += [("survival_tests.csv", (r["dimension"],), r["p_value"])
              for _, r in outputs["survival_tests.csv"].iterrows() if r["p_value"] < 0.01]
    return found


@pytest.mark.slow
def test_samples_without_effects_show_nothing_real(null_runs):
    per_seed = {seed: findings(outputs) for seed, outputs in null_runs.items()}
    for seed, found in per_seed.items():
        strong = [f for f in found if f[2] < STRONG_Q]
        assert not strong, f"seed {seed}: strong findings in a sample with no effect: {strong}"
        assert len(found) <= 2, f"seed {seed}: {len(found)} findings in a sample with no effect: {found}"
    first, second = ({(t, what) for t, what, _ in per_seed[s]} for s in SEEDS)
    assert not first & second, f"the same finding in both samples with no effect: {first & second}"


@pytest.mark.slow
def test_the_usage_decline_is_not_found_where_it_was_not_planted(null_runs):
    for outputs in null_runs.values():
        warnings = outputs["early_warning.csv"].set_index("signal")
        usage = warnings.loc["usage_drop"]
        # fires as often before a renewal as before a churn: no lead to speak of
        assert abs(usage["recall"] - usage["false_alarm_rate"]) < 0.1 and not usage["flagged"]


def test_the_switch_changes_only_the_effects(tmp_path):
    from vga.cli import main

    planted = write_sample(tmp_path / "planted", accounts=200, seed=7)
    assert main(["sample", "--out", str(tmp_path / "none"), "--accounts", "200", "--no-effects"]) == 0
    none = json.loads((tmp_path / "none" / "truth.json").read_text())
    assert planted["effects"] is True and "region" in planted["planted"] and "region" not in none["planted"]
    a = pd.read_csv(tmp_path / "planted" / "accounts.csv", dtype=str)
    b = pd.read_csv(tmp_path / "none" / "accounts.csv", dtype=str)
    # The same company: the same accounts and attributes; only what happens to them differs.
    # (Names are drawn after the outcomes, so they differ: they carry no effect either way.)
    same = ["account_id", "segment", "region", "vertical", "csm", "contract_start"]
    assert a[same].equals(b[same])
    assert json.loads((tmp_path / "none" / "truth.json").read_text())["planted"]["none"]["churn_probability"] == 0.12
