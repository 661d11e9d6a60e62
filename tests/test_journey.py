"""Step 10, the journey map: figures recomputed from the raw tables, the
planted onboarding milestone found (and no other), point-in-time, and
visible reasons when tables are missing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import fisher_exact
from statsmodels.stats.multitest import multipletests

from tests.test_architecture import PACKAGE, _imports
from vga.run import pipeline
from vga.config import load_config
from vga.inputs import Inputs
from vga.notebook import View
from vga.periods import parse_period
from vga.present import journey_map as show
from vga.analysis.retention import arr_at
from vga.nodes import NODES
from vga.present import chapters

STEP = NODES["journey_map"]
CHAPTER = chapters()["journey_map"]
PERIOD = parse_period("2026Q3")


def _settings(config):
    return config


@pytest.fixture(scope="module")
def sample_config(sample_dir):
    return load_config(None, sample_dir)


@pytest.fixture(scope="module")
def journey(sample_inputs, sample_config):
    return STEP.compute(pipeline.context(sample_inputs, PERIOD, _settings(sample_config)), {})


def _end(day) -> pd.Timestamp:
    return pd.Timestamp(day) + pd.Timedelta(days=1)


def _journey_ids(inputs, period) -> set:
    """Accounts started by as-of and active in the window, recomputed."""
    accounts, renewals = inputs.table("accounts"), inputs.table("renewals")
    start, end = arr_at(accounts, renewals, period.window_start), arr_at(accounts, renewals, period.as_of)
    dates = renewals["renewal_date"]
    touched = set(renewals.loc[(dates > pd.Timestamp(period.window_start)) & (dates < _end(period.as_of)), "account_id"])
    ids = {a for a in accounts["account_id"] if start[a] > 0 or end[a] > 0 or a in touched}
    started = accounts.set_index("account_id")["contract_start"]
    return {a for a in ids if pd.isna(started[a]) or started[a] < _end(period.as_of)}


# --------------------------------------------------------------------------
# The sample: independent recomputation and the planted milestone


def test_milestone_churn_matches_an_independent_computation(sample_inputs, journey, sample_config):
    renewals, onboarding = sample_inputs.table("renewals"), sample_inputs.table("onboarding")
    months = sample_config["analysis"]["churn_lookback_months"]
    lookback = pd.Timestamp(PERIOD.as_of) - pd.DateOffset(months=months)
    d = renewals[(renewals["renewal_date"] > lookback) & (renewals["renewal_date"] < _end(PERIOD.as_of))
                 & (renewals["arr_before"] > 0)].copy()
    rank = {"churned": 0, "downgraded": 1, "renewed": 2, "expanded": 3}
    d["rank"] = np.select([d["arr_after"] == 0, d["arr_after"] < d["arr_before"], d["arr_after"] > d["arr_before"]],
                          [0, 1, 3], 2)
    worst = d.groupby("account_id")["rank"].min()
    d = d[d["rank"] == d["account_id"].map(worst)]
    day = d.groupby("account_id")["renewal_date"].min()
    churned = worst == rank["churned"]
    got = journey["milestones.csv"].set_index("milestone")
    expected_p = {}
    for milestone, rows in onboarding.groupby("milestone"):
        rows = rows[rows["account_id"].isin(day.index)]
        by = rows["account_id"].map(day) + pd.Timedelta(days=1)
        rows = rows.assign(done=rows["completed_at"] < by,
                           due=rows["due_at"].isna() | (rows["due_at"] < by))
        per = rows.groupby("account_id")[["done", "due"]].any()
        per = per[per["done"] | per["due"]]
        c = churned.reindex(per.index)
        a, b = int(c[~per["done"]].sum()), int((~per["done"]).sum())
        e, f = int(c[per["done"]].sum()), int(per["done"].sum())
        row = got.loc[milestone]
        assert (row["churned_not_completed"], row["decided_not_completed"]) == (a, b)
        assert (row["churned_completed"], row["decided_completed"]) == (e, f)
        assert row["churn_rate_not_completed"] == pytest.approx(a / b)
        expected_p[milestone] = fisher_exact([[a, b - a], [e, f - e]])[1]
        assert row["p_value"] == pytest.approx(expected_p[milestone], rel=1e-12)
    names = list(expected_p)
    q = multipletests([expected_p[m] for m in names], method="fdr_bh")[1]
    assert np.allclose(got.loc[names, "q_value"], q, rtol=1e-12)


def test_milestone_completion_matches_the_raw_onboarding(sample_inputs, journey):
    ids = _journey_ids(sample_inputs, PERIOD)
    o = sample_inputs.table("onboarding")
    o = o[o["account_id"].isin(ids)]
    end = _end(PERIOD.as_of)
    o = o.assign(done=o["completed_at"] < end, due=o["due_at"].isna() | (o["due_at"] < end))
    got = journey["milestones.csv"].set_index("milestone")
    for milestone, rows in o.groupby("milestone"):
        per = rows.groupby("account_id").agg(done=("done", "any"), due=("due", "any"),
                                             completed_at=("completed_at", "min"), due_at=("due_at", "min"))
        per = per[per["done"] | per["due"]]
        late = np.where(per["done"], per["completed_at"] > per["due_at"], per["due_at"] < pd.Timestamp(PERIOD.as_of))
        assert got.loc[milestone, "accounts"] == len(per)
        assert got.loc[milestone, "completed"] == int(per["done"].sum())
        assert got.loc[milestone, "late"] == int(late.sum())
    # journey order: by the due date's offset from contract start
    assert list(got.index) == ["kickoff_held", "admin_setup", "integration_connected", "first_dashboard"]


def test_the_planted_milestone_is_flagged_and_no_other(journey, truth):
    planted = truth["planted"]["onboarding_milestone"]["milestone"]
    table = journey["milestones.csv"].set_index("milestone")
    assert table["tested"].all()
    assert list(table.index[table["flagged"]]) == [planted]
    row = table.loc[planted]
    assert row["churn_rate_not_completed"] > 1.25 * row["churn_rate_completed"]
    others = table.drop(index=planted)
    assert (others["q_value"] > 0.2).all(), others[["p_value", "q_value"]]
    facts = journey["journey_map.json"]
    assert facts["onboarding"]["flagged"] == [planted]
    stages = journey["journey_stages.csv"]
    assert planted.replace("_", " ") in " ".join(stages.loc[stages["stage"] == "Onboarding", "detail"])  # in words


def test_first_value_matches_the_raw_events(sample_inputs, journey, sample_config):
    value = sample_config["usage"]["value_events"]
    events = sample_inputs.events.table()
    first_day = events.timestamp.min().to_pandas().normalize()
    hits = events.filter(events.feature.isin(value))[["account_id", "timestamp"]].to_pandas()
    accounts = sample_inputs.table("accounts")
    ids = _journey_ids(sample_inputs, PERIOD)
    starts = accounts[accounts["account_id"].isin(ids)].set_index("account_id")["contract_start"].dropna()
    starts = starts[(starts >= first_day) & (starts < _end(PERIOD.as_of))]
    hits = hits[hits["account_id"].isin(starts.index) & (hits["timestamp"] < _end(PERIOD.as_of))]
    hits = hits[hits["timestamp"] >= hits["account_id"].map(starts)]
    first = hits.groupby("account_id")["timestamp"].min().dt.normalize()
    days = (first.reindex(starts.index) - starts).dt.days
    fv = journey["journey_map.json"]["first_value"]
    assert fv["accounts"] == len(starts) and fv["reached"] == int(days.notna().sum())
    assert fv["median_days"] == pytest.approx(days.median())
    in_90 = (pd.Timestamp(PERIOD.as_of) - starts).dt.days >= 90
    missed = days[in_90].isna() | (days[in_90] >= 90)
    assert fv["accounts_90_days_in"] == int(in_90.sum())
    assert fv["no_value_in_90_days_share"] == pytest.approx(missed.mean())
    assert sum(b["accounts"] for b in fv["distribution"]) == len(starts)


def test_adoption_support_and_renewal_match_the_raw_tables(sample_inputs, journey):
    facts = journey["journey_map.json"]
    ids = _journey_ids(sample_inputs, PERIOD)
    end = _end(PERIOD.as_of)
    # workflow runs started in the window, not completed by the as-of date
    runs = sample_inputs.table("workflow_runs")
    runs = runs[runs["account_id"].isin(ids) & (runs["started_at"] >= _end(PERIOD.window_start))
                & (runs["started_at"] < end)]
    open_runs = runs["completed_at"].isna() | (runs["completed_at"] >= end)
    wf = facts["adoption"]["workflows"]
    assert wf["runs"] == len(runs) and wf["abandoned"] == int(open_runs.sum())
    assert wf["worst_step"] == runs.loc[open_runs, "last_step"].value_counts().idxmax() == "map_fields"
    # tickets in days 0-89 and 90-179 of the contract
    tickets = sample_inputs.table("support_tickets")
    accounts = sample_inputs.table("accounts").set_index("account_id")
    starts = accounts.loc[sorted(ids), "contract_start"].dropna()
    starts = starts[(starts >= tickets["opened_at"].min().normalize())
                    & (starts <= pd.Timestamp(PERIOD.as_of) - pd.Timedelta(days=180))]
    t = tickets[tickets["account_id"].isin(starts.index) & (tickets["opened_at"] < end)]
    day = (t["opened_at"].dt.normalize() - t["account_id"].map(starts)).dt.days
    sp = facts["support"]
    assert sp["accounts"] == len(starts)
    assert sp["tickets_first_90_days"] == int(day.between(0, 89).sum())
    assert sp["tickets_days_90_179"] == int(day.between(90, 179).sum())
    # renewal decisions in the window by outcome
    r = sample_inputs.table("renewals")
    r = r[(r["renewal_date"] > pd.Timestamp(PERIOD.window_start)) & (r["renewal_date"] < end) & (r["arr_before"] > 0)]
    rn = facts["renewal"]
    assert rn["decisions"] == len(r)
    assert rn["by_outcome"]["churned"] == int((r["arr_after"] == 0).sum())
    assert rn["by_outcome"]["expanded"] == int((r["arr_after"] > r["arr_before"]).sum())
    assert rn["churned_share"] == pytest.approx((r["arr_after"] == 0).mean())


def test_stage_rows_have_one_main_measure_per_stage_in_order(journey):
    stages = journey["journey_stages.csv"]
    main = stages[stages["main"]]
    assert list(main["stage"]) == ["Onboarding", "First value", "Adoption", "Support", "Renewal"]
    assert main["value"].notna().all() and set(main["severity"]) <= {"low", "medium", "high"}
    assert list(stages.columns[:5]) == ["stage", "measure", "value", "accounts", "detail"]


# --------------------------------------------------------------------------
# Point-in-time, on a hand-made company


AS_OF = parse_period("2026-06-30")


def small_frames(later: bool = False) -> dict:
    """Four accounts, as of 2026-06-30; ``later`` adds or completes rows after it."""
    ts = pd.to_datetime
    accounts = pd.DataFrame({"account_id": ["A1", "A2", "A3", "A4"], "arr": [100.0, 200.0, 300.0, 50.0],
                             "contract_start": ts(["2026-01-01", "2026-02-01", "2020-01-01", "2020-01-01"])})
    renewals = pd.DataFrame({"account_id": ["A3", "A4"], "renewal_date": ts(["2025-10-01", "2026-03-01"]),
                             "arr_before": [300.0, 50.0], "arr_after": [300.0, 0.0]})
    onboarding = pd.DataFrame({
        "account_id": ["A1", "A2", "A2", "A4"],
        "milestone": ["integration_connected", "integration_connected", "kickoff_held", "integration_connected"],
        "completed_at": ts(["2026-01-20", None, "2026-02-03", None]),
        "due_at": ts(["2026-02-01", "2026-03-01", "2026-02-10", "2020-03-01"])})
    events = pd.DataFrame({
        "timestamp": ts(["2025-12-01 10:00", "2026-01-06 09:00", "2026-02-10 09:00", "2026-06-01 09:00"]),
        "account_id": ["A3", "A1", "A2", "A1"], "user_id": ["u3", "u1", "u2", "u1"],
        "session_id": ["s1", "s2", "s3", "s4"], "feature": ["dashboards", "sharing", "dashboards", "reports"]})
    tickets = pd.DataFrame({"ticket_id": ["T0", "T1", "T2"], "account_id": ["A3", "A1", "A1"],
                            "opened_at": ts(["2025-11-01 12:00", "2026-01-10 12:00", "2026-04-15 12:00"])})
    runs = pd.DataFrame({"account_id": ["A1", "A2"], "workflow": ["publish", "publish"],
                         "started_at": ts(["2026-03-01 10:00", "2026-03-05 10:00"]),
                         "completed_at": ts(["2026-03-02 10:00", None]), "last_step": ["done", "map_fields"]})
    if later:
        renewals = pd.concat([renewals, pd.DataFrame({"account_id": ["A3"], "renewal_date": ts(["2026-08-01"]),
                                                      "arr_before": [300.0], "arr_after": [0.0]})], ignore_index=True)
        onboarding.loc[1, "completed_at"] = ts("2026-07-05")
        events = pd.concat([events, pd.DataFrame({"timestamp": ts(["2026-07-10 09:00"]), "account_id": ["A2"],
                                                  "user_id": ["u2"], "session_id": ["s9"], "feature": ["sharing"]})],
                           ignore_index=True)
        tickets = pd.concat([tickets, pd.DataFrame({"ticket_id": ["T3"], "account_id": ["A1"],
                                                    "opened_at": ts(["2026-07-15 12:00"])})], ignore_index=True)
        runs.loc[1, "completed_at"] = ts("2026-07-02 10:00")
    return {"accounts": accounts, "renewals": renewals, "onboarding": onboarding, "usage_events": events,
            "support_tickets": tickets, "workflow_runs": runs}


SMALL_SETTINGS = {"analysis": load_config()["analysis"] | {"min_accounts": 1},
                  "usage": load_config()["usage"] | {"value_events": ["sharing"],
                                                     "core_features": ["dashboards", "reports", "sharing"]}}


def test_small_company_by_hand():
    out = STEP.compute(pipeline.context(Inputs.from_frames(**small_frames()), AS_OF, SMALL_SETTINGS), {})
    facts = out["journey_map.json"]
    assert facts["accounts"] == 4  # A4 churned in the window: it had a decision
    fv = facts["first_value"]
    assert (fv["accounts"], fv["reached"], fv["median_days"]) == (2, 1, 5.0)  # A1 on day 5; A2 never
    assert fv["no_value_in_90_days_share"] == 0.5
    wf = facts["adoption"]["workflows"]
    assert (wf["runs"], wf["abandoned"], wf["worst_step"]) == (2, 1, "map_fields")
    sp = facts["support"]
    assert (sp["accounts"], sp["tickets_first_90_days"], sp["tickets_days_90_179"]) == (1, 1, 1)  # A1 only
    assert facts["renewal"]["by_outcome"] == {"renewed": 1, "expanded": 0, "downgraded": 0, "churned": 1}
    m = out["milestones.csv"].set_index("milestone")
    assert (m.loc["integration_connected", "accounts"], m.loc["integration_connected", "completed"]) == (3, 1)
    assert m.loc["integration_connected", "late"] == 2  # A2 and A4: not completed, due before the as-of date
    # decisions: A3 renewed (no row), A4 churned without the milestone
    assert (m.loc["integration_connected", "decided_not_completed"],
            m.loc["integration_connected", "churned_not_completed"]) == (1, 1)
    assert m.loc["integration_connected", "decided_completed"] == 0


def test_rows_after_the_as_of_date_change_nothing():
    before = STEP.compute(pipeline.context(Inputs.from_frames(**small_frames()), AS_OF, SMALL_SETTINGS), {})
    after = STEP.compute(pipeline.context(Inputs.from_frames(**small_frames(later=True)), AS_OF, SMALL_SETTINGS), {})
    assert before["journey_map.json"] == after["journey_map.json"]
    pd.testing.assert_frame_equal(before["journey_stages.csv"], after["journey_stages.csv"])
    pd.testing.assert_frame_equal(before["milestones.csv"], after["milestones.csv"])
    # and the later rows do count for a later date
    later = STEP.compute(pipeline.context(Inputs.from_frames(**small_frames(later=True)), parse_period("2026-09-30"), SMALL_SETTINGS), {})
    assert later["journey_map.json"]["first_value"]["reached"] == 2


# --------------------------------------------------------------------------
# Missing tables: reasons, not exceptions; every section presents


@pytest.fixture(scope="module")
def minimal_inputs(minimal_dir):
    from vga.load import load_folder, to_inputs

    return to_inputs(load_folder(minimal_dir))


def _round_trip(outputs, tmp_path, settings):
    pipeline.write(outputs, tmp_path, [STEP.key])
    read = {o.name: pipeline.read(tmp_path, o.name) for o in STEP.outputs}
    return View(CHAPTER, PERIOD, settings, read, "run")


PRESENTERS = ["journey", "stages", "milestones", "first_value", "adoption", "support_and_renewal", "findings"]


def test_minimal_data_gives_visible_reasons(minimal_inputs, tmp_path):
    settings = _settings(load_config())
    out = STEP.compute(pipeline.context(minimal_inputs, PERIOD, settings), {})
    assert out["milestones.csv"] is None
    stages = out["journey_stages.csv"]
    main = stages[stages["main"]].set_index("stage")
    for stage, table in [("Onboarding", "onboarding"), ("First value", "usage events"), ("Adoption", "workflow_runs"),
                         ("Support", "support_tickets")]:
        assert main.loc[stage, "severity"] == "unknown" and table in main.loc[stage, "detail"], stage
    assert main.loc["Renewal", "severity"] != "unknown"  # renewals are there
    view = _round_trip(out, tmp_path, settings)
    html = {name: str(getattr(show, name)(view) or "") for name in PRESENTERS}
    assert "onboarding.csv" in html["milestones"] and "vga-skip" in html["milestones"]
    assert "usage events" in html["first_value"] and "workflow_runs" in html["adoption"]
    assert "<img" in html["journey"] and html["journey"].count("no data") >= 4  # grey boxes, named in the alt text


def test_sample_presents_after_a_round_trip(journey, sample_config, tmp_path):
    view = _round_trip(journey, tmp_path, _settings(sample_config))
    html = {name: str(getattr(show, name)(view) or "") for name in PRESENTERS}
    assert html["journey"].count("<img") == 1 and html["milestones"].count("<img") == 1
    assert "integration connected" in html["milestones"] and "integration connected" in html["findings"]  # in words
    assert "vga-finding" in html["findings"]
    assert "<script>" not in "".join(html.values())


def test_a_period_past_the_data_gives_the_reason(sample_inputs, sample_config):
    far = parse_period("2027Q4")
    out = STEP.compute(pipeline.context(sample_inputs, far, _settings(sample_config)), {})
    assert out["milestones.csv"] is None and not out["journey_map.json"]["covered"]
    assert out["journey_stages.csv"]["value"].isna().all()


def test_journey_module_imports_no_outer_layer():
    for name in ("analysis/journey.py", "nodes/journey_map.py"):
        assert not {m for m in _imports(PACKAGE / name) if m.split(".")[0] in ("load", "run", "present", "notebook", "cli")}, name

