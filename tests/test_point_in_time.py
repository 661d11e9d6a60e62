"""Point-in-time, proven: a loud signal planted on the day of each
decision and the day after it (detractor surveys, a burst of escalated
urgent tickets, a health score of 1, angry touchpoints, a flood of product
events, training and onboarding completed, workflow runs) must change no
feature, comparison, model or warning of any decision.

The signal is planted after each account's last decision of the look-back:
after an earlier decision it would, rightly, be seen by the next one.
Renewals are not planted: they are the decisions themselves.
"""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from vga.run import pipeline
from vga.config import load_config
from vga.load import load_folder, to_inputs
from vga.periods import parse_period

#: Outputs about decisions: none may move.
DECISION_OUTPUTS = ["decisions.csv", "churn_signals.csv", "behaviours.csv", "adoption_by_outcome.csv",
                    "early_warning.csv", "early_warning_decisions.csv", "model_terms.csv", "quadrant_churn.csv"]


def _append_csv(path, rows: pd.DataFrame) -> None:
    old = pd.read_csv(path, dtype=str, keep_default_na=False)
    pd.concat([old, rows.astype(str)], ignore_index=True).to_csv(path, index=False)


def plant_after_decisions(folder, decisions: pd.DataFrame, users: pd.DataFrame) -> int:
    """Write the loud rows into the data folder; returns the accounts planted."""
    last = decisions.sort_values("decision_date").drop_duplicates("account_id", keep="last")
    days = [(r.account_id, pd.Timestamp(r.decision_date) + pd.Timedelta(days=k)) for r in last.itertuples()
            for k in (0, 1)]
    ids = [a for a, _ in days]
    noon = [d + pd.Timedelta(hours=12) for _, d in days]
    iso = [t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in noon]
    dates = [d.strftime("%Y-%m-%d") for _, d in days]
    _append_csv(folder / "surveys.csv", pd.DataFrame({"account_id": ids, "responded_at": iso, "kind": "nps",
                                                      "score": 0, "comment": "", "respondent_id": "planted"}))
    tickets = pd.DataFrame({"ticket_id": [f"PLANTED-{i}-{j}" for i in range(len(ids)) for j in range(5)],
                            "account_id": np.repeat(ids, 5), "opened_at": np.repeat(iso, 5), "closed_at": "",
                            "priority": "urgent", "category": "planted", "escalated": "yes", "csat": 1})
    _append_csv(folder / "support_tickets.csv", tickets)
    _append_csv(folder / "touchpoints.csv", pd.DataFrame({"account_id": ids, "occurred_at": iso, "kind": "call",
                                                          "sentiment": "negative", "csm": ""}))
    _append_csv(folder / "onboarding.csv", pd.DataFrame({"account_id": ids, "milestone": "integration_connected",
                                                         "completed_at": dates, "due_at": ""}))
    _append_csv(folder / "workflow_runs.csv", pd.DataFrame({"account_id": ids, "workflow": "planted",
                                                            "started_at": iso, "completed_at": iso, "last_step": ""}))
    health = pd.read_parquet(folder / "health_scores.parquet")
    extra = pd.DataFrame({c: "" for c in health.columns}, index=range(len(ids)))
    extra["account_id"], extra["as_of"], extra["score"] = ids, dates, "1"
    pd.concat([health, extra], ignore_index=True).to_parquet(folder / "health_scores.parquet", index=False)
    training = pd.read_excel(folder / "training.xlsx", dtype=str).fillna("")
    pd.concat([training, pd.DataFrame({"account_id": ids, "course": "planted", "completed_at": dates,
                                       "user_id": ""})]).to_excel(folder / "training.xlsx", index=False)
    user_of = users.drop_duplicates("account_id").set_index("account_id")["user_id"]
    features = ["automations", "dashboards", "reports", "data_import", "alerts", "sharing"]
    events = pd.DataFrame({
        "timestamp": np.repeat(iso, 60), "account_id": np.repeat(ids, 60),
        "user_id": np.repeat([user_of.get(a, f"planted-{a}") for a in ids], 60), "user_email": "",
        "session_id": np.repeat([f"planted-{i}" for i in range(len(ids))], 60),
        "feature": np.tile(np.repeat(features, 10), len(ids)),
    })
    events.to_parquet(folder / "usage_events" / "planted.parquet", index=False)
    return len(last)


@pytest.mark.slow
def test_nothing_dated_after_a_decision_reaches_it(sample_dir, sample_outputs, sample_inputs, tmp_path):
    folder = tmp_path / "planted"
    shutil.copytree(sample_dir, folder)
    decisions = sample_outputs["decisions.csv"]
    planted = plant_after_decisions(folder, decisions, sample_inputs.table("users"))
    assert planted > 1000
    config = load_config(None, folder)
    loaded = to_inputs(load_folder(folder, config))
    before = sample_inputs.sources.set_index("table")["rows_accepted"]
    after = loaded.sources.set_index("table")["rows_accepted"]
    assert after["surveys"] - before["surveys"] == 2 * planted  # the rows were accepted, not quarantined
    assert after["usage_events"] - before["usage_events"] == 120 * planted
    outputs, _ = pipeline.compute(loaded, parse_period("2026Q3"), config)
    for name in DECISION_OUTPUTS:
        pdt.assert_frame_equal(outputs[name].reset_index(drop=True), sample_outputs[name].reset_index(drop=True),
                               check_exact=True, obj=name)
    v_before, v_after = sample_outputs["model_validation.json"], outputs["model_validation.json"]
    assert v_after == v_before
    # the same loud rows dated before the as-of date do move what is as of the as-of date: the test can see
    scores_before = sample_outputs["renewal_scores.csv"].set_index("account_id")["renewal_probability"]
    scores_after = outputs["renewal_scores.csv"].set_index("account_id")["renewal_probability"]
    assert (scores_after.reindex(scores_before.index) - scores_before).abs().max() > 0.05
