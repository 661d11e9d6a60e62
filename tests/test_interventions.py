"""Step 9, MVP and intervention tracking: colours recomputed from the raw
health scores, the target and transitions, interventions and fixes counted
independently, point-in-time, the association test, and reasons (never
invented colours) when there is no history."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import confint_proportions_2indep

from tests.test_architecture import PACKAGE, _imports
from vga.analysis import interventions as ivx
from vga.run import pipeline
from vga.config import load_config
from vga.inputs import Inputs
from vga.notebook import View
from vga.periods import parse_period
from vga.present import interventions as show
from vga.analysis.retention import arr_at
from vga.nodes import NODES
from vga.present import chapters

STEP = NODES["interventions"]
CHAPTER = chapters()["interventions"]
PERIOD = parse_period("2026Q3")


def _upstream_of(inputs, config, period=PERIOD) -> dict:
    """The quadrant step's outputs (and whatever it needs), one step at a time."""
    outputs, _ = pipeline.compute(inputs, period, config, ["quadrant_view"], workers=1)
    return {o.name: outputs[o.name] for need in STEP.needs for o in NODES[need].outputs}


def _run(inputs, config, period=PERIOD):
    upstream = _upstream_of(inputs, config, period)
    return upstream, STEP.compute(pipeline.context(inputs, period, config), upstream)


@pytest.fixture(scope="module")
def sample_config(sample_dir):
    return load_config(None, sample_dir)


@pytest.fixture(scope="module")
def sample_result(sample_inputs, sample_config):
    return _run(sample_inputs, sample_config)


def _color(score: float) -> str:
    return "" if pd.isna(score) else "red" if score < 50 else "yellow" if score < 70 else "lime" if score < 85 else "green"


def _latest_score(health: pd.DataFrame, day) -> pd.Series:
    rows = health[health["as_of"] <= pd.Timestamp(day)].sort_values("as_of")
    return rows.groupby("account_id")["score"].last()


# --------------------------------------------------------------------------
# The sample


def test_colours_come_from_the_raw_health_scores(sample_inputs, sample_result):
    upstream, _ = sample_result
    table = ivx.with_previous_colors(upstream["quadrants.csv"]).set_index("account_id")
    health = sample_inputs.table("health_scores")
    now, before = _latest_score(health, PERIOD.as_of), _latest_score(health, PERIOD.previous_as_of)
    covered = table.index.intersection(now.index).intersection(before.index)
    assert len(covered) > 0.8 * len(table)
    assert (table.loc[covered, "health_color"] == now[covered].map(_color)).all()
    assert (table.loc[covered, "previous_color"] == before[covered].map(_color)).all()
    assert set(table.loc[covered, "previous_color_source"]) == {"data"}


def test_target_and_transitions_match_an_independent_count(sample_result, sample_config):
    upstream, out = sample_result
    table = ivx.with_previous_colors(upstream["quadrants.csv"])
    cfg = sample_config["interventions"]
    base = table[table["previous_color"].isin(["red", "yellow"])]
    moved = base[base["health_color"].isin(["lime", "green"])]
    t = out["interventions.json"]["target"]
    assert (t["base_accounts"], t["moved"]) == (len(base), len(moved))
    assert t["share"] == pytest.approx(len(moved) / len(base))
    assert t["moved_arr"] == pytest.approx(moved["arr"].sum())
    needed = int(np.ceil(cfg["target_share"] * len(base) - 1e-9))
    assert t["target_accounts"] == needed and t["on_track"] == (len(moved) >= needed)
    assert t["accounts_needed"] == max(0, needed - len(moved))
    counts = pd.crosstab(table["previous_color"], table["health_color"])
    got = out["health_transitions.csv"]
    assert got["accounts"].sum() == len(table) == out["interventions.json"]["active_accounts"]
    for r in got.itertuples():
        assert r.accounts == counts.loc[r.previous_color, r.color]
    assert got["arr"].sum() == pytest.approx(table["arr"].sum())


def test_interventions_by_playbook_and_owner_match_the_raw_table(sample_inputs, sample_result):
    _, out = sample_result
    raw = sample_inputs.table("interventions")
    raw = raw[raw["started_at"] <= pd.Timestamp(PERIOD.as_of)]
    arr = arr_at(sample_inputs.table("accounts"), sample_inputs.table("renewals"), PERIOD.as_of)
    got = out["interventions.csv"].set_index(["playbook", "status"])
    expected = raw.groupby(["playbook", "status"]).agg(n=("account_id", "size"), accounts=("account_id", "nunique"))
    assert len(got) == len(expected)
    for key, row in expected.iterrows():
        assert (got.loc[key, "interventions"], got.loc[key, "accounts"]) == (row["n"], row["accounts"])
        ids = raw.loc[(raw["playbook"] == key[0]) & (raw["status"] == key[1]), "account_id"].unique()
        assert got.loc[key, "arr"] == pytest.approx(arr[ids].sum())
    facts = out["interventions.json"]
    overdue = (raw["status"] == "open") & (raw["target_date"] < pd.Timestamp(PERIOD.as_of))
    assert facts["overdue"] == int(overdue.sum()) == len(facts["overdue_list"])
    assert facts["by_owner"][0]["owner"] == "CS" and facts["by_owner"][0]["interventions"] == len(raw)


