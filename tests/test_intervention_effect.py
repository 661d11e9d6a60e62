"""The intervention effect (difference in differences with matched
controls): a planted lift recovered, nothing where nothing was planted, the
matching rules, and small playbooks shown untested; core-feature adoption
by outcome against a plain recount."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from vga.analysis import interventions as ivx
from vga.analysis.adoption import adoption_by_outcome

AS_OF = date(2026, 9, 30)


def _company(lift: float, seed: int = 0, accounts: int = 240, treated: int = 60):
    """Scores at month ends for ``accounts`` accounts drifting at random; the
    first ``treated`` get a playbook on 2026-03-10, and their health rises by
    ``lift`` from then on."""
    rng = np.random.default_rng(seed)
    days = ivx.score_grid_days(pd.DataFrame({"started_at": ["2025-11-15"]}), AS_OF)
    ids = [f"a{i:03d}" for i in range(accounts)]
    level = rng.uniform(20, 80, accounts)
    rows = []
    for k, day in enumerate(days):
        for i, a in enumerate(ids):
            health = level[i] + rng.normal(0, 4) + (lift if i < treated and pd.Timestamp(day) > pd.Timestamp("2026-03-10") else 0)
            rows.append({"account_id": a, "day": pd.Timestamp(day), "health_score": health,
                         "usage_score": level[i] / 2 + rng.normal(0, 4), "active": True})
    interventions = pd.DataFrame({"account_id": ids[:treated], "started_at": pd.Timestamp("2026-03-10"),
                                  "playbook": ["rescue" if i % 2 else "adopt" for i in range(treated)]})
    return interventions, pd.DataFrame(rows)


def test_a_planted_lift_is_recovered():
    interventions, scores = _company(lift=10.0)
    table = ivx.intervention_effect(interventions, scores, AS_OF).set_index(["playbook", "measure"])
    for playbook in ("adopt", "rescue", "all playbooks"):
        row = table.loc[(playbook, "health score")]
        assert row["tested"] and row["flagged"] and row["ci_lower"] < 10 < row["ci_upper"]
        assert row["effect"] == pytest.approx(10, abs=2.5)
        assert not table.loc[(playbook, "usage score"), "flagged"]  # the lift was in health only
    assert table.loc[("all playbooks", "health score"), "treated"] == 60


def test_nothing_is_found_where_nothing_was_planted():
    for seed in (1, 2, 3):
        interventions, scores = _company(lift=0.0, seed=seed)
        table = ivx.intervention_effect(interventions, scores, AS_OF)
        assert table["tested"].all() and not table["flagged"].any()


def test_before_after_and_the_matches_follow_the_rules():
    days = [pd.Timestamp(d) for d in ("2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30", "2026-05-31", "2026-06-30")]
    health = {"t": [40, 40, 40, 40, 40, 60], "near": [41, 41, 41, 41, 41, 45], "far": [90, 90, 90, 90, 90, 10],
              "busy": [40, 40, 40, 40, 40, 0], "also": [39, 39, 39, 39, 39, 43], "third": [42, 42, 42, 42, 42, 46]}
    scores = pd.DataFrame([{"account_id": a, "day": d, "health_score": float(v), "usage_score": 50.0, "active": True}
                           for a, values in health.items() for d, v in zip(days, values)])
    iv = pd.DataFrame({"account_id": ["t", "busy"], "started_at": pd.to_datetime(["2026-03-05", "2026-02-01"]),
                       "playbook": "p"})
    table = ivx.intervention_effect(iv, scores, date(2026, 6, 30), min_n=1)
    row = table[(table["playbook"] == "p") & (table["measure"] == "health score")].iloc[0]
    # t: before 2026-02-28 (the last month end before its start), after 2026-06-30 (the first 90+ days later);
    # busy had an intervention of its own then and far is not near: t's matches are also, near and third
    # (+4 each against t's +20: 16). busy: 2026-01-31 to 2026-05-31, t excluded from its pool (it started
    # in between): also, near, third again (no change against busy's none: 0).
    assert row["treated"] == 2 and row["controls"] == 3
    assert row["effect"] == pytest.approx(8.0)
    assert (row["treated_before"], row["treated_after"]) == (pytest.approx(40.0), pytest.approx(50.0))
    assert row["controls_before"] == pytest.approx((39 + 41 + 42) / 3)
    assert row["controls_after"] == pytest.approx(((43 + 45 + 46) / 3 + (39 + 41 + 42) / 3) / 2)
    assert len(table) == 2  # one playbook: no "all playbooks" rows


def test_a_playbook_with_few_accounts_is_shown_not_tested():
    interventions, scores = _company(lift=10.0, treated=6)
    table = ivx.intervention_effect(interventions, scores, AS_OF)
    assert len(table) and not table["tested"].any() and table["p_value"].isna().all()
    assert (table.loc[table["playbook"] == "adopt", "treated"] == 3).all()


def test_adoption_by_outcome_matches_a_recount():
    rng = np.random.default_rng(6)
    frame = pd.DataFrame({"lead_days": np.repeat([90, 60, 30], 200), "outcome": rng.choice(
        ["renewed", "expanded", "downgraded", "churned"], 600, p=[0.6, 0.2, 0.02, 0.18]),
        "core_adoption": rng.random(600), "uses_reports": rng.random(600) < 0.5})
    frame.loc[5, "core_adoption"] = np.nan  # not covered by the events: left out
    table = adoption_by_outcome(frame, ["reports"], min_n=10).set_index(["lead_days", "outcome", "measure"])
    part = frame[(frame["lead_days"] == 90) & (frame["outcome"] == "renewed")]
    row = table.loc[(90, "renewed", "core_adoption")]
    assert row["decisions"] == part["core_adoption"].notna().sum()
    assert row["value"] == pytest.approx(part["core_adoption"].mean())
    assert row["ci_lower"] < row["value"] < row["ci_upper"]
    share = table.loc[(90, "renewed", "uses_reports")]
    assert share["value"] == pytest.approx(part["uses_reports"].mean())
    small = table.loc[(90, "downgraded", "core_adoption")]
    assert small["small"] and np.isnan(small["ci_lower"])  # a handful of decisions: no interval