def test_fix_loop_matches_the_raw_table(sample_inputs, sample_result):
    _, out = sample_result
    end = pd.Timestamp(PERIOD.as_of) + pd.Timedelta(days=1)
    f = sample_inputs.table("product_fixes")
    f = f[f["raised_at"] < end]
    shipped = f["shipped_at"] < end
    got = out["interventions.json"]["fixes"]
    assert (got["raised"], got["shipped"], got["confirmed"], got["open"]) == (
        len(f), int(shipped.sum()), int((f["confirmed_at"] < end).sum()), int((~shipped).sum()))
    assert got["median_days_to_ship"] == pytest.approx((f["shipped_at"] - f["raised_at"])[shipped].dt.days.median())


def test_sample_presents_after_a_round_trip(sample_result, sample_config, tmp_path):
    _, out = sample_result
    pipeline.write(out, tmp_path, [STEP.key])
    view = View(CHAPTER, PERIOD, sample_config | {"analysis": sample_config["analysis"]},
                {o.name: pipeline.read(tmp_path, o.name) for o in STEP.outputs}, "run")
    html = {name: str(getattr(show, name)(view) or "") for name in
            ("target", "transitions", "playbooks", "owners", "outcomes", "fixes", "findings")}
    assert html["target"].count("<img") == 1 and html["transitions"].count("<img") == 1
    assert html["playbooks"].count("<img") == 1 and "health recovery" in html["playbooks"]  # in words
    assert "association, not an effect" in html["outcomes"]
    assert "on track" in html["findings"] or "behind" in html["findings"]


# --------------------------------------------------------------------------
# Hand-made cases


def test_outcome_association_against_statsmodels():
    n_with, n_without = 20, 40
    table = pd.DataFrame({
        "account_id": [f"a{i}" for i in range(n_with + n_without + 5)],
        "previous_color": ["red"] * (n_with + n_without) + ["yellow"] * 5,
        "health_color": ["yellow"] * 8 + ["red"] * 12 + ["yellow"] * 6 + ["red"] * 34 + ["lime"] * 5,
    })
    iv = pd.DataFrame({"account_id": [f"a{i}" for i in range(n_with)] + ["a62"],
                       "started_at": pd.to_datetime(["2026-01-15"] * n_with + ["2026-02-01"])})
    iv.loc[0, "started_at"] = pd.Timestamp("2025-01-01")  # before the window: a0 counts as without
    got = ivx.outcome_association(table, iv, PERIOD.window_start, PERIOD.as_of, min_accounts=10).set_index("previous_color")
    red = got.loc["red"]
    assert (red["with_intervention"], red["with_moved_up"]) == (19, 7)
    assert (red["without_intervention"], red["without_moved_up"]) == (41, 7)
    low, high = confint_proportions_2indep(7, 19, 7, 41, method="newcomb", compare="diff")
    assert (red["ci_lower"], red["ci_upper"]) == pytest.approx((low, high))
    assert red["difference"] == pytest.approx(7 / 19 - 7 / 41)
    assert not got.loc["yellow", "tested"] and np.isnan(got.loc["yellow", "ci_lower"])  # 1 with, 4 without
    assert "green" not in got.index  # green cannot move up


def _frames(later: bool = False) -> dict:
    ts = pd.to_datetime
    accounts = pd.DataFrame({"account_id": ["A1", "A2", "A3"], "arr": [100.0, 200.0, 300.0],
                             "health_score": [80.0, 40.0, 90.0], "usage_score": [60.0, 60.0, 60.0]})
    interventions = pd.DataFrame({
        "account_id": ["A1", "A2", "A2"], "started_at": ts(["2026-04-01", "2026-05-01", "2026-08-01"]),
        "playbook": ["health_recovery", "adoption_push", "adoption_push"], "owner": ["CS", None, "CS"],
        "objective": ["", "", ""], "target_date": ts(["2026-06-01", "2026-12-01", "2026-09-01"]),
        "status": ["open", "achieved", "open"]})
    fixes = pd.DataFrame({"fix_id": ["F1", "F2"], "account_id": ["A1", "A2"],
                          "raised_at": ts(["2026-01-01", "2026-03-01"]), "shipped_at": ts(["2026-01-31", None]),
                          "confirmed_at": ts([None, None])})
    if later:
        interventions = pd.concat([interventions, pd.DataFrame({
            "account_id": ["A3"], "started_at": ts(["2026-07-15"]), "playbook": ["executive_alignment"],
            "owner": ["Sales"], "objective": [""], "target_date": ts(["2026-08-01"]), "status": ["open"]})],
            ignore_index=True)
        fixes.loc[1, "shipped_at"] = ts("2026-07-10")
        fixes.loc[0, "confirmed_at"] = ts("2026-07-20")
    return {"accounts": accounts, "interventions": interventions, "product_fixes": fixes}


def _upstream(previous=("lime", "red", "")):
    quadrants = pd.DataFrame({"account_id": ["A1", "A2", "A3"], "arr": [100.0, 200.0, 300.0],
                              "health_color": ["lime", "red", "green"], "previous_health_color": list(previous)})
    return {"quadrants.csv": quadrants,
            "quadrant_view.json": {"covered": True, "reason": None, "previous_period": "2026Q1"}}


SETTINGS = {"analysis": load_config()["analysis"], "interventions": load_config()["interventions"]}
JUNE = parse_period("2026-06-30")


def test_small_company_by_hand():
    out = STEP.compute(pipeline.context(Inputs.from_frames(**_frames()), JUNE, SETTINGS), _upstream())
    facts = out["interventions.json"]
    assert facts["interventions_total"] == 2 and facts["overdue"] == 1  # A1's target 2026-06-01 has passed
    assert facts["overdue_list"][0]["account_id"] == "A1"
    table = out["interventions.csv"]
    assert list(zip(table["playbook"], table["status"], table["interventions"])) == [
        ("adoption_push", "achieved", 1), ("health_recovery", "open", 1)]
    owners = {o["owner"]: o["interventions"] for o in facts["by_owner"]}
    assert owners == {"CS": 1, "not recorded": 1}
    t = facts["target"]
    assert (t["base_accounts"], t["moved"], t["on_track"], t["accounts_needed"]) == (1, 0, False, 1)
    f = facts["fixes"]
    assert (f["raised"], f["shipped"], f["open"], f["median_days_to_ship"]) == (2, 1, 1, 30.0)


def _same(a: dict, b: dict) -> bool:
    """Equal, NaN included (NaN != NaN in a plain comparison)."""
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


def test_rows_after_the_as_of_date_change_nothing():
    before = STEP.compute(pipeline.context(Inputs.from_frames(**_frames()), JUNE, SETTINGS), _upstream())
    after = STEP.compute(pipeline.context(Inputs.from_frames(**_frames(later=True)), JUNE, SETTINGS), _upstream())
    assert _same(before["interventions.json"], after["interventions.json"])
    pd.testing.assert_frame_equal(before["interventions.csv"], after["interventions.csv"])
    later = STEP.compute(pipeline.context(Inputs.from_frames(**_frames(later=True)), parse_period("2026-09-30"), SETTINGS), _upstream())
    assert later["interventions.json"]["interventions_total"] == 4
    assert later["interventions.json"]["fixes"]["confirmed"] == 1


@pytest.fixture(scope="module")
def minimal_inputs(minimal_dir):
    from vga.load import load_folder, to_inputs

    return to_inputs(load_folder(minimal_dir))


def test_no_history_gives_a_reason_not_a_colour(minimal_inputs, tmp_path):
    config = load_config()
    upstream, out = _run(minimal_inputs, config)
    facts = out["interventions.json"]
    assert "target" not in facts and "no health colour is known" in facts["reasons"]["target"]
    assert out["health_transitions.csv"] is None and out["interventions.csv"] is None
    assert "interventions.csv" in facts["reasons"]["interventions"] and "product_fixes" in facts["reasons"]["fixes"]
    pipeline.write(out, tmp_path, [STEP.key])
    view = View(CHAPTER, PERIOD, config,
                {o.name: pipeline.read(tmp_path, o.name) for o in STEP.outputs}, "run")
    for name in ("target", "transitions", "playbooks", "owners", "outcomes", "fixes", "findings"):
        html = str(getattr(show, name)(view) or "")
        assert "vga-note" in html or "vga-finding" in html, name
    assert "no health colour is known" in str(show.target(view))


def test_previous_run_colours_fill_in_when_the_data_has_no_history(minimal_inputs):
    config = load_config()
    upstream = _upstream_of(minimal_inputs, config)
    quadrants = upstream["quadrants.csv"]
    previous = quadrants[["account_id", "quadrant"]].assign(health_color="red")
    with_run = dataclasses.replace(minimal_inputs, previous_quadrants=previous)
    out = STEP.compute(pipeline.context(with_run, PERIOD, config), upstream)
    facts = out["interventions.json"]
    assert facts["previous_color_source"] == {"previous run": len(quadrants)}
    moved = quadrants["health_color"].isin(["lime", "green"]).sum()
    assert (facts["target"]["base_accounts"], facts["target"]["moved"]) == (len(quadrants), moved)


def test_interventions_module_imports_no_outer_layer():
    for name in ("analysis/interventions.py", "nodes/interventions.py"):
        assert not {m for m in _imports(PACKAGE / name) if m.split(".")[0] in ("load", "run", "present", "notebook", "cli")}, name
